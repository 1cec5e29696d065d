"""Wording a native speaker would sign (issue "What every user sees is true, in their own
language"): the phrases the pages show, in Russian and in Kazakh, exactly."""

from __future__ import annotations

import re

from flask_babel import force_locale

from portal.campaign import eligibility
from portal.campaign.imports import import_month
from portal.campaign.periods import find_period
from portal.models import Campaign, db
from portal.services.eds import Check
from portal.web.urls import SiteLinks
from portal.wording.eds import describe_eds_check
from portal.wording.messages import winner_announcement
from tests.helpers import TODAY, csv_bytes, page_text, row, submit_check


def test_the_self_check_link_says_check_your_participation(client, demo):
    assert "Проверить участие" in page_text(client.get("/ru/ismet-2022/"))
    assert "Проверить себя" not in page_text(client.get("/ru/ismet-2022/"))
    assert "Қатысуды тексеру" in page_text(client.get("/kk/ismet-2022/"))
    assert "Өзіңізді тексеру" not in page_text(client.get("/kk/ismet-2022/"))


def test_receipts_are_made_not_knocked_out(client, demo):
    page = page_text(client.get("/ru/ismet-2022/"))
    assert "Сформируйте через приложение не менее 5 чеков в отчетном месяце." in page
    assert "Выбейте" not in page and "выбит" not in page


def test_the_self_check_counts_as_a_russian_would(app, client, demo):
    with app.app_context():
        september = find_period(db.session.get(Campaign, demo), "2022-09")
        rows = [row(1, paid_months="6", receipts_in_period="3")]
        import_month(september, "sep.csv", csv_bytes(rows), today=TODAY)
        eligibility.compute(september)
        db.session.commit()
    page = page_text(submit_check(client, "ru", rows[0]["account_number"], rows[0]["bin_iin"]))
    assert "Оплачено месяцев: 6 (требуется не менее 1)" in page
    assert "Сформировано чеков: 3 (требуется не менее 5)" in page
    assert "Чеки, сформированные через приложение" in page
    assert "Организационно-правовая форма: ИП" in page  # row 1 is an IE
    kazakh = page_text(submit_check(client, "kk", rows[0]["account_number"], rows[0]["bin_iin"]))
    assert "Төленген ай саны: 6 (қажеті — кемінде 1)" in kazakh
    assert "Ұйымдық-құқықтық нысаны: ЖК" in kazakh


def test_the_thresholds_of_an_eligibility_run_agree_with_their_numbers(app, client, auth, demo):
    with app.app_context():
        september = find_period(db.session.get(Campaign, demo), "2022-09")
        import_month(september, "sep.csv", csv_bytes([row(1)]), today=TODAY)
        eligibility.compute(september)
        db.session.commit()
    auth.login("marketing")  # reads Russian
    page = page_text(client.get("/admin/ismet-2022/participants"))
    assert "пороги: не менее 5 чеков, не менее 1 оплаченного месяца" in page
    assert "1 оплаченных месяцев" not in page


def test_the_winner_is_announced_as_a_russian_would_write_it(app, drawn):
    participant = drawn.participant
    titles, bodies = winner_announcement(drawn, SiteLinks())
    company = participant.company_name
    if participant.legal_form == "LLP":
        named = f"Победителем розыгрыша за сентябрь 2022 г. стало ТОО «{company}»."
        kazakh = f"2022 жылғы қыркүйек бойынша ұтыс ойынының жеңімпазы — «{company}» ЖШС."
    else:
        named = f"Победителем розыгрыша за сентябрь 2022 г. стал ИП «{company}»."
        kazakh = f"2022 жылғы қыркүйек бойынша ұтыс ойынының жеңімпазы — «{company}» ЖК."
    prize = "Приз — сертификат Chocomart номиналом 200\u00a0000\u00a0₸."
    assert bodies["ru"].startswith(f"{named} {prize}")
    assert titles["ru"] == "Победитель розыгрыша за сентябрь 2022 г."
    assert bodies["kk"].startswith(kazakh)
    assert "Жүлдесі — номиналы 200\u00a0000\u00a0₸ болатын Chocomart сертификаты." in bodies["kk"]
    assert titles["kk"] == "2022 жылғы қыркүйек бойынша ұтыс ойынының жеңімпазы"


def test_kazakh_pages_say_the_participants_list_and_one_word_for_the_account(app, client, demo):
    for path in ("/kk/", "/kk/ismet-2022/check", "/kk/ismet-2022/rules", "/kk/ismet-2022/winners"):
        text = page_text(client.get(path))
        assert not re.search(r"\bпул", text, re.IGNORECASE), path
        assert "дербес шот" not in text, path
    assert "жеке шот" in page_text(client.get("/kk/ismet-2022/check"))


def test_an_eds_check_says_its_moments_in_the_reader_s_language(app):
    check = Check("validity", True, params={"at": "2022-10-14T05:00:00+00:00"})
    expired = Check(
        "validity",
        False,
        "expired",
        params={"certificate": "C", "not_after": "2022-10-01T00:00:00+00:00", "at": "T"},
    )
    with app.test_request_context("/ru/"), force_locale("ru"):
        assert (
            describe_eds_check(check)
            == "Сертификат был действителен на момент 14 октября 2022 г., 11:00."
        )
        assert "1 октября 2022 г., 06:00" in describe_eds_check(expired)
    with app.test_request_context("/kk/"), force_locale("kk"):
        assert "2022 жылғы 14 қазан, 11:00" in describe_eds_check(check)
