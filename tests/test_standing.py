"""One standing of a winner, decided in portal/campaign, said everywhere: the winner's own
self-check, the draw's public record, the month page and the staff's pages."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from portal.campaign import winners
from portal.campaign.periods import find_period
from portal.models import Campaign, Draw, Participant, Winner, db
from portal.web.urls import SiteLinks
from portal.wording.formats import format_day
from portal.wording.messages import winner_announcement, winner_standing
from tests.helpers import (
    at,
    draw_on,
    load_demo_draws,
    load_september,
    page_text,
    submit_check,
    translated,
)

LANGS = ("kk", "ru")


def september_drawn(app, demo) -> tuple[int, dict[str, str]]:
    """September with two clients (ACC0000001 alone eligible), drawn: ACC0000001 wins."""
    bins = load_september(app, demo)
    with app.app_context():
        september = find_period(db.session.get(Campaign, demo), "2022-09")
        draw = draw_on(september)
        return draw.id, bins


def the_winner() -> Winner:
    return db.session.scalar(sa.select(Winner))


# --- 1. the winner's self-check says it won, and where its prize stands -------------------


def test_an_sme_owner_checks_its_participation_and_reads_that_it_won(app, client, demo):
    draw_id, bins = september_drawn(app, demo)
    for lang in LANGS:
        page = page_text(submit_check(client, lang, "ACC0000001", bins["ACC0000001"]))
        won = translated(lang, "You won: your company was drawn in draw No. %(id)s.", id=draw_id)
        assert won in page
        assert translated(lang, "Drawn; being verified against the rules (rule 8).") in page
        # its entry code and position are still there
        assert translated(lang, "See the draw") in page and f"/{lang}/draws/{draw_id}" in page
    # the one who was not drawn (not even in the pool) reads nothing of the kind
    other = page_text(submit_check(client, "ru", "ACC0000002", bins["ACC0000002"]))
    assert (
        translated("ru", "You won: your company was drawn in draw No. %(id)s.", id=draw_id)
        not in other
    )

    # verified, published: the self-check follows
    with app.test_request_context("/ru/"):
        winner = the_winner()
        winners.verify(winner, manual_ok=True, manual_note="register checked", now=at(10, 24))
        titles, bodies = winner_announcement(winner, SiteLinks())
        winners.publish(winner, titles, bodies, now=at(10, 25))
        db.session.commit()
    for lang in LANGS:
        page = page_text(submit_check(client, lang, "ACC0000001", bins["ACC0000001"]))
        assert (
            translated(lang, "You won: your company was drawn in draw No. %(id)s.", id=draw_id)
            in page
        )
        assert translated(lang, "Verified and published; the prize is being handed over.") in page


def test_a_winner_that_fell_away_reads_why_and_that_the_prize_is_drawn_again(app, client, demo):
    draw_id, bins = september_drawn(app, demo)
    with app.app_context():
        winners.verify(the_winner(), manual_ok=False, manual_note="company closed", now=at(10, 24))
        db.session.commit()
    for lang in LANGS:
        page = page_text(submit_check(client, lang, "ACC0000001", bins["ACC0000001"]))
        assert translated(lang, "Your company was drawn in draw No. %(id)s.", id=draw_id) in page
        assert (
            translated(lang, "You won: your company was drawn in draw No. %(id)s.", id=draw_id)
            not in page
        )
        fell = translated(
            lang, "Disqualified at the check (rule 8): the organizer's checks were not passed."
        )
        assert f"{fell} {translated(lang, 'The prize will be drawn again.')}" in page
        assert "company closed" not in page  # the staff's note stays in the staff area


# --- 2. the demo's draw records show each winner's real standing --------------------------


def demo_draws(app, demo) -> dict[str, list[int]]:
    load_demo_draws(app, demo)
    with app.app_context():
        chains: dict[str, list[int]] = {}
        for draw in db.session.scalars(sa.select(Draw).order_by(Draw.id)):
            chains.setdefault(draw.period.key, []).append(draw.id)
            # each pool was announced before it was drawn (redraws too)
            assert draw.announced_at is not None and draw.announced_at < draw.conducted_at
        return chains


def handed_over(lang: str, day: date) -> str:
    return translated(
        lang,
        "Verified and published; the prize was handed over on %(date)s.",
        date=format_day(day, lang),
    )


def test_the_demo_draw_records_show_published_fell_away_and_redraw_winners(app, client, auth, demo):
    chains = demo_draws(app, demo)
    (september,), (october, october_redraw), (november, november_redraw) = (
        chains["2022-09"],
        chains["2022-10"],
        chains["2022-11"],
    )
    auth.login("auditor")  # reads the staff area in Russian
    for lang in LANGS:
        expected = {
            september: handed_over(lang, date(2022, 10, 18)),
            october: translated(
                lang,
                "Disqualified at the check (rule 8): the organizer's checks were not passed.",
            )
            + " "
            + translated(lang, "The prize was drawn again in draw No. %(id)s.", id=october_redraw),
            october_redraw: handed_over(lang, date(2022, 11, 25)),
            november: translated(
                lang, "Fell away: did not get in touch within 10 days of the draw (rule 9)."
            )
            + " "
            + translated(lang, "The prize was drawn again in draw No. %(id)s.", id=november_redraw),
            november_redraw: translated(
                lang, "Verified and published; the prize is being handed over."
            ),
        }
        for draw_id, sentence in expected.items():
            page = page_text(client.get(f"/{lang}/draws/{draw_id}"))
            assert sentence in page, (lang, draw_id)
            assert "verification pending" not in page
            assert translated(lang, "Drawn, being verified") not in page
            if lang == "ru":  # the staff's draw page says the same
                assert sentence in page_text(client.get(f"/admin/ismet-2022/draws/{draw_id}")), (
                    draw_id
                )
        # the month page's published winner carries the same sentence
        month = page_text(client.get(f"/{lang}/ismet-2022/winners/2022-09"))
        assert expected[september] in month


def test_the_staff_winner_pages_show_the_public_standing(app, client, auth, demo):
    chains = demo_draws(app, demo)
    with app.app_context():
        first_october = db.session.scalar(
            sa.select(Winner).filter_by(draw_id=chains["2022-10"][0])
        ).id
    auth.login("marketing")  # Russian
    sentence = translated(
        "ru", "Disqualified at the check (rule 8): the organizer's checks were not passed."
    )
    assert sentence in page_text(client.get(f"/admin/ismet-2022/winners/{first_october}"))
    assert sentence in page_text(client.get("/admin/ismet-2022/winners"))


def test_a_demo_winner_that_fell_away_reads_it_on_its_self_check(app, client, demo):
    chains = demo_draws(app, demo)
    with app.app_context():
        silent = db.session.scalar(sa.select(Winner).filter_by(draw_id=chains["2022-11"][0]))
        account, bin_iin = silent.participant.account_number, silent.participant.bin_iin
        published = db.session.scalar(sa.select(Winner).filter_by(draw_id=chains["2022-11"][1]))
        p: Participant = published.participant
        redraw_account, redraw_bin = p.account_number, p.bin_iin
    page = page_text(submit_check(client, "kk", account, bin_iin))
    assert (
        translated("kk", "Your company was drawn in draw No. %(id)s.", id=chains["2022-11"][0])
        in page
    )
    assert (
        translated("kk", "Fell away: did not get in touch within 10 days of the draw (rule 9).")
        in page
    )
    page = page_text(submit_check(client, "ru", redraw_account, redraw_bin))
    assert (
        translated(
            "ru", "You won: your company was drawn in draw No. %(id)s.", id=chains["2022-11"][1]
        )
        in page
    )
    assert translated("ru", "Verified and published; the prize is being handed over.") in page


# --- 3. one standing, worded for every case ------------------------------------------------


def test_public_standing_follows_the_life_cycle(app, drawn):
    assert winners.public_standing(drawn).code == "being-verified"
    winners.verify(drawn, manual_ok=True, manual_note="ok", now=at(10, 24))
    assert winners.public_standing(drawn).code == "verified"
    winners.record_contact(
        drawn, on=date(2022, 10, 24), channel="phone", answered=True, now=at(10, 24)
    )
    assert winners.public_standing(drawn).code == "handing-over"
    winners.publish(drawn, {"kk": "t", "ru": "t"}, {"kk": "b", "ru": "b"}, now=at(10, 29))
    standing = winners.public_standing(drawn)
    assert (standing.code, standing.delivered_on) == ("published", None)
    winners.forfeit(drawn, "refused-to-sign", note="said no", now=at(10, 30))
    assert winners.public_standing(drawn) == winners.Standing("fell-away", "refused-to-sign")
    db.session.rollback()


@pytest.mark.parametrize(
    "reason",
    [
        "app",
        "ekassa",
        "paid",
        "receipts",
        "legal_form",
        "activity",
        "manual",
        "no-response",
        "no-identity-document",
        "refused-to-sign",
    ],
)
def test_every_way_of_falling_away_has_its_own_sentence(app, reason):
    for lang in LANGS:
        with app.test_request_context(f"/{lang}/"):
            first = winner_standing(winners.Standing("fell-away", reason=reason))
            again = winner_standing(winners.Standing("fell-away", reason=reason, redraw_id=7))
            other = winner_standing(winners.Standing("fell-away", reason="x"))
        assert first != other and reason not in first.replace("legal_form", "")
        assert translated(lang, "The prize was drawn again in draw No. %(id)s.", id=7) in again


def test_every_standing_has_its_own_sentence(app):
    for lang in LANGS:
        with app.test_request_context(f"/{lang}/"):
            sentences = {
                code: winner_standing(winners.Standing(code, delivered_on=date(2022, 10, 18)))
                for code in winners.STANDINGS
            }
        assert len(set(sentences.values())) == len(winners.STANDINGS)
        assert all(code not in text for code, text in sentences.items())
