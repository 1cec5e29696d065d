"""Several prizes a period, drawn in one signed random.org call (issue 19, part 2).

A period with 1 x 500,000 and 2 x 200,000 is drawn through the stand-in random.org: the
first number takes the prize at position 1, the next two the prize at position 2. The
portal's verification, verify.py (run in a process of its own over the record's files)
and the protocol's text all say which number took which prize; a redraw of the second
200,000 winner draws that prize alone.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from datetime import date

import flask_migrate
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from portal.campaign import acts, draws, winners
from portal.models import Draw, DrawWinner, Prize, WinnerIdentity, db
from portal.web.urls import SiteLinks
from tests.helpers import AFTER_SEPTEMBER, conduct, make_app, redraw
from tests.test_draw_texts import _insert
from tests.verifier_draws import VERIFY, run_verify

FILES = ("record.json", "pool.csv", "random.json", "signature.base64")


@pytest.fixture
def three_prizes(september):
    """September's prizes: 1 x 500,000 for September alone (position 1), then the
    campaign's 200,000 certificate twice (position 2)."""
    certificate = september.campaign.prizes[0]
    certificate.position, certificate.count_per_period = 2, 2
    db.session.add(
        Prize(
            campaign_id=september.campaign_id,
            period_id=september.id,
            position=1,
            supplier="Chocomart",
            name_kk="500 000 теңгелік Chocomart сертификаты",
            name_ru="Сертификат Chocomart на 500 000 тенге",
            nominal_kzt=500_000,
        )
    )
    db.session.commit()
    return september


def grand(period) -> Prize:
    return draws.prizes_of(period)[0]


def test_the_prizes_of_a_period_in_their_published_order(three_prizes, demo):
    assert [
        (p.position, p.nominal_kzt, p.count_per_period) for p in draws.prizes_of(three_prizes)
    ] == [
        (1, 500_000, 1),
        (2, 200_000, 2),
    ]
    october = next(p for p in three_prizes.campaign.periods if p.key == "2022-10")
    # the 500,000 prize is September's alone
    assert [p.nominal_kzt for p in draws.prizes_of(october)] == [200_000]
    assert [(s.position, s.replaces) for s in draws.month_slots(three_prizes)] == [
        (1, None),
        (2, None),
        (2, None),
    ]


def save_files(client, draw_id: int, folder, lang: str = "ru"):
    folder.mkdir()
    for name in FILES:
        answer = client.get(f"/{lang}/draws/{draw_id}/{name}")
        assert answer.status_code == 200, name
        (folder / name).write_bytes(answer.data)
    return folder


def test_one_draw_gives_every_prize_of_the_period_in_order(
    three_prizes, standin, app, client, tmp_path
):
    draw = conduct(three_prizes)
    random = json.loads(draw.random_json)
    assert random["n"] == 3 and len(random["data"]) == 3
    assert random["userData"]["prizes"] == [[1, 1], [2, 2]]
    first, second = draws.prizes_of(three_prizes)
    assert [(w.rank, w.position, w.prize_id) for w in draw.winners] == [
        (1, random["data"][0], first.id),
        (2, random["data"][1], second.id),
        (3, random["data"][2], second.id),
    ]
    # each winner's life cycle (its act, its pages) carries its own prize
    assert [w.prize.nominal_kzt for w in winners.winners_of_draw(draw)] == [
        500_000,
        200_000,
        200_000,
    ]
    identity = WinnerIdentity(
        director_name="Director",
        document_type="id_card",
        document_number="012345678",
        document_issuer="MVD RK",
        document_date=date(2020, 1, 1),
    )
    facts = [
        acts.act_facts(w, identity, "1", date(2022, 10, 25), SiteLinks())
        for w in winners.winners_of_draw(draw)
    ]
    assert [(f["nominal_kzt"], f["prize_ru"]) for f in facts] == [
        (500_000, "Сертификат Chocomart на 500 000 тенге"),
        (200_000, second.name_ru),
        (200_000, second.name_ru),
    ]
    checks = {c.code: c for c in draws.verify(draw)}
    assert checks["prizes"].ok and checks["prizes"].detail == "1x1 2x2"
    assert draws.verified(list(checks.values()))

    record = draws.record(draw)
    assert [(p["position"], p["count"], p["nominal_kzt"]) for p in record["prizes"]] == [
        (1, 1, 500_000),
        (2, 2, 200_000),
    ]
    assert [w["prize"] for w in record["winners"]] == [1, 2, 2]

    # the protocol: the prizes in order, and number -> winner -> prize in a table
    protocol = draws.draw_file(draw, draws.protocol_name("ru")).content
    text = re.sub(
        r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(protocol)).pages)
    )
    assert "Призы месяца" in text
    assert "первые числа, сколько штук приза 1, — призу 1" in text
    for winner in draw.winners:
        name = winner.prize.name_ru
        assert re.search(
            rf"{winner.rank} {winner.position} .*?{winner.prize.position}\. {name}", text
        )
    kazakh = draws.draw_file(draw, draws.protocol_name("kk")).content
    kazakh_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(kazakh)).pages)
    assert "500 000 теңгелік Chocomart сертификаты" in kazakh_text

    # the public record page shows each winner's prize
    page = client.get(f"/ru/draws/{draw.id}").get_data(as_text=True)
    assert [int(p) for p in re.findall(r'<td class="prize" data-prize="(\d+)"', page)] == [1, 2, 2]

    # verify.py, as an auditor runs it, over the record's files
    key = tmp_path / "standin.pem"
    key.write_text(standin.public_key_pem)
    folder = save_files(client, draw.id, tmp_path / "draw")
    status, outcomes, output = run_verify("--key", key, folder)
    assert status == 0 and outcomes["prizes"] == "ok", output

    # a record whose winners do not take the prizes in the published order fails
    swapped = json.loads((folder / "record.json").read_text())
    swapped["winners"][0]["prize"], swapped["winners"][1]["prize"] = 2, 1
    (folder / "record.json").write_text(json.dumps(swapped))
    status, outcomes, output = run_verify("--key", key, folder)
    assert status == 1 and outcomes["prizes"] == "failed", output
    assert "The draw does NOT verify: prizes." in output
    status, _, kazakh_output = run_verify_in("kk", key, folder)
    assert "Жүлделер" in kazakh_output and "ОРЫНДАЛМАДЫ" in kazakh_output

    # a record that lists the prizes in another order than the signed one fails too
    reordered = json.loads(json.dumps(swapped))
    reordered["prizes"].reverse()
    (folder / "record.json").write_text(json.dumps(reordered))
    status, outcomes, output = run_verify("--key", key, folder)
    assert status == 1 and outcomes["user-data"] == "failed", output


def run_verify_in(lang: str, key, folder):
    result = subprocess.run(
        [sys.executable, str(VERIFY), "--lang", lang, "--key", str(key), str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, None, result.stdout


def test_a_redraw_of_the_second_200000_winner_draws_that_prize_alone(
    three_prizes, standin, client, tmp_path
):
    draw = conduct(three_prizes)
    first, second, third = winners.winners_of_draw(draw)
    winners.verify(third, manual_ok=False, manual_note="register shows another owner")
    db.session.commit()
    assert [w.id for w in winners.awaiting_redraw(draw)] == [third.id]
    again = redraw(draw, "The second 200,000 winner failed the check.", now=AFTER_SEPTEMBER)
    random = json.loads(again.random_json)
    assert random["n"] == 1 and random["userData"]["prizes"] == [[2, 1]]
    (picked,) = again.winners
    assert (picked.prize_id, picked.replaces_winner_id) == (third.prize_id, third.draw_winner_id)
    assert picked.participant_id not in {w.participant_id for w in (first, second, third)}
    assert again.pool_size == draw.pool_size - 3
    assert winners.public_standing(third).redraw_id == again.id
    assert not winners.awaits_redraw(third) and not winners.draw_awaits_redraw(again)
    assert draws.verified(draws.verify(again))
    assert draws.record(again)["prizes"][0]["position"] == 2
    # the winners who still stand keep their prizes; the month's draw verifies as before
    assert draws.verified(draws.verify(db.session.get(Draw, draw.id)))

    key = tmp_path / "standin.pem"
    key.write_text(standin.public_key_pem)
    folder = save_files(client, again.id, tmp_path / "redraw", lang="kk")
    status, outcomes, output = run_verify("--key", key, folder)
    assert status == 0 and outcomes["prizes"] == "ok", output


def test_the_draw_asks_for_no_more_numbers_than_the_pool_holds(three_prizes, standin):
    grand(three_prizes).count_per_period = 9  # 9 + 2 numbers, over a pool of 10
    db.session.commit()
    draw = conduct(three_prizes)
    assert draw.prizes_drawn == 10 and len(draw.winners) == 10
    assert [w.prize.position for w in draw.winners] == [1] * 9 + [2]
    assert draws.verified(draws.verify(draw))


def test_a_period_without_prizes_is_not_drawn(september):
    for prize in list(september.campaign.prizes):
        db.session.delete(prize)
    db.session.commit()
    refused = draws.refusals(september, None, AFTER_SEPTEMBER)
    assert "no-prizes" in [r.code for r in refused]


def test_a_draw_of_the_2022_campaign_stays_one_prize_one_number(september, standin):
    draw = conduct(september)
    assert draws.prize_plan(draw) == [
        {"prize": september.campaign.prizes[0].id, "position": 1, "count": 1}
    ]
    assert draws.record(draw)["winners"][0]["prize"] == 1


# --- migration 0031 -------------------------------------------------------------------


def test_migration_0031_gives_every_stored_winner_its_draw_s_prize(request, tmp_path):
    # migration 0010's database of its own: a SQLite file, or a schema in PostgreSQL
    app = make_app(request.getfixturevalue("migration_database"), tmp_path / "instance")
    with app.app_context():
        flask_migrate.upgrade(revision="0028")
        with db.engine.begin() as connection:
            _insert(connection, "campaign", id=1, slug="c")
            _insert(connection, "reporting_period", id=1, campaign_id=1)
            _insert(connection, "prize", id=1, campaign_id=1)
            _insert(connection, "participant", id=1, campaign_id=1, account_number="A1")
            _insert(connection, "participant", id=2, campaign_id=1, account_number="A2")
            for draw_id, replaces in ((1, None), (2, 1)):
                _insert(
                    connection,
                    "draw",
                    id=draw_id,
                    period_id=1,
                    prize_id=1,
                    sequence=draw_id - 1,
                    replaces_id=replaces,
                    pool_size=2,
                )
                _insert(
                    connection,
                    "draw_winner",
                    id=draw_id,
                    draw_id=draw_id,
                    rank=1,
                    position=draw_id,
                    participant_id=draw_id,
                )
        flask_migrate.upgrade()
        first, second = db.session.get(DrawWinner, 1), db.session.get(DrawWinner, 2)
        assert (first.prize_id, first.replaces_winner_id) == (1, None)
        assert (second.prize_id, second.replaces_winner_id) == (1, 1)
        prize = db.session.get(Prize, 1)
        assert (prize.position, prize.period_id) == (1, None)
        draw = db.session.get(Draw, 1)
        assert draw.prize_plan_json == "" and draws.prize_plan(draw) == [
            {"prize": 1, "position": 1, "count": 1}
        ]
        db.session.rollback()
        flask_migrate.downgrade(revision="0028")
        with db.engine.connect() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("draw_winner")}
            assert "prize_id" not in columns and "replaces_winner_id" not in columns
            assert connection.execute(sa.text("SELECT prize_id FROM draw ORDER BY id")).all() == [
                (1,),
                (1,),
            ]
        flask_migrate.upgrade()
        db.session.remove()
        db.engine.dispose()  # its own engine: no connection left for the collector
