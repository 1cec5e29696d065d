"""A draw's public record: the page, and the files anyone can check it with."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from flask import Response, abort, current_app, g, render_template

from portal.campaign import draws as draw_rules
from portal.campaign import ledger
from portal.campaign import protocol_signatures as signing
from portal.campaign import winners as winner_rules
from portal.campaign.periods import CAMPAIGN_TZ
from portal.models import Campaign, Draw, db
from portal.public import bp, site_bp
from portal.public.routes import the_campaign
from portal.services import eds
from portal.services.randomorg import RANDOM_ORG_KEY_SHA256, key_fingerprint

RANDOM_ORG_VERIFY_FORM = "https://api.random.org/signatures/form"
# The one-file verifier, served as ``/verify.py`` (docs/DESIGN.md, "The draw", 6).
VERIFIER = Path(__file__).resolve().parent.parent / "verifier" / "verify.py"
# The record page's own check ("Check this draw here", static/js/draw-check.js) fetches the
# draw's files as soon as the page is loaded, so that it works with the site cut off
# afterwards, when the pool file is at most about 5 MB: a line of pool.csv is at most 200
# bytes (a position, 64 hex digits, a masked account of at most 32 characters whose •
# take 3 bytes each, two commas, a newline), so up to 25,000 entries. A larger pool is
# fetched when the reader presses the button.
PREFETCH_MAX_BYTES = 5 * 1024 * 1024
POOL_LINE_MAX_BYTES = 200


def _draw(draw_id: int) -> Draw:
    """A draw of a published campaign, whichever: its record's addresses are global
    (its protocol prints them), and its pages link to its campaign's."""
    record = db.session.get(Draw, draw_id) or abort(404)
    campaign = record.period.campaign
    if campaign.status != Campaign.PUBLISHED:
        abort(404)
    g.campaign = campaign
    return record


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


@bp.get("/<slug>/draws")
def draws_index():
    """The campaign's draws month by month, and random.org's run of serial numbers per key:
    what each answer was used for, an answer the portal did not ask for or a missing
    serial in red (docs/DESIGN.md, "The ledger")."""
    campaign = the_campaign()
    # each month's draws, and the pool announced for its next draw and not drawn yet
    months = [
        (period, draw_rules.draws_of(period), draw_rules.awaiting_draw(period))
        for period in campaign.periods
    ]
    return render_template(
        "public/draws.html",
        months=[month for month in months if month[1] or month[2]],
        runs=ledger.runs(),
    )


@bp.get("/<slug>/draws/ledger.json")
def draws_ledger():
    """Every random.org key's run of serials, machine-readable (docs/DESIGN.md)."""
    the_campaign()
    body = json.dumps(ledger.ledger_json(ledger.runs()), ensure_ascii=False, indent=2) + "\n"
    response = _download(body, "application/json", "ledger.json", inline=True)
    response.headers["Cache-Control"] = "public, no-cache"  # it grows with every answer
    return response


@bp.get("/draws/<id:draw_id>")
def draw(draw_id: int):
    """Everything about a draw but personal data, its stored verification, and how to redo it."""
    record = _draw(draw_id)
    # the verdict kept when the draw was made (or last verified by staff): the page never
    # loads the pool file, so it serves in the same time whatever the pool's size
    stored = draw_rules.stored_verdict(
        record, eds_settings=eds.settings_from_config(current_app.config)
    )
    return render_template(
        "public/draw.html",
        draw=record,
        chain=draw_rules.chain(record),
        checks=draw_rules.stored_checks(stored),
        verdict=draw_rules.stored_as_verdict(stored),
        verified_at=stored.verified_at,
        winners=draw_rules.winners_of(record),
        prizes=draw_rules.plan_prizes(record),
        standings=winner_rules.standings_of_draw(record),
        random=json.loads(record.random_json) if record.random_json else None,
        local_time=record.conducted_at.astimezone(CAMPAIGN_TZ),
        key_sha256=key_fingerprint(record.public_key_pem) if record.public_key_pem else "",
        random_org_key_sha256=RANDOM_ORG_KEY_SHA256,
        verify_form=RANDOM_ORG_VERIFY_FORM,
        prefetch=prefetches(record.pool_size),
        members=signing.by_member(record),
        signed_language=signing.SIGNED_LANGUAGE,
        signature_file_name=signing.signature_file_name,
        # the pool of the redraw that is to replace this draw, announced, not drawn yet
        redraw_announcement=draw_rules.open_announcement(record.period, record)
        if record.replaced_by is None
        else None,
    )


def prefetches(pool_size: int) -> bool:
    """Whether the record page's check fetches the draw's files as the page loads."""
    return pool_size * POOL_LINE_MAX_BYTES <= PREFETCH_MAX_BYTES


@bp.get("/draws/<id:draw_id>/pool.csv")
def draw_pool(draw_id: int):
    """The pool file exactly as it was drawn from; its SHA-256 is the pool digest."""
    record = _draw(draw_id)
    # sent as read, a chunk at a time, on a connection of its own (given back when the
    # response ends or is dropped): a worker never holds a million-line file whole
    chunks = draw_rules.pool_chunks(record, own_connection=True)
    if chunks is None:
        abort(404)
    return _download(chunks, "text/csv", f"draw-{draw_id}-pool.csv")


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


@bp.get(f"/draws/<id:draw_id>/protocol-{signing.SIGNED_LANGUAGE}-signature-<int:member>.p7s")
def draw_signature_file(draw_id: int, member: int):
    """A commission member's EDS signature of the Kazakh protocol: the CMS (DER) as kept
    when it was accepted (``openssl cms -verify -inform DER -binary -content …``)."""
    record = _draw(draw_id)
    name = signing.signature_file_name(member)
    stored = signing.signature_file(record, name) or abort(404)
    return _download(stored.content, "application/pkcs7-signature", f"draw-{draw_id}-{name}")


@lru_cache(maxsize=1)
def _verifier() -> bytes:
    return VERIFIER.read_bytes()


@site_bp.get("/verify.py")
def verify_script():
    """The one-file verifier: standard library and ``cryptography``, random.org's key inside."""
    return Response(
        _verifier(),
        mimetype="text/x-python",
        headers={
            "Content-Disposition": 'attachment; filename="verify.py"',
            "Cache-Control": "public, max-age=3600",
        },
    )
