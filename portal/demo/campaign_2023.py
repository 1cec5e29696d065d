"""The demo's second campaign: spring 2023, three prizes a month, conditions of its own.

Invented for the demo (as its participants are), on the pattern of the 2022 campaign:
the same organizer and territory, 1 March to 31 May 2023, each month one certificate of
500,000 KZT and two of 100,000 KZT. Its conditions (rules 3 and 4 of its own rules):
an individual entrepreneur, signed in to the app by the end of the month, at least 10
receipts issued through the app in the month. Loading is idempotent, as the 2022 part.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa

from portal.campaign import conditions as campaign_conditions
from portal.campaign.conditions import Condition
from portal.campaign.periods import CAMPAIGN_TZ, ensure_periods
from portal.demo.conditions_2022 import standard_2022
from portal.models import Announcement, Campaign, Prize, RulesVersion, db

SLUG = "ismet-2023"
RULES_DIR = Path(__file__).resolve().parent / "rules"

PRIZES = (
    # position, nominal, count a month
    (1, 500_000, 1),
    (2, 100_000, 2),
)


def conditions_2023() -> list[Condition]:
    """App signed in by the month's end (as 2022), 10 receipts in the month, IE only."""
    standard = {c.code: c for c in standard_2022(min_receipts=10)}
    legal_form = Condition(
        "legal_form",
        "legal-form-in",
        "legal_form",
        "legal_form",
        {"forms": ["IE"]},
        name={"kk": "Ұйымдық-құқықтық нысаны — ЖК", "ru": "Организационно-правовая форма — ИП"},
        holds={
            "kk": "Ұйымдық-құқықтық нысаны: {value}",
            "ru": "Организационно-правовая форма: {value}",
        },
        fails={
            "kk": "Ұйымдық-құқықтық нысаны: {value} (акцияға тек ЖК қатысады)",
            "ru": "Организационно-правовая форма: {value} (в акции участвуют только ИП)",
        },
        missing={"kk": "", "ru": ""},
        early={"kk": "", "ru": ""},
    )
    return [standard["app"], standard["receipts"], legal_form]


def rules_text(number: int, lang: str) -> str:
    """The text of this campaign's rules version ``number`` in ``lang``."""
    return (RULES_DIR / f"{SLUG}.v{number}.{lang}.md").read_text(encoding="utf-8")


def load_campaign_2023() -> tuple[Campaign, list[str]]:
    """Create the spring 2023 campaign, its months, prizes, conditions, rules v1 and
    launch announcement (what exists already is left as it is)."""
    done: list[str] = []
    campaign = db.session.scalar(sa.select(Campaign).filter_by(slug=SLUG))
    if campaign is None:
        campaign = Campaign(
            slug=SLUG,
            title_kk="«Ismet.kz көктемі» акциясы",
            title_ru="Акция «Весна с Ismet.kz»",
            organizer_kk="«Қазақтелеком» АҚ филиалы – Корпоративтік бизнес жөніндегі дивизион",
            organizer_ru="Филиал АО «Казахтелеком» – Дивизион по корпоративному бизнесу",
            territory_kk="Қазақстан Республикасының барлық аумағы",
            territory_ru="Вся территория Республики Казахстан",
            starts_on=date(2023, 3, 1),
            ends_on=date(2023, 5, 31),
            status=Campaign.PUBLISHED,
        )
        db.session.add(campaign)
        done.append("campaign")
    before = len(campaign.periods)
    ensure_periods(campaign)
    if len(campaign.periods) != before:
        done.append(f"{len(campaign.periods) - before} reporting months")
    if not campaign.prizes:
        for position, nominal, count in PRIZES:
            campaign.prizes.append(
                Prize(
                    supplier="Chocomart",
                    name_kk="Chocomart сертификаты",
                    name_ru="Сертификат Chocomart",
                    nominal_kzt=nominal,
                    vat_included=True,
                    count_per_period=count,
                    position=position,
                )
            )
        done.append("prizes")
    db.session.flush()
    if not campaign_conditions.of_campaign(campaign):
        campaign_conditions.replace(campaign, conditions_2023())
        done.append("eligibility conditions")

    version = db.session.scalar(
        sa.select(RulesVersion).filter_by(campaign_id=campaign.id, number=1)
    )
    if version is None:
        published_at = datetime(2023, 2, 27, 10, 0, tzinfo=CAMPAIGN_TZ)
        version = RulesVersion(
            campaign=campaign,
            number=1,
            body_kk=rules_text(1, "kk"),
            body_ru=rules_text(1, "ru"),
            summary_kk="Акция ережелерінің бастапқы редакциясы.",
            summary_ru="Первоначальная редакция правил акции.",
            effective_on=date(2023, 3, 1),
            published=True,
            published_at=published_at,
        )
        db.session.add(version)
        db.session.add(
            Announcement(
                campaign=campaign,
                kind=Announcement.KIND_NOTICE,
                rules_version=version,
                title_kk="«Ismet.kz көктемі» акциясы 1 наурызда басталады",
                title_ru="1 марта стартует акция «Весна с Ismet.kz»",
                body_kk=(
                    "2023 жылғы 1 наурыздан 31 мамырға дейін Ismet.kz қосымшасын пайдаланатын "
                    "жеке кәсіпкерлер арасында ай сайын үш Chocomart сертификаты ойнатылады: "
                    "біреуі 500 000 теңгелік және екеуі 100 000 теңгелік. Қатысу үшін ай "
                    "соңына дейін қосымшада авторизациядан өтіп, сол айда қосымша арқылы "
                    "кемінде 10 чек шығару қажет. Толық шарттары акция ережелерінде."
                ),
                body_ru=(
                    "С 1 марта по 31 мая 2023 года среди индивидуальных предпринимателей, "
                    "работающих в приложении Ismet.kz, ежемесячно разыгрываются три "
                    "сертификата Chocomart: один на 500 000 тенге и два на 100 000 тенге. "
                    "Для участия необходимо до конца месяца авторизоваться в приложении и "
                    "выбить через него в этом месяце не менее 10 чеков. Полные условия "
                    "изложены в правилах акции."
                ),
                published_at=published_at,
            )
        )
        done.append("rules version 1 and its announcement")
    db.session.commit()
    return campaign, done
