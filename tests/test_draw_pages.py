"""Draws on the pages and the command line: the commission's screens, the public record, the CLI."""

from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import UTC

import sqlalchemy as sa
from pypdf import PdfReader

from portal.campaign import draws
from portal.campaign.periods import find_period
from portal.models import Campaign, Draw, DrawFile, Participant, db
from portal.services.randomorg import ERROR_CODES, RandomOrgError
from portal.wording.messages import describe_random_org_error
from tests.helpers import (
    COMMISSION,
    COMMISSION_TEXT,
    PLACE,
    announce_in_admin,
    announced,
    both,
    count,
    csrf_from,
    load_september,
    page_text,
    prepare,
    site,
    submit_check,
    translated,
)

COMMISSION_LINES = "\n".join(f"{m.name}, {m.position_kk} | {m.position_ru}" for m in COMMISSION)


def draw_in_browserless_admin(auth, client, role="commission"):
    """The commission's steps: the pool shown and announced, then shown again and confirmed."""
    auth.login(role)
    page = client.get("/admin/ismet-2022/draws/new/2022-09")
    form = {
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "commission": COMMISSION_LINES,
        "place_kk": "Алматы қ., Абай даңғылы, 100",
        "place_ru": "г. Алматы, пр. Абая, 100",
        "late_reason_kk": "Сынақта кешіктіріліп өткізілді: ай әлдеқашан өтті.",
        "late_reason_ru": "Проведен с опозданием в тесте: месяц давно прошел.",
    }
    announce_in_admin(client, "2022-09", form)
    shown = client.post("/admin/ismet-2022/draws/new/2022-09", data=form)
    html = shown.get_data(as_text=True)
    digest = re.search(r'id="pool-digest">([0-9a-f]{64})<', html).group(1)
    nonce = re.search(r'name="nonce" type="hidden" value="([0-9a-f]+)"', html).group(1)
    confirmed = client.post(
        "/admin/ismet-2022/draws/new/2022-09",
        data={**form, "nonce": nonce, "pool_sha256": digest, "confirm": "1"},
    )
    return html, digest, confirmed


def test_the_commission_sees_the_pool_then_draws(app, client, auth, demo, standin):
    load_september(app, demo)
    html, digest, confirmed = draw_in_browserless_admin(auth, client)
    assert re.search(r"id=\"pool-size\">[^<]*1[^<]*<", html)
    assert confirmed.status_code == 302
    with app.app_context():
        draw = db.session.scalar(sa.select(Draw))
        assert (
            draw.pool_sha256 == digest and draw.late and draw.conducted_by == "commission@ismet.kz"
        )
        draw_id = draw.id
    assert confirmed.headers["Location"].endswith(f"/admin/ismet-2022/draws/{draw_id}")
    assert client.get(f"/admin/ismet-2022/draws/{draw_id}").status_code == 200


def test_only_the_commission_and_admins_draw(app, client, auth, demo, standin):
    load_september(app, demo)
    auth.login("marketing")
    page = client.get("/admin/ismet-2022/draws")
    assert page.status_code == 200 and "/admin/ismet-2022/draws/new/2022-09" not in page.get_data(
        as_text=True
    )
    assert client.get("/admin/ismet-2022/draws/new/2022-09").status_code == 403
    with app.app_context():
        assert count(Draw) == 0


def test_a_commission_member_cannot_choose_the_fallback(app, client, auth, demo, standin):
    load_september(app, demo)
    auth.login("commission")
    page = client.get("/admin/ismet-2022/draws/new/2022-09")
    response = client.post(
        "/admin/ismet-2022/draws/new/2022-09",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "commission": COMMISSION_LINES,
            "place_kk": "Алматы қ.",
            "place_ru": "г. Алматы",
            "late_reason_kk": "кешікті",
            "late_reason_ru": "опоздали",
            "use_fallback": "y",
            "fallback_reason_kk": "random.org істемейді",
            "fallback_reason_ru": "random.org не работает",
        },
    )
    refusal = translated("ru", "Only an administrator may choose the local fallback.")
    assert refusal in page_text(response)
    assert 'id="pool-digest"' not in response.get_data(as_text=True)


def test_random_org_failure_is_said_and_nothing_stored(app, client, auth, demo, standin):
    load_september(app, demo)
    standin.fail_next(("error", 401), times=3)
    _, _, confirmed = draw_in_browserless_admin(auth, client)
    page = page_text(confirmed)
    assert (
        translated(
            "ru", "The random.org API key is not running: start it in the random.org account."
        )
        in page
    )
    with app.app_context():
        assert count(Draw) == 0


def make_draw(app, demo) -> tuple[int, dict[str, str]]:
    bins = load_september(app, demo)
    with app.app_context():
        period = find_period(db.session.get(Campaign, demo), "2022-09")
        draw = draws.conduct(
            announced(prepare(period)),
            **site(),
            commission=COMMISSION,
            place=PLACE,
            late_reason=both("test"),
        )
        return draw.id, bins


def test_public_record_in_both_languages_without_personal_data(app, client, demo, standin):
    draw_id, _ = make_draw(app, demo)
    with app.app_context():
        draw = db.session.get(Draw, draw_id)
        winner = db.session.get(Participant, draw.winners[0].participant_id)
        account, bin_iin, masked = winner.account_number, winner.bin_iin, winner.account_masked
        pool_sha256 = draw.pool_sha256
    for lang in ("kk", "ru"):
        response = client.get(f"/{lang}/draws/{draw_id}")
        assert response.status_code == 200
        text = page_text(response)
        assert translated(lang, "Draw No. %(id)s", id=draw_id) in text
        assert pool_sha256 in text and masked in text
        assert account not in text and bin_iin not in text
        assert "openssl dgst -sha512 -verify" in text
        assert translated(lang, "The signing key is random.org's") in text
    pool = client.get(f"/kk/draws/{draw_id}/pool.csv")
    assert hashlib.sha256(pool.data).hexdigest() == pool_sha256
    assert account.encode() not in pool.data
    record = json.loads(client.get(f"/ru/draws/{draw_id}/record.json").data)
    with app.app_context():
        announced_at = db.session.get(Draw, draw_id).announced_at
    assert record["pool"] == {
        "size": 1,
        "sha256": pool_sha256,
        "file": "pool.csv",
        "announced_at": announced_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert record["random"]["userData"]["pool_sha256"] == pool_sha256
    assert record["positions"] == record["random"]["data"]
    assert account not in json.dumps(record, ensure_ascii=False)
    signed = client.get(f"/kk/draws/{draw_id}/random.json").data
    with app.app_context():
        assert signed.decode() == db.session.get(Draw, draw_id).random_json
    assert client.get(f"/kk/draws/{draw_id}/signature.base64").status_code == 200
    assert b"BEGIN PUBLIC KEY" in client.get(f"/kk/draws/{draw_id}/public-key.pem").data
    assert client.get("/kk/draws/999999").status_code == 404


def test_protocol_pdf_is_stored_once_in_each_language(app, client, demo, standin):
    draw_id, _ = make_draw(app, demo)
    with app.app_context():
        draw = db.session.get(Draw, draw_id)
        stored = {f.name: f.content for f in db.session.scalars(sa.select(DrawFile))}
        serial = draw.serial_number
    for lang in ("kk", "ru"):
        pdf = client.get(f"/{lang}/draws/{draw_id}/protocol.pdf").data
        assert pdf == stored[f"protocol-{lang}.pdf"]  # the stored bytes, not made again
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
        text = re.sub(r"\s+", " ", text)
        assert translated(lang, "Draw protocol No. %(id)s", id=draw_id) in text
        for member in COMMISSION:
            assert member.name in text
        assert str(serial) in text and "Company 1" in text
        assert translated(lang, "Signatures of the commission") in text


def test_winners_pages_show_the_draw_pending_verification(app, client, demo, standin):
    draw_id, _ = make_draw(app, demo)
    for lang in ("kk", "ru"):
        text = page_text(client.get(f"/{lang}/ismet-2022/winners/2022-09"))
        assert translated(lang, "Winner being verified") in text
        assert "Company 1" not in text  # not published before the check
        assert f"/{lang}/draws/{draw_id}" in text
        assert f"/{lang}/draws/{draw_id}" in page_text(client.get(f"/{lang}/ismet-2022/winners"))


def test_the_self_check_gives_the_entry_code_and_position(app, client, demo, standin):
    draw_id, bins = make_draw(app, demo)
    page = page_text(submit_check(client, "ru", "ACC0000001", bins["ACC0000001"]))
    with app.app_context():
        draw = db.session.get(Draw, draw_id)
        code = draws.entry_code(draw.entry_key, "ACC0000001")
    assert code in page and f"/ru/draws/{draw_id}" in page
    other = page_text(submit_check(client, "ru", "ACC0000002", bins["ACC0000002"]))
    assert code not in other and f"/ru/draws/{draw_id}" not in other  # not in the pool


def test_cli_runs_verifies_and_redraws(app, runner, demo, standin):
    load_september(app, demo)
    announced = runner.invoke(args=["draw", "announce", "--period", "2022-09", "--yes"])
    assert announced.exit_code == 0, announced.output
    result = runner.invoke(
        args=[
            "draw",
            "run",
            "--period",
            "2022-09",
            "--commission",
            COMMISSION_TEXT,
            "--yes",
            "--late-reason-kk",
            "сынақ",
            "--late-reason-ru",
            "тест",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "pool for 2022-09: 1 participants" in result.output
    with app.app_context():
        draw_id = db.session.scalar(sa.select(Draw.id))
    verified = runner.invoke(args=["draw", "verify", str(draw_id), "--lang", "ru"])
    # the record holds together, signed by the stand-in's key: said, not called "verified"
    assert verified.exit_code == 0 and f"draw {draw_id}: verified-other-key" in verified.output
    again = runner.invoke(
        args=[
            "draw",
            "run",
            "--period",
            "2022-09",
            "--commission",
            COMMISSION_TEXT,
            "--yes",
            "--lang",
            "ru",
        ]
    )
    assert again.exit_code != 0 and "уже" in again.output
    with app.app_context():
        db.session.execute(
            sa.update(DrawFile).where(DrawFile.name == "pool.csv").values(content=b"x")
        )
        db.session.commit()
    broken = runner.invoke(args=["draw", "verify", str(draw_id)])
    assert broken.exit_code == 1 and f"draw {draw_id}: broken" in broken.output


def test_every_random_org_error_has_a_sentence_in_each_language(app):

    for lang in ("kk", "ru"):
        with app.test_request_context(f"/{lang}/"):
            for code in ERROR_CODES:
                sentence = describe_random_org_error(RandomOrgError(code))
                assert code not in sentence, (lang, code)
                assert (
                    translated(lang, "%(problem)s No draw was made.", problem="")[-8:] in sentence
                )
