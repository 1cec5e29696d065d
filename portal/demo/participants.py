"""Synthetic participants for the demo: deterministic, realistic, clearly fake.

Every number is generated from a fixed seed, so each run of ``flask demo`` makes
the same files; they go through the same import as a real month (CSV, all checks).
Names are made up, e-mail addresses use example.kz, and BIN/IINs are random
numbers given a valid control digit.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

from portal.campaign.identity import with_control_digit
from portal.campaign.imports import COLUMNS

SEED = 2022
PARTICIPANTS = 3000  # at the start; about 12 % more join each month
CITIES = [
    "Алматы",
    "Астана",
    "Шымкент",
    "Қарағанды",
    "Ақтөбе",
    "Тараз",
    "Павлодар",
    "Өскемен",
    "Семей",
    "Атырау",
    "Қостанай",
    "Орал",
]
SURNAMES = [
    "Ахметов",
    "Бекова",
    "Жумабаев",
    "Искакова",
    "Касымов",
    "Нурланова",
    "Оспанов",
    "Сариева",
    "Тулегенов",
    "Утебаева",
    "Ким",
    "Иванова",
    "Петров",
    "Абенова",
    "Садыков",
]
GIVEN = [
    "Айдар",
    "Алия",
    "Бауыржан",
    "Гульнара",
    "Данияр",
    "Жанар",
    "Ерлан",
    "Мадина",
    "Нурлан",
    "Салтанат",
    "Тимур",
    "Асель",
]
TRADES = [
    "Дүкен",
    "Кофейня",
    "Дәріхана",
    "Шеберхана",
    "Наубайхана",
    "Салон",
    "Маркет",
    "Сервис",
    "Гүлдер",
    "Кітаптар",
]


def _bin_iin(rng: random.Random) -> str:
    while True:
        number = with_control_digit(f"{rng.randrange(10**10, 10**11):011d}")
        if number:
            return number


def _day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def _client(rng: random.Random, n: int) -> dict:
    legal_form = "IE" if rng.random() < 0.62 else "LLP"
    surname, given = rng.choice(SURNAMES), rng.choice(GIVEN)
    trade = rng.choice(TRADES)
    company = f"{trade} {surname}"  # as registered: the legal form is a column of its own
    roll = rng.random()
    if roll < 0.80:
        month = rng.choices([9, 10, 11], weights=[6, 3, 1])[0]
        ekassa = _day(rng, date(2022, month, 1), date(2022, month, 30))
    elif roll < 0.93:
        ekassa = _day(rng, date(2021, 1, 1), date(2022, 8, 31))  # before the campaign
    else:
        ekassa = None
    app = _day(rng, date(2021, 6, 1), date(2022, 11, 30)) if rng.random() < 0.94 else None
    return {
        "account_number": f"30{n:08d}",
        "bin_iin": _bin_iin(rng),
        "legal_form": legal_form,
        "company_name": company,
        "director_name": f"{surname} {given}",
        "email": f"client{n}@example.kz",
        "phone": f"+7701{rng.randrange(10**7):07d}",
        "city": rng.choice(CITIES),
        "app": app,
        "ekassa": ekassa,
        "paid": 0 if rng.random() < 0.07 else rng.randint(1, 12),
        "activity": rng.choice([0.5, 2.0, 4.0, 8.0, 15.0]),
    }


def month_files() -> dict[str, bytes]:
    """The demo's CSV file for each of September, October and November 2022."""
    rng = random.Random(SEED)
    clients = [_client(rng, n) for n in range(1, PARTICIPANTS + 1)]
    files = {}
    for month, key in ((9, "2022-09"), (10, "2022-10"), (11, "2022-11")):
        if month > 9:
            joined = len(clients)
            clients += [_client(rng, n) for n in range(joined + 1, joined + 1 + PARTICIPANTS // 8)]
        month_end = date(2022, month, 30) if month != 10 else date(2022, 10, 31)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for client in clients:
            receipts = int(
                rng.expovariate(1 / client["activity"]) + (2 if rng.random() < 0.5 else 0)
            )
            writer.writerow(
                [
                    client["account_number"],
                    client["bin_iin"],
                    client["legal_form"],
                    client["company_name"],
                    client["director_name"],
                    client["email"],
                    client["phone"],
                    client["city"],
                    client["app"].isoformat()
                    if client["app"] and client["app"] <= month_end + timedelta(days=40)
                    else "",
                    client["ekassa"].isoformat()
                    if client["ekassa"] and client["ekassa"] <= month_end + timedelta(days=20)
                    else "",
                    client["paid"],
                    receipts,
                ]
            )
        files[key] = out.getvalue().encode("utf-8")
    return files


# The spring 2023 campaign's clients: others than 2022's (a seed of their own), read with
# that campaign's import format (its conditions' columns only: app date and receipts).
SEED_2023 = 2023
PARTICIPANTS_2023 = 2000
MONTHS_2023 = (
    ("2023-03", date(2023, 3, 31)),
    ("2023-04", date(2023, 4, 30)),
    ("2023-05", date(2023, 5, 31)),
)


def _client_2023(rng: random.Random, n: int) -> dict:
    surname, given = rng.choice(SURNAMES), rng.choice(GIVEN)
    app = _day(rng, date(2021, 6, 1), date(2023, 5, 31)) if rng.random() < 0.95 else None
    return {
        "account_number": f"31{n:08d}",
        "bin_iin": _bin_iin(rng),
        "legal_form": "IE" if rng.random() < 0.7 else "LLP",
        "company_name": f"{rng.choice(TRADES)} {surname}",
        "director_name": f"{surname} {given}",
        "email": f"client23-{n}@example.kz",
        "phone": f"+7702{rng.randrange(10**7):07d}",
        "city": rng.choice(CITIES),
        "app": app,
        "activity": rng.choice([1.0, 4.0, 8.0, 15.0, 30.0]),
    }


def month_files_2023(columns: tuple[str, ...]) -> dict[str, bytes]:
    """The demo's CSV file for each of March, April and May 2023, with ``columns`` (the
    campaign's import format: identity, ``app_authorized_on``, ``receipts_in_period``)."""
    rng = random.Random(SEED_2023)
    clients = [_client_2023(rng, n) for n in range(1, PARTICIPANTS_2023 + 1)]
    files = {}
    for number, (key, month_end) in enumerate(MONTHS_2023):
        if number:
            joined = len(clients)
            more = PARTICIPANTS_2023 // 8
            clients += [_client_2023(rng, n) for n in range(joined + 1, joined + 1 + more)]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for client in clients:
            app = client["app"]
            cells = {
                **client,
                "app_authorized_on": app.isoformat()
                if app and app <= month_end + timedelta(days=40)
                else "",
                "receipts_in_period": int(rng.expovariate(1 / client["activity"])),
            }
            writer.writerow([cells[column] for column in columns])
        files[key] = out.getvalue().encode("utf-8")
    return files
