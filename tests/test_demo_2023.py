"""The demo's second campaign, spring 2023 (``flask demo`` loads it beside 2022's): its
months, prizes, conditions, draws and winners, its draws verified (by the portal and by
verify.py), its public pages in both languages; the 2022 campaign's results unchanged."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests
import sqlalchemy as sa

from portal.campaign import draws, winners
from portal.campaign.conditions import of_campaign
from portal.campaign.eligibility import latest_run
from portal.campaign.imports import existing_batch
from portal.campaign.periods import CAMPAIGN_TZ
from portal.demo import CAMPAIGN_SLUG
from portal.demo.campaign_2023 import SLUG
from portal.demo.randomorg_standin import StandIn
from portal.models import Announcement, Campaign, Draw, RulesVersion, Winner, db
from portal.wording.messages import describe_refusal, winner_outcome_name
from tests.helpers import make_staff, page_text, serving, sign_in_client, translated
from tests.languages import VisibleText, offending_words, pdf_text, shown_names
from tests.test_verify_py import ALL_HOLD_OTHER_KEY
from tests.verifier_draws import run_verify


def _campaign(ids) -> Campaign:
    return db.session.get(Campaign, ids[SLUG])


def _month_draws(period) -> list[Draw]:
    return list(db.session.scalars(sa.select(Draw).filter_by(period_id=period.id)))


def test_the_second_campaign_has_its_months_prizes_and_conditions(app, demo_both):
    with app.app_context():
        campaign = _campaign(demo_both)
        assert campaign.status == Campaign.PUBLISHED
        assert (campaign.starts_on.isoformat(), campaign.ends_on.isoformat()) == (
            "2023-03-01",
            "2023-05-31",
        )
        assert [p.key for p in campaign.periods] == ["2023-03", "2023-04", "2023-05"]
        prizes = sorted(campaign.prizes, key=lambda p: p.position)
        assert [(p.position, p.nominal_kzt, p.count_per_period, p.period_id) for p in prizes] == [
            (1, 500_000, 1, None),
            (2, 100_000, 2, None),
        ]
        applied = {c.code: c for c in of_campaign(campaign)}
        assert set(applied) == {"app", "receipts", "legal_form"}
        assert applied["app"].kind == "date-by-period-end"
        assert applied["receipts"].params["min"] == 10
        assert applied["legal_form"].params["forms"] == ["IE"]
        version = db.session.scalar(
            sa.select(RulesVersion).filter_by(campaign_id=campaign.id, number=1)
        )
        assert version.published
        assert "2023 жылғы 1 наурыздан 31 мамырға дейін" in version.body_kk
        assert "с 1 марта по 31 мая 2023 года" in version.body_ru
        for body in (version.body_kk, version.body_ru):
            assert "500 000" in body and "100 000" in body and "10 ч" in body
        # every month imported and judged; only IEs with 10 receipts and the app take part
        for period in campaign.periods:
            assert existing_batch(period) is not None
            run = latest_run(period)
            assert 0 < run.eligible < existing_batch(period).rows


def test_march_and_april_are_drawn_with_three_prizes_may_is_not(app, demo_both):
    with app.app_context():
        campaign = _campaign(demo_both)
        march, april, may = campaign.periods
        assert _month_draws(may) == []
        for period in (march, april):
            (draw,) = _month_draws(period)
            drawn = winners.winners_of_draw(draw)
            assert sorted(w.prize.nominal_kzt for w in drawn) == [100_000, 100_000, 500_000]
            for winner in drawn:
                assert winner.participant.legal_form == "IE"
                assert winner.status in winners.VERIFIED_STANDING and not winner.outcome
                assert winner.published_at is not None
                assert winner.prize.campaign_id == campaign.id
            assert draws.verified(draws.verify(draw))
        for winner in winners.winners_of_draw(_month_draws(march)[0]):
            # September 2022's path: delivered, then published with its photo
            assert winner.status == Winner.PUBLISHED
            assert winner.delivered_on is not None and winner.photo_path


def test_the_2022_results_are_those_it_has_alone(app, demo_both):
    """The 2022 campaign loaded beside the 2023 one: its months and draws as always."""
    with app.app_context():
        campaign = db.session.get(Campaign, demo_both[CAMPAIGN_SLUG])
        assert [latest_run(p).eligible for p in campaign.periods] == [453, 759, 965]
        pools = db.session.scalars(
            sa.select(Draw.pool_size)
            .join(Draw.period)
            .filter_by(campaign_id=campaign.id)
            .order_by(Draw.id)
        ).all()
        assert len(pools) == 5  # three months, two of them drawn again
        assert {p.count_per_period for p in campaign.prizes} == {1}


def test_the_second_campaigns_draws_verify_with_verify_py(app, demo_both, tmp_path):
    with app.app_context():
        ids = db.session.scalars(
            sa.select(Draw.id)
            .join(Draw.period)
            .filter_by(campaign_id=demo_both[SLUG])
            .order_by(Draw.id)
        ).all()
    assert len(ids) == 2
    key = tmp_path / "standin.pem"
    key.write_text(StandIn().public_key_pem)
    with serving(app) as url:
        for draw_id, lang in zip(ids, ("kk", "ru"), strict=True):
            status, outcomes, output = run_verify("--key", key, f"{url}/{lang}/draws/{draw_id}")
            assert (status, outcomes) == (0, ALL_HOLD_OTHER_KEY), output
            assert requests.get(f"{url}/{lang}/draws/{draw_id}", timeout=10).status_code == 200


def test_the_public_pages_of_the_second_campaign_answer_in_both_languages(app, client, demo_both):
    with app.app_context():
        campaign = _campaign(demo_both)
        draw_ids = [d.id for p in campaign.periods for d in _month_draws(p)]
        news = db.session.scalars(
            sa.select(Announcement.id).filter_by(campaign_id=campaign.id)
        ).all()
        assert len(news) >= 1 + 2 + 6  # the launch, two pools announced, six winners
        titles = db.session.scalars(
            sa.select(Announcement.title_ru).filter_by(campaign_id=campaign.id)
        ).all()
        assert "Победитель розыгрыша за март 2023 г.: приз 500\u00a0000\u00a0₸" in titles
        assert titles.count("Победитель розыгрыша за апрель 2023 г.: приз 100\u00a0000\u00a0₸") == 2
        names = {c.code: c.name for c in of_campaign(campaign)}
        prize_name = {"kk": campaign.prizes[0].name_kk, "ru": campaign.prizes[0].name_ru}
    for lang in ("kk", "ru"):
        home = page_text(client.get(f"/{lang}/"))
        assert "«Ismet.kz көктемі»" in home or "«Весна с Ismet.kz»" in home
        assert f'href="/{lang}/ismet-2023/"' in home and f'href="/{lang}/ismet-2022/"' in home
        paths = [
            f"/{lang}/ismet-2023/",
            f"/{lang}/ismet-2023/rules",
            f"/{lang}/ismet-2023/rules/v1",
            f"/{lang}/ismet-2023/rules/history",
            f"/{lang}/ismet-2023/winners",
            f"/{lang}/ismet-2023/winners/2023-03",
            f"/{lang}/ismet-2023/winners/2023-04",
            f"/{lang}/ismet-2023/winners/2023-05",
            f"/{lang}/ismet-2023/draws",
            f"/{lang}/ismet-2023/news",
            f"/{lang}/ismet-2023/check",
            *(f"/{lang}/draws/{i}" for i in draw_ids),
            *(f"/{lang}/ismet-2023/news/{i}" for i in news),
        ]
        for path in paths:
            assert client.get(path).status_code == 200, path
        page = page_text(client.get(f"/{lang}/ismet-2023/"))
        # how to take part: each condition as a sentence, with its threshold
        how = page.split(translated(lang, "How to take part"))[1]
        for sentence in (
            translated(
                lang,
                "%(name)s: no later than the last day of the reporting month.",
                name=names["app"][lang],
            ),
            translated(
                lang,
                "%(name)s: at least %(num)s in the reporting month.",
                name=names["receipts"][lang],
                num="10",
            ),
            translated(lang, "Legal form: %(forms)s.", forms=translated(lang, "IE")),
        ):
            assert sentence in how
        # the prizes of a month, each with its count, on the list and the campaign page
        for value, count in (("500 000 ₸", 1), ("100 000 ₸", 2)):
            line = translated(
                lang,
                "%(name)s worth %(value)s — %(num)s pcs.",
                name=prize_name[lang],
                value=value,
                num=count,
            )
            assert line in page and line in home
        winners_page = page_text(client.get(f"/{lang}/ismet-2023/winners/2023-03"))
        assert winners_page.count("500 000 ₸") >= 1 and winners_page.count("100 000 ₸") >= 2


def test_a_fallen_winner_of_the_second_campaign_is_named_by_its_condition(app, client, demo_both):
    with app.app_context():
        campaign = _campaign(demo_both)
        winner = winners.winners_of_draw(_month_draws(campaign.periods[1])[0])[0]
        winner.outcome = "legal_form"  # as a failed verification records it
        db.session.commit()
        winner_id = winner.id
        make_staff("admin@ismet.kz", "admin")
    with app.test_request_context("/ru/"):
        with app.app_context():
            applied = of_campaign(db.session.get(Campaign, demo_both[SLUG]))
        assert "ИП или ТОО" not in winner_outcome_name("legal_form", applied)
    sign_in_client(client, "admin@ismet.kz")
    page = page_text(client.get(f"/admin/{SLUG}/winners/{winner_id}"))
    names = next(c.name for c in applied if c.code == "legal_form")
    assert any(name in page for name in names.values())
    assert translated("kk", "Legal form IE or LLP") not in page
    assert translated("ru", "Legal form IE or LLP") not in page


def _paths_2023(campaign_id: int, lang: str) -> list[str]:
    campaign = db.session.get(Campaign, campaign_id)
    draw_ids = [d.id for p in campaign.periods for d in _month_draws(p)]
    news = db.session.scalars(sa.select(Announcement.id).filter_by(campaign_id=campaign_id))
    return [
        f"/{lang}/",
        *(
            f"/{lang}/ismet-2023/{page}"
            for page in ("", "rules", "rules/v1", "rules/history", "winners", "draws", "news")
        ),
        *(f"/{lang}/ismet-2023/winners/{p.key}" for p in campaign.periods),
        *(f"/{lang}/draws/{d}" for d in draw_ids),
        *(f"/{lang}/ismet-2023/news/{n}" for n in news),
        f"/{lang}/ismet-2023/rules/v1.pdf",
        *(f"/{lang}/draws/{d}/protocol.pdf" for d in draw_ids),
    ]


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_the_second_campaign_reads_in_one_language(app, client, demo_both, lang):
    """Its pages, rules and protocols, and its winners' staff pages, as
    tests/test_languages.py checks the 2022 campaign's: no word of the other language."""
    names = shown_names(app)
    with app.app_context():
        paths = _paths_2023(demo_both[SLUG], lang)
        winner_ids = db.session.scalars(
            sa.select(Winner.id).join(Winner.period).filter_by(campaign_id=demo_both[SLUG])
        ).all()
        make_staff(f"admin-{lang}@ismet.kz", "admin", language=lang)
    offences = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        if path.endswith(".pdf"):
            text = pdf_text(response.data)
        else:
            text = VisibleText.of(response.get_data(as_text=True), lang)
        if words := offending_words(text, lang, names):
            offences[path] = words
    sign_in_client(client, f"admin-{lang}@ismet.kz")
    for winner_id in winner_ids:
        path = f"/admin/{SLUG}/winners/{winner_id}"
        response = client.get(path)
        assert response.status_code == 200, path
        text = VisibleText.of(response.get_data(as_text=True), lang)
        # the demo's staff notes are Kazakh text, shown as written
        if words := offending_words(text, lang, names, letters=False):
            offences[path] = words
    assert not offences, "\n".join(f"{where}: {' '.join(w)}" for where, w in offences.items())


def test_the_sentences_of_a_month_of_three_prizes_speak_of_winners(app, client, demo_both):
    """Issue 19: May (three prizes, not drawn) awaits its winners, and March's three prizes
    have been drawn; a month of the one-prize 2022 campaign reads as before."""
    with app.app_context():
        campaign = _campaign(demo_both)
        march, _, may = campaign.periods
        assert draws.prize_count(may) == 3 and not _month_draws(may)
        after = datetime(2023, 6, 25, 12, 0, tzinfo=CAMPAIGN_TZ)
        march_refusals = draws.refusals(march, None, after)
        first_2022 = db.session.get(Campaign, demo_both[CAMPAIGN_SLUG]).periods[0]
        assert draws.prize_count(first_2022) == 1
        refusals_2022 = draws.refusals(first_2022, None, after)
    plural = (
        "The winners of this month will be published here after the draw and the check of"
        " the winners."
    )
    singular = (
        "The winner of this month will be published here after the draw and the check of"
        " the winner."
    )
    for lang, sentence in (
        ("kk", "Осы айдың жеңімпаздары ұтыс ойыны өткізіліп"),
        ("ru", "Победители этого месяца будут объявлены здесь"),
    ):
        page = page_text(client.get(f"/{lang}/ismet-2023/winners/2023-05"))
        assert translated(lang, plural) in page and sentence in page
        assert translated(lang, singular) not in page
        table = page_text(client.get(f"/{lang}/ismet-2023/winners"))
        assert translated(lang, "Reporting month") in table
        assert translated(lang, "Reporting period") not in table
    assert [r.code for r in march_refusals] == ["already-drawn"]
    assert [r.code for r in refusals_2022] == ["already-drawn"]
    with app.test_request_context("/ru/"):
        assert describe_refusal(march_refusals[0]) == (
            "Призы за март 2023 г. уже разыграны; новый розыгрыш может быть только повторным."
        )
        assert describe_refusal(refusals_2022[0]).startswith("Приз за ")
        assert "уже разыгран;" in describe_refusal(refusals_2022[0])
