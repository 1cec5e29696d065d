"""What the commission writes for a draw (the place, each member's position, the late,
fallback and redraw reasons) is written in Kazakh and in Russian, and each reader sees its
own: the public record, the protocol, record.json; drawn before, the one text stands for
both (migration 0010)."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime

import flask_migrate
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from portal.campaign import draws, eligibility, winners
from portal.campaign.imports import import_month
from portal.campaign.periods import find_period
from portal.models import Campaign, Draw, db
from tests.helpers import (
    COMMISSION,
    COMMISSION_TEXT,
    TODAY,
    admin_actor,
    announce_in_admin,
    at,
    conduct,
    csrf_from,
    csv_bytes,
    load_september,
    make_app,
    page_text,
    redraw,
    row,
    translated,
)

PLACE = {"kk": "Алматы қ., Абай даңғылы, 100", "ru": "г. Алматы, пр. Абая, 100"}
LATE = {"kk": "Комиссия ертерек жинала алмады.", "ru": "Комиссия не могла собраться раньше."}
FALLBACK = {"kk": "random.org екі күн бойы қолжетімсіз.", "ru": "random.org недоступен два дня."}
OCTOBER_21 = datetime(2022, 10, 21, 6, 0, tzinfo=UTC)  # after September's deadline


def pdf_text(data: bytes) -> str:
    return re.sub(
        r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    )


def other(lang: str) -> str:
    return "ru" if lang == "kk" else "kk"


@pytest.fixture
def september_rows(app, demo):
    """September 2022 with 12 clients, 10 of them eligible (as the ``september`` fixture),
    without an app context left pushed: the test's requests need their own."""
    with app.app_context():
        period = find_period(db.session.get(Campaign, demo), "2022-09")
        rows = [row(n) for n in range(1, 13)]
        rows[0]["receipts_in_period"] = "1"
        rows[1]["paid_months"] = "0"
        import_month(period, "sep.csv", csv_bytes(rows), today=TODAY)
        eligibility.compute(period)
        db.session.commit()
    return demo


def test_each_language_reads_its_own_place_positions_and_reasons(app, client, september_rows):
    reason = {"kk": "Жеңімпаз тексеруден өтпеді.", "ru": "Победитель не прошел проверку."}
    with app.app_context():
        september = find_period(db.session.get(Campaign, september_rows), "2022-09")
        first = conduct(
            september,
            place=PLACE,
            late_reason=LATE,
            fallback_reason=FALLBACK,
            actor=admin_actor(),
            now=OCTOBER_21,
        )
        (winner,) = winners.winners_of_draw(first)
        winners.verify(winner, manual_ok=False, manual_note="closed", now=at(10, 24))
        db.session.commit()
        second = redraw(
            first, reason, fallback_reason=FALLBACK, actor=admin_actor(), now=at(10, 25)
        )
        protocols = {
            (draw.id, lang): pdf_text(draws.draw_file(draw, draws.protocol_name(lang)).content)
            for draw in (first, second)
            for lang in ("kk", "ru")
        }
        first, second = first.id, second.id
    for lang in ("kk", "ru"):
        first_page = page_text(client.get(f"/{lang}/draws/{first}"))
        second_page = page_text(client.get(f"/{lang}/draws/{second}"))
        protocol, redraw_protocol = protocols[first, lang], protocols[second, lang]
        for text in (first_page, protocol):
            assert PLACE[lang] in text and PLACE[other(lang)] not in text
            assert LATE[lang] in text and LATE[other(lang)] not in text
            assert FALLBACK[lang] in text and FALLBACK[other(lang)] not in text
            for member in COMMISSION:
                assert member.tr("position", lang) in text
                assert member.tr("position", other(lang)) not in text
        assert reason[lang] in first_page and reason[other(lang)] not in first_page
        assert reason[lang] in second_page and reason[lang] in redraw_protocol
        assert reason[other(lang)] not in second_page + redraw_protocol
    record = json.loads(client.get(f"/ru/draws/{first}/record.json").data)
    assert (record["place_kk"], record["place_ru"]) == (PLACE["kk"], PLACE["ru"])
    assert (record["late_reason_kk"], record["late_reason_ru"]) == (LATE["kk"], LATE["ru"])
    assert record["fallback_reason_ru"] == FALLBACK["ru"] and record["reason_kk"] is None
    assert record["commission"][0] == {
        "name": COMMISSION[0].name,
        "position_kk": COMMISSION[0].position_kk,
        "position_ru": COMMISSION[0].position_ru,
    }
    again = json.loads(client.get(f"/kk/draws/{second}/record.json").data)
    assert (again["reason_kk"], again["reason_ru"]) == (reason["kk"], reason["ru"])
    assert again["place_ru"] == PLACE["ru"]  # the redraw keeps the draw's place and commission
    assert again["commission"] == record["commission"]


@pytest.mark.parametrize(
    ("texts", "code"),
    [
        ({"place": {"kk": "Алматы қ.", "ru": ""}}, "place-required"),
        ({"late_reason": {"kk": "", "ru": "Опоздали."}}, "late-reason-required"),
        ({"fallback_reason": {"kk": "", "ru": "Не работает."}}, "fallback-reason-required"),
        (
            {"commission": draws.parse_commission("A, маркетолог; B, заңгер | юрист; C, x | y")},
            "commission-too-small",
        ),
    ],
)
def test_a_text_in_one_language_only_is_refused(september, texts, code):
    kwargs = {"place": PLACE, "late_reason": LATE, "actor": admin_actor(), "now": OCTOBER_21}
    kwargs["fallback_reason"] = FALLBACK
    kwargs.update(texts)
    with pytest.raises(draws.DrawRefused) as refused:
        conduct(september, **kwargs)
    assert refused.value.code == code
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draw)) == 0


def test_a_redraw_reason_in_one_language_only_is_refused(september):
    first = conduct(september, fallback_reason=FALLBACK, actor=admin_actor(), now=at(10, 10))
    (winner,) = winners.winners_of_draw(first)
    winners.verify(winner, manual_ok=False, manual_note="closed", now=at(10, 11))
    db.session.commit()
    with pytest.raises(draws.DrawRefused) as refused:
        redraw(first, {"kk": "Тексеруден өтпеді."}, fallback_reason=FALLBACK, actor=admin_actor())
    assert refused.value.code == "redraw-reason-required"


def test_the_commission_is_written_name_then_both_positions():
    assert draws.parse_commission(
        "Айгүл Сәрсенова, маркетинг бөлімінің басшысы | руководитель отдела маркетинга\n"
        " Ерлан Жұмабаев ,заңгер|юрист ; ; Динара Ахметова, менеджер"
    ) == [
        draws.Member(
            "Айгүл Сәрсенова", "маркетинг бөлімінің басшысы", "руководитель отдела маркетинга"
        ),
        draws.Member("Ерлан Жұмабаев", "заңгер", "юрист"),
        draws.Member("Динара Ахметова", "менеджер", ""),  # refused by the draw
    ]
    assert draws.parse_commission(draws.commission_text(COMMISSION)) == COMMISSION


def test_the_admin_form_takes_each_text_in_both_languages(app, client, auth, demo, standin):
    load_september(app, demo)
    auth.login("admin")
    page = client.get("/admin/ismet-2022/draws/new/2022-09")
    html = page.get_data(as_text=True)
    for lang, default in (("kk", "Алматы қ."), ("ru", "г. Алматы")):  # the place to start from
        assert re.search(f'id="place_{lang}"[^>]*value="{default}"', html)
    form = {
        "csrf_token": csrf_from(html),
        "commission": COMMISSION_TEXT.replace("; ", "\n"),
        "place_kk": PLACE["kk"],
        "place_ru": PLACE["ru"],
        "late_reason_kk": LATE["kk"],
        "late_reason_ru": LATE["ru"],
        "use_fallback": "y",
        "fallback_reason_kk": FALLBACK["kk"],
        "fallback_reason_ru": "",
    }
    refused = page_text(client.post("/admin/ismet-2022/draws/new/2022-09", data=form))
    assert translated("ru", "Give the reason for drawing without random.org.") in refused
    assert 'id="pool-digest"' not in refused
    announce_in_admin(client, "2022-09", {**form, "fallback_reason_ru": FALLBACK["ru"]})
    shown = client.post(
        "/admin/ismet-2022/draws/new/2022-09", data={**form, "fallback_reason_ru": FALLBACK["ru"]}
    ).get_data(as_text=True)
    digest = re.search(r'id="pool-digest">([0-9a-f]{64})<', shown).group(1)
    nonce = re.search(r'name="nonce" type="hidden" value="([0-9a-f]+)"', shown).group(1)
    assert COMMISSION[0].position_ru in page_text_of(shown)  # the admin reads Russian
    confirmed = client.post(
        "/admin/ismet-2022/draws/new/2022-09",
        data={
            **form,
            "fallback_reason_ru": FALLBACK["ru"],
            "nonce": nonce,
            "pool_sha256": digest,
            "confirm": "1",
        },
    )
    assert confirmed.status_code == 302
    with app.app_context():
        draw = db.session.scalar(sa.select(Draw))
        assert draws.draw_texts(draw, "place") == PLACE
        assert draws.draw_texts(draw, "late_reason") == LATE
        assert draws.draw_texts(draw, "fallback_reason") == FALLBACK
        assert draw.commission == COMMISSION
        draw_id = draw.id
    again = client.get(f"/admin/ismet-2022/draws/{draw_id}").get_data(as_text=True)
    assert "Укажите причину" not in again  # nothing refused on the page of a standing draw


def page_text_of(html: str) -> str:
    return re.sub(r"\s+", " ", html).replace("\u00a0", " ")


def test_the_command_line_takes_each_text_in_both_languages(app, runner, september):
    admin_actor()
    db.session.commit()
    assert runner.invoke(args=["draw", "announce", "--period", "2022-09", "--yes"]).exit_code == 0
    base = ["draw", "run", "--period", "2022-09", "--commission", COMMISSION_TEXT, "--yes"]
    fallback = ["--fallback-reason-kk", FALLBACK["kk"], "--fallback-reason-ru", FALLBACK["ru"]]
    one_language = runner.invoke(
        args=[*base, *fallback, "--admin", "admin@ismet.kz", "--late-reason-ru", LATE["ru"]]
    )
    assert one_language.exit_code == 1
    assert (
        "казахском и русском"
        in runner.invoke(
            args=[
                *base,
                *fallback,
                "--admin",
                "admin@ismet.kz",
                "--late-reason-ru",
                LATE["ru"],
                "--lang",
                "ru",
            ]
        ).output
    )
    result = runner.invoke(
        args=[
            *base,
            *fallback,
            *("--admin", "admin@ismet.kz"),
            *("--late-reason-kk", LATE["kk"], "--late-reason-ru", LATE["ru"]),
            *("--place-kk", PLACE["kk"], "--place-ru", PLACE["ru"]),
        ]
    )
    assert result.exit_code == 0, result.output
    draw = db.session.scalar(sa.select(Draw))
    assert draws.draw_texts(draw, "place") == PLACE and draw.commission == COMMISSION
    (winner,) = winners.winners_of_draw(draw)
    winners.verify(winner, manual_ok=False, manual_note="closed", now=at(10, 24))
    db.session.commit()
    draw_id = draw.id
    announced = runner.invoke(args=["draw", "announce", "--replaces", str(draw_id), "--yes"])
    assert announced.exit_code == 0, announced.output
    redone = runner.invoke(
        args=["draw", "redraw", str(draw_id), *fallback, "--admin", "admin@ismet.kz"]
    )
    assert redone.exit_code == 0, redone.output
    new = db.session.scalar(sa.select(Draw).filter_by(replaces_id=draw_id))
    # without --reason-kk/--reason-ru: the reason the winner's fall gives, in each language
    for lang in ("kk", "ru"):
        assert new.tr("reason", lang) == translated(
            lang,
            "The winner drawn in draw No. %(draw)s fell away: %(outcome)s.",
            draw=draw_id,
            outcome=translated(lang, "Failed the manual checks"),
        )


# --- migration 0010 -------------------------------------------------------------------

OLD_COMMISSION = [{"name": "Айгүл Сәрсенова", "position": "маркетинг бөлімінің басшысы"}]


def _filler(column: sa.Column):
    """A value for a required column of a table the test does not care about."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 1
    if isinstance(kind, sa.DateTime):
        return datetime(2022, 10, 10, tzinfo=UTC)
    if isinstance(kind, sa.Date):
        return date(2022, 9, 1)
    if isinstance(kind, sa.LargeBinary):
        return b"k"
    return "x"


def _insert(connection, table_name: str, **values) -> None:
    table = sa.Table(table_name, sa.MetaData(), autoload_with=connection)
    row = {
        c.name: _filler(c)
        for c in table.columns
        if not c.nullable and c.server_default is None and c.name not in values
    }
    connection.execute(table.insert().values({**row, **values}))


def test_migration_0010_keeps_a_stored_draw_s_texts_for_both_languages(
    migration_database, tmp_path
):
    app = make_app(migration_database, tmp_path / "instance")
    with app.app_context():
        flask_migrate.upgrade(revision="0009")
        with db.engine.begin() as connection:
            _insert(connection, "campaign", id=1, slug="c")
            _insert(connection, "reporting_period", id=1, campaign_id=1)
            _insert(connection, "prize", id=1, campaign_id=1)
            _insert(
                connection,
                "draw",
                id=1,
                period_id=1,
                prize_id=1,
                sequence=0,
                pool_size=1,
                place="Алматы қ.",
                reason="",
                late_reason="Кешікті.",
                fallback_reason="random.org жоқ.",
                commission=json.dumps(OLD_COMMISSION, ensure_ascii=False),
            )
        flask_migrate.upgrade()
        draw = db.session.get(Draw, 1)
        assert draws.draw_texts(draw, "place") == {"kk": "Алматы қ.", "ru": "Алматы қ."}
        assert draws.draw_texts(draw, "late_reason") == {"kk": "Кешікті.", "ru": "Кешікті."}
        assert draw.fallback_reason_ru == "random.org жоқ." and draw.reason_kk == ""
        assert json.loads(draw.commission_json) == [
            {
                "name": "Айгүл Сәрсенова",
                "position_kk": "маркетинг бөлімінің басшысы",
                "position_ru": "маркетинг бөлімінің басшысы",
            }
        ]
        db.session.rollback()
        flask_migrate.downgrade(revision="0009")
        with db.engine.connect() as connection:
            row = connection.execute(
                sa.text("SELECT place, late_reason, commission FROM draw")
            ).one()
        assert (row.place, row.late_reason) == ("Алматы қ.", "Кешікті.")
        assert json.loads(row.commission) == OLD_COMMISSION
        db.engine.dispose()
