"""Stored files that both the public site and the staff area serve: acts and winners' photos."""

from __future__ import annotations

from flask import Response, request

from portal.campaign import winners as winner_rules
from portal.models import Winner
from portal.models.acts import Act
from portal.services import uploads


def act_response(act: Act) -> Response:
    """The act's PDF as issued, as a download named by its number (never cached)."""
    response = Response(act.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="act-{act.number.replace("/", "-")}.pdf"'
    )
    response.headers["ETag"] = act.sha256
    response.headers["Cache-Control"] = "no-store"
    return response


def photo_response(winner: Winner) -> Response:
    """The winner's photo, its digest checked on the way out."""
    data = uploads.open_stored(winner_rules.photo_storage(), winner.photo_path, winner.photo_sha256)
    response = Response(data, mimetype=winner.photo_type or "application/octet-stream")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.set_etag(winner.photo_sha256)
    return response.make_conditional(request)
