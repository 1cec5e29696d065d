"""A draw's public record: the page, and the files anyone can check it with."""

from __future__ import annotations

import json

from flask import Response, abort, g, render_template

from portal.campaign import draws as draw_rules
from portal.campaign import winners as winner_rules
from portal.campaign.periods import CAMPAIGN_TZ
from portal.models import Draw, DrawFile, db
from portal.public import bp
from portal.services.randomorg import RANDOM_ORG_KEY_SHA256, key_fingerprint

RANDOM_ORG_VERIFY_FORM = "https://api.random.org/signatures/form"


def _draw(draw_id: int) -> Draw:
    return db.session.get(Draw, draw_id) or abort(404)


def _download(content: bytes | str, mimetype: str, filename: str, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(
        content,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "Cache-Control": "public, max-age=3600",
        },
    )


@bp.get("/draws/<id:draw_id>")
def draw(draw_id: int):
    """Everything about a draw but personal data, its stored verification, and how to redo it."""
    record = _draw(draw_id)
    # the verdict kept when the draw was made (or last verified by staff): the page never
    # loads the pool file, so it serves in the same time whatever the pool's size
    stored = draw_rules.stored_verdict(record)
    return render_template(
        "public/draw.html",
        draw=record,
        chain=draw_rules.chain(record),
        checks=draw_rules.stored_checks(stored),
        verdict=draw_rules.stored_as_verdict(stored),
        verified_at=stored.verified_at,
        winners=draw_rules.winners_of(record),
        standings=winner_rules.standings_of_draw(record),
        random=json.loads(record.random_json) if record.random_json else None,
        local_time=record.conducted_at.astimezone(CAMPAIGN_TZ),
        key_sha256=key_fingerprint(record.public_key_pem) if record.public_key_pem else "",
        random_org_key_sha256=RANDOM_ORG_KEY_SHA256,
        verify_form=RANDOM_ORG_VERIFY_FORM,
        # the pool of the redraw that is to replace this draw, announced, not drawn yet
        redraw_announcement=draw_rules.open_announcement(record.period, record.prize, record)
        if record.replaced_by is None
        else None,
    )


@bp.get("/draws/<id:draw_id>/pool.csv")
def draw_pool(draw_id: int):
    """The pool file exactly as it was drawn from; its SHA-256 is the pool digest."""
    record = _draw(draw_id)
    pool = draw_rules.draw_file(record, DrawFile.POOL) or abort(404)
    return _download(pool.content, "text/csv", f"draw-{draw_id}-pool.csv")


@bp.get("/draws/<id:draw_id>/protocol.pdf")
def draw_protocol(draw_id: int):
    """The protocol in the page's language, as made at the draw (never made again)."""

    record = _draw(draw_id)
    stored = draw_rules.draw_file(record, draw_rules.protocol_name(g.lang)) or abort(404)
    return _download(
        stored.content, "application/pdf", f"draw-{draw_id}-protocol-{g.lang}.pdf", inline=True
    )


@bp.get("/draws/<id:draw_id>/record.json")
def draw_record(draw_id: int):
    """The machine-readable record (docs/DESIGN.md): ``random`` as received, signature, pool, positions."""
    record = _draw(draw_id)
    body = json.dumps(draw_rules.record(record), ensure_ascii=False, indent=2) + "\n"
    return _download(body, "application/json", f"draw-{draw_id}-record.json", inline=True)


# The signed result's parts, each byte for byte as stored: what the openssl steps use.
SIGNED_FILES = {
    "random.json": ("random_json", "application/json"),  # exactly what was signed
    "signature.base64": ("signature", "text/plain"),
    "public-key.pem": ("public_key_pem", "application/x-pem-file"),  # checked at the draw
}


@bp.get('/draws/<id:draw_id>/<any("random.json", "signature.base64", "public-key.pem"):name>')
def draw_signed_file(draw_id: int, name: str):
    """random.org's signed ``random`` object, its signature, or the key it was checked with."""
    record = _draw(draw_id)
    attribute, mimetype = SIGNED_FILES[name]
    content = getattr(record, attribute)
    if not content:  # a local draw has no signed result
        abort(404)
    return _download(content, mimetype, f"draw-{draw_id}-{name}")
