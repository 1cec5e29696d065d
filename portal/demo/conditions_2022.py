"""The 2022 campaign's eligibility conditions (rules 3, 4.1 and 4.2), as data.

The demo gives them to the campaign it creates (migration 0030 wrote the same rows for
the campaigns that existed before it).
"""

from __future__ import annotations

from portal.campaign.conditions import Condition

# The 2022 campaign's five conditions (rules 3, 4.1 and 4.2), with today's sentences.
STANDARD_2022 = (
    {
        "code": "app",
        "kind": "date-by-period-end",
        "slot": "app_authorized_on",
        "column": "app_authorized_on",
        "params": {},
        "name_kk": "Ismet.kz қосымшасында авторизациядан өткен",
        "name_ru": "Авторизация в приложении Ismet.kz",
        "holds_kk": "Авторизация күні: {value} — ай соңына дейін",
        "holds_ru": "Авторизация {value} — до окончания месяца",
        "fails_kk": "Авторизация күні: {value} — айдың соңынан кейін",
        "fails_ru": "Авторизация {value} — после окончания месяца",
        "missing_kk": "Қосымшада авторизация жоқ.",
        "missing_ru": "Авторизации в приложении нет.",
        "early_kk": "",
        "early_ru": "",
    },
    {
        "code": "ekassa",
        "kind": "date-within",
        "slot": "ekassa_connected_on",
        "column": "ekassa_connected_on",
        "params": {"from": "campaign-start", "to": ["campaign-end", "period-end"]},
        "name_kk": "Акция кезеңінде e-касса қосылған",
        "name_ru": "E-касса подключена в период акции",
        "holds_kk": "E-касса қосылған күн: {value} — акция кезеңінде",
        "holds_ru": "E-касса подключена {value} — в период акции",
        "fails_kk": "E-касса қосылған күн: {value} — айдың соңынан кейін",
        "fails_ru": "E-касса подключена {value} — после окончания месяца",
        "missing_kk": "E-касса қосылмаған.",
        "missing_ru": "E-касса не подключена.",
        "early_kk": "E-касса қосылған күн: {value} — акция басталғанға дейін",
        "early_ru": "E-касса подключена {value} — до начала акции",
    },
    {
        "code": "paid",
        "kind": "number-at-least",
        "slot": "paid_months",
        "column": "paid_months",
        "params": {"min": 1},
        "name_kk": "Қызметке төлем жасалған",
        "name_ru": "Услуга оплачена",
        "holds_kk": "Төленген ай саны: {value} (қажеті — кемінде {threshold})",
        "holds_ru": "Оплачено месяцев: {value} (требуется не менее {threshold})",
        "fails_kk": "Төленген ай саны: {value} (қажеті — кемінде {threshold})",
        "fails_ru": "Оплачено месяцев: {value} (требуется не менее {threshold})",
        "missing_kk": "",
        "missing_ru": "",
        "early_kk": "",
        "early_ru": "",
    },
    {
        "code": "receipts",
        "kind": "count-at-least",
        "slot": "receipts_in_period",
        "column": "receipts_in_period",
        "params": {"min": 5},
        "name_kk": "Қосымша арқылы шығарылған чектер",
        "name_ru": "Чеки, сформированные через приложение",
        "holds_kk": "Шығарылған чек саны: {value} (қажеті — кемінде {threshold})",
        "holds_ru": "Сформировано чеков: {value} (требуется не менее {threshold})",
        "fails_kk": "Шығарылған чек саны: {value} (қажеті — кемінде {threshold})",
        "fails_ru": "Сформировано чеков: {value} (требуется не менее {threshold})",
        "missing_kk": "",
        "missing_ru": "",
        "early_kk": "",
        "early_ru": "",
    },
    {
        "code": "legal_form",
        "kind": "legal-form-in",
        "slot": "legal_form",
        "column": "legal_form",
        "params": {"forms": ["IE", "LLP"]},
        "name_kk": "Ұйымдық-құқықтық нысаны ЖК немесе ЖШС",
        "name_ru": "Организационно-правовая форма ИП или ТОО",
        "holds_kk": "Ұйымдық-құқықтық нысаны: {value}",
        "holds_ru": "Организационно-правовая форма: {value}",
        "fails_kk": "Ұйымдық-құқықтық нысаны: {value}",
        "fails_ru": "Организационно-правовая форма: {value}",
        "missing_kk": "",
        "missing_ru": "",
        "early_kk": "",
        "early_ru": "",
    },
)


def standard_2022(min_receipts: int = 5, min_paid_months: int = 1) -> list[Condition]:
    """The five conditions, with these thresholds."""
    minimums = {"receipts": min_receipts, "paid": min_paid_months}
    out = []
    for row in STANDARD_2022:
        params = (
            {**row["params"], "min": minimums[row["code"]]}
            if row["code"] in minimums
            else row["params"]
        )
        texts = {
            text: {lang: row[f"{text}_{lang}"] for lang in ("kk", "ru")}
            for text in ("name", "holds", "fails", "missing", "early")
        }
        out.append(Condition(row["code"], row["kind"], row["slot"], row["column"], params, **texts))
    return out
