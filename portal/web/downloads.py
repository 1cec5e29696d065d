"""Downloads both the public site and the staff area serve."""

from __future__ import annotations

from flask import Response

from portal.models.acts import Act


def act_response(act: Act) -> Response:
    """The act's PDF as issued, as a download named by its number (never cached)."""
    response = Response(act.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="act-{act.number.replace("/", "-")}.pdf"'
    )
    response.headers["ETag"] = act.sha256
    response.headers["Cache-Control"] = "no-store"
    return response
