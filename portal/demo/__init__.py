"""The demo: the 2022 Ismet.kz campaign from its official rules, and beside it an
invented spring 2023 campaign (``portal.demo.campaign_2023``).

Loading is idempotent: what exists already (matched by its natural key) is left as
it is, what is missing is added. Later parts of the demo (synthetic participants,
draws, winners) hang off the campaign created here.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa

from portal.campaign import conditions as campaign_conditions
from portal.campaign import draws, ledger
from portal.campaign.audit import Actor
from portal.campaign.eligibility import latest_run
from portal.campaign.imports import existing_batch, layout_of, run_import
from portal.campaign.links import Links
from portal.campaign.periods import CAMPAIGN_TZ, ensure_periods, local_today
from portal.demo.campaign_2023 import SLUG as SLUG_2023
from portal.demo.campaign_2023 import load_campaign_2023
from portal.demo.conditions_2022 import standard_2022
from portal.demo.participants import month_files, month_files_2023
from portal.demo.randomorg_standin import StandIn
from portal.demo.winners import PATHS, DrawSite, announce
from portal.models import Announcement, Campaign, Prize, RulesVersion, db
from portal.services.randomorg import RandomOrgClient

RULES_DIR = Path(__file__).resolve().parent / "rules"
CAMPAIGN_SLUG = "ismet-2022"
DEMO = Actor(label="demo")
# What ``flask demo`` loads, in order; the tests' ``demo`` fixture loads the first alone.
CAMPAIGNS = (CAMPAIGN_SLUG, SLUG_2023)


def rules_text(number: int, lang: str) -> str:
    """The text of the demo's rules version ``number`` in ``lang``."""
    return (RULES_DIR / f"v{number}.{lang}.md").read_text(encoding="utf-8")


def load_campaign() -> tuple[Campaign, list[str]]:
    """Create the 2022 campaign, its months, prize, rules v1 and launch announcement."""
    done: list[str] = []
    campaign = db.session.scalar(sa.select(Campaign).filter_by(slug=CAMPAIGN_SLUG))
    if campaign is None:
        campaign = Campaign(
            slug=CAMPAIGN_SLUG,
            title_kk="«Ismet.kz мобильді қосымша» акциясы",
            title_ru="Акция «Мобильное приложение Ismet.kz»",
            organizer_kk="«Қазақтелеком» АҚ филиалы – Корпоративтік бизнес жөніндегі дивизион",
            organizer_ru="Филиал АО «Казахтелеком» – Дивизион по корпоративному бизнесу",
            territory_kk="Қазақстан Республикасының барлық аумағы",
            territory_ru="Вся территория Республики Казахстан",
            starts_on=date(2022, 9, 1),
            ends_on=date(2022, 11, 30),
        )
        db.session.add(campaign)
        done.append("campaign")
    before = len(campaign.periods)
    ensure_periods(campaign)
    if len(campaign.periods) != before:
        done.append(f"{len(campaign.periods) - before} reporting months")
    if not campaign.prizes:
        campaign.prizes.append(
            Prize(
                supplier="Chocomart",
                name_kk="Chocomart сертификаты",
                name_ru="Сертификат Chocomart",
                nominal_kzt=200_000,
                vat_included=True,
                count_per_period=1,
            )
        )
        done.append("prize")
    db.session.flush()
    if not campaign_conditions.of_campaign(campaign):
        campaign_conditions.replace(campaign, standard_2022())  # rule 4's: 5 receipts, 1 month
        done.append("eligibility conditions")

    version = db.session.scalar(
        sa.select(RulesVersion).filter_by(campaign_id=campaign.id, number=1)
    )
    if version is None:
        published_at = datetime(2022, 9, 1, 0, 0, tzinfo=CAMPAIGN_TZ)
        version = RulesVersion(
            campaign=campaign,
            number=1,
            body_kk=rules_text(1, "kk"),
            body_ru=rules_text(1, "ru"),
            summary_kk="Акция ережелерінің бастапқы редакциясы.",
            summary_ru="Первоначальная редакция правил акции.",
            effective_on=date(2022, 9, 1),
            published=True,
            published_at=published_at,
        )
        db.session.add(version)
        db.session.add(
            Announcement(
                campaign=campaign,
                kind=Announcement.KIND_NOTICE,
                rules_version=version,
                title_kk="«Ismet.kz мобильді қосымша» акциясы басталды",
                title_ru="Стартовала акция «Мобильное приложение Ismet.kz»",
                body_kk=(
                    "2022 жылғы 1 қыркүйектен 30 қарашаға дейін Ismet.kz қосымшасының ШОБ "
                    "клиенттері арасында ай сайын 200 000 теңгелік Chocomart сертификаты "
                    "ойнатылады. Қатысу шарттары акция ережелерінде."
                ),
                body_ru=(
                    "С 1 сентября по 30 ноября 2022 года среди клиентов МСБ приложения "
                    "Ismet.kz ежемесячно разыгрывается сертификат Chocomart на 200 000 тенге. "
                    "Условия участия изложены в правилах акции."
                ),
                published_at=published_at,
            )
        )
        done.append("rules version 1 and its announcement")
    db.session.commit()
    return campaign, done


def load_participants(campaign: Campaign) -> list[str]:
    """Import the synthetic months that have no data yet, and compute their eligibility."""
    done = []
    files = None
    for period in campaign.periods:
        if existing_batch(period) is not None:
            continue
        files = files or _month_files(campaign)
        data = files.get(period.key)
        if data is None:
            continue
        outcome = run_import(
            period, f"demo-{period.key}.csv", data, actor=DEMO, today=local_today()
        )
        if not outcome.report.ok:
            raise RuntimeError(
                f"demo data for {period.key} failed its own checks: {outcome.report.problems[:3]}"
            )
        db.session.commit()
        batch, run = outcome.batch, outcome.run
        done.append(f"{period.key}: {batch.rows} participants, {run.eligible} eligible")
    return done


def _month_files(campaign: Campaign) -> dict[str, bytes]:
    if campaign.slug == SLUG_2023:
        return month_files_2023(layout_of(campaign).names)
    return month_files()


def load(
    slugs: tuple[str, ...] = CAMPAIGNS, *, secret: str | bytes, links: Links
) -> list[tuple[Campaign, list[str]]]:
    """``flask demo``: each campaign of ``slugs`` with its participants, draws and
    winners; returns each campaign with what was added to it."""
    loaders = {CAMPAIGN_SLUG: load_campaign, SLUG_2023: load_campaign_2023}
    out = []
    for slug in slugs:
        campaign, done = loaders[slug]()
        done += load_participants(campaign)
        done += load_draws(campaign, secret=secret, links=links)
        out.append((campaign, done))
    return out


# The demo's commission: invented people, as all the demo's data; each position in
# Kazakh and in Russian, as the public record and the protocols show it.
DEMO_COMMISSION = (
    ("Айгүл Сәрсенова", "маркетинг бөлімінің басшысы", "руководитель отдела маркетинга"),
    (
        "Ерлан Жұмабаев",
        "корпоративтік бизнес дирекциясының заңгері",
        "юрист дирекции корпоративного бизнеса",
    ),
    ("Динара Ахметова", "маркетинг жөніндегі менеджер", "менеджер по маркетингу"),
)


# When the demo's draws are held: on time, on 2022's real calendar, so that every
# deadline the portal counts from them falls on a real working day of that year.
DRAW_MOMENTS = {
    "2022-09": datetime(2022, 10, 10, 11, 0, tzinfo=CAMPAIGN_TZ),  # Monday
    "2022-10": datetime(2022, 11, 10, 11, 0, tzinfo=CAMPAIGN_TZ),  # Thursday
    "2022-11": datetime(2022, 12, 9, 11, 0, tzinfo=CAMPAIGN_TZ),  # Friday
    "2023-03": datetime(2023, 4, 10, 11, 0, tzinfo=CAMPAIGN_TZ),  # Monday
    "2023-04": datetime(2023, 5, 10, 11, 0, tzinfo=CAMPAIGN_TZ),  # Wednesday
}
# Months the demo imports and leaves undrawn: staff see a month waiting for its draw.
NOT_DRAWN = {"2023-05"}
DEMO_PLACE = {"kk": "Алматы қ., Абай даңғылы, 100", "ru": "г. Алматы, пр. Абая, 100"}
# Stored only for a month drawn after its deadline (one not in DRAW_MOMENTS is drawn now).
DEMO_LATE_REASON = {
    "kk": "Демонстрациялық деректер: жеребе random.org-тың сынақ серверімен өткізілді.",
    "ru": "Демонстрационные данные: розыгрыш проведен на тестовом сервере random.org.",
}


def load_draws(campaign: Campaign, *, secret: str | bytes, links: Links) -> list[str]:
    """Hold the draws of the months that have none, through the stand-in random.org,
    and take each month's winners along their path (``portal.demo.winners``).

    ``secret`` is the site's secret key (the draws' entry keys are made from it) and
    ``links`` its addresses, printed in the protocols and the announcements.

    They are signed with the stand-in's test key, so every page says they prove
    nothing about random.org.
    """

    due = [
        period
        for period in campaign.periods
        if period.key not in NOT_DRAWN
        and draws.current_draw(period) is None
        and eligibility_computed(period)
    ]
    if not due:
        return []
    done = []
    with StandIn() as standin:
        client = RandomOrgClient(standin.url, standin.api_key, standin.public_key_pem)
        # a stand-in started again numbers on from the answers a previous run left
        standin.continue_after(ledger.highest_serial(client.hashed_api_key))
        site = DrawSite(secret, links, client, standin)
        for period in due:
            pool = draws.prepare(period, secret=secret)
            if pool.size == 0:
                continue
            when = DRAW_MOMENTS.get(period.key) or datetime.now(CAMPAIGN_TZ)
            standin.clock = lambda when=when: when
            announce(pool, when)  # published before it is drawn
            draw = draws.conduct(
                pool,
                commission=[draws.Member(*member) for member in DEMO_COMMISSION],
                place=DEMO_PLACE,
                links=links,
                actor_label="demo",
                late_reason=DEMO_LATE_REASON,
                client=client,
                now=when,
            )
            done.append(f"draw {draw.id} for {period.key} (pool {draw.pool_size})")
            path = PATHS.get(period.key)
            if path is not None:
                done += path(draw, site)
    return done


def eligibility_computed(period) -> bool:

    return latest_run(period) is not None
