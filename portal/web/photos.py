"""A winner's photo as a response: the public month page and the staff winner page serve it alike."""

from __future__ import annotations

from flask import Response, request

from portal.campaign import winners as winner_rules
from portal.models import Winner
from portal.services import uploads


def photo_response(winner: Winner) -> Response:
    """The winner's photo, its digest checked on the way out."""
    data = uploads.open_stored(winner_rules.photo_folder(), winner.photo_path, winner.photo_sha256)
    response = Response(data, mimetype=winner.photo_type or "application/octet-stream")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.set_etag(winner.photo_sha256)
    return response.make_conditional(request)
