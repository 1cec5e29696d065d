"""Staff search benchmark: 1,000,000 participants, searched as staff search them, against a floor.

    .venv/bin/python benchmarks/search_bench.py [--rows N] [--repeat R] [--database-url URL]

Fills a database migrated as in production (a fresh SQLite file, or the PostgreSQL
database named by ``--database-url``, whose public schema is emptied first: give it
one you can spare) with N participants of September 2022 and their month's figures,
signs a staff member in through the form, then times the search page
(``POST /admin/<slug>/participants``, the app through Flask's test client) for an exact
account number, an exact BIN/IIN, a part of one company's name, and a part that many
names share (the page's limit). Each time is the median of R requests. The floor is
the same row fetched by its index with a bare SQL query on the database's own driver
(by the account's index, the BIN/IIN's, the primary key for a name); the ratio is the
page's time over the floor's. The page without a search (the months' funnels) is timed
too, as every search shows it.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import add_database_argument, analyze, database_url, make_app, median_ms

# Words of company names as the clients' records give them, combined so that a part of
# one name is rare and a single word is shared by many.
WORDS = (
    "Altyn",
    "Dala",
    "Nur",
    "Samruk",
    "Kazyna",
    "Aksu",
    "Beren",
    "Tau",
    "Zhetisu",
    "Arman",
    "Bereke",
    "Ak",
    "Zhol",
    "Sunkar",
    "Kokshe",
    "Ertis",
    "Esil",
    "Saryarka",
    "Taraz",
    "Shymkent",
    "Astana",
    "Almaty",
    "Atyrau",
    "Oral",
    "Aktobe",
    "Turan",
    "Baiterek",
    "Kaspi",
    "Tulpar",
    "Kerey",
    "Zhanibek",
    "Abylai",
    "Dostyk",
    "Birlik",
    "Yntymak",
    "Sapa",
    "Orda",
    "Kyran",
)
PASSWORD = "bench-password-1"


def name(n: int) -> str:
    return f"{WORDS[n % len(WORDS)]} {WORDS[n // len(WORDS) % len(WORDS)]} {n}"


def account(n: int) -> str:
    return f"30{n * 7919 % 10**8:08d}"


def bin_iin(n: int) -> str:
    return f"{n:012d}"


def fill(period, rows: int) -> None:
    """N participants with their month's figures, inserted directly (not what is measured).

    The participants are staged first and written with one ``INSERT … SELECT``, as an
    import writes them: on SQLite, the trigger that keeps the trigrams of the names
    costs little in one statement, and ten times as much a row in a statement a row
    (FTS5 writes what it holds at each statement's end).
    """
    import sqlalchemy as sa

    from portal.campaign import eligibility
    from portal.models import ImportBatch, Participant, db
    from portal.models.base import insert_rows

    people = Participant.__table__
    db.session.execute(
        sa.text("CREATE TEMPORARY TABLE staged AS SELECT * FROM participant WHERE 1 = 0")
    )
    staged = sa.Table("staged", sa.MetaData(), *(sa.Column(c.name) for c in people.columns))
    insert_rows(
        staged,
        (
            "id",
            "campaign_id",
            "account_number",
            "bin_iin",
            "legal_form",
            "company_name",
            "director_name",
            "email",
            "phone",
            "city",
        ),
        (
            (n, period.campaign_id, account(n), bin_iin(n), "IE", name(n), "", "", "", "Almaty")
            for n in range(1, rows + 1)
        ),
    )
    db.session.execute(
        people.insert().from_select([c.name for c in staged.columns], sa.select(staged))
    )
    db.session.execute(sa.text("DROP TABLE staged"))
    batch = ImportBatch(
        period_id=period.id, filename="bench.csv", sha256="0" * 64, status="done", rows=rows
    )
    db.session.add(batch)
    db.session.flush()
    db.session.execute(
        sa_text(
            "INSERT INTO activity (period_id, participant_id, batch_id, legal_form,"
            " paid_months, receipts_in_period, ok_app, ok_ekassa, ok_paid, ok_receipts,"
            " ok_legal_form, eligible)"
            " SELECT :period, id, :batch, 'IE', 1, 5, id % 3 > 0, id % 5 > 0, TRUE, TRUE,"
            " TRUE, id % 3 > 0 AND id % 5 > 0 FROM participant"
        ),
        {"period": period.id, "batch": batch.id},
    )
    eligibility.compute(period)  # as an import does: the month's funnel with it
    db.session.commit()


def sa_text(sql: str):
    import sqlalchemy as sa

    return sa.text(sql)


def sizes(engine) -> str:
    """The database's size on disk, and on SQLite the part of it that the trigrams of
    the names take (their FTS5 table's pages); PostgreSQL's with its indexes."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            size = connection.exec_driver_sql("SELECT pg_database_size(current_database())")
            return f"database {size.scalar_one() / 1e6:.0f} MB"
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
        size = pages * connection.exec_driver_sql("PRAGMA page_size").scalar_one()
        trigrams = connection.exec_driver_sql(
            "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'participant_name_%'"
        ).scalar_one()
        return f"database {size / 1e6:.0f} MB, the names' trigrams {trigrams / 1e6:.0f} MB of it"


def floors(engine, campaign_id: int, n: int, repeat: int) -> dict[str, float]:
    """The same row by its index, with a bare query on the driver's own connection."""
    raw = engine.raw_connection()
    try:
        marker = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        queries = {
            "account": (
                f"SELECT * FROM participant WHERE campaign_id = {marker}"
                f" AND account_number = {marker}",
                (campaign_id, account(n)),
            ),
            "bin_iin": (f"SELECT * FROM participant WHERE bin_iin = {marker}", (bin_iin(n),)),
            "name": (f"SELECT * FROM participant WHERE id = {marker}", (n,)),
        }
        result = {}
        for key, (sql, params) in queries.items():
            cursor = raw.cursor()

            def fetch(sql=sql, params=params, cursor=cursor):
                cursor.execute(sql, params)
                assert len(cursor.fetchall()) == 1

            result[key] = median_ms(fetch, repeat)
        return result
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    add_database_argument(parser)
    args = parser.parse_args()

    import flask_migrate

    from portal.campaign.periods import find_period
    from portal.demo import load_campaign
    from portal.models import StaffUser, db

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = database_url(args.database_url, workdir)
        app = make_app(url, workdir)
        with app.app_context():
            flask_migrate.upgrade()
            campaign, _ = load_campaign()
            campaign_id = campaign.id
            started = time.perf_counter()
            fill(find_period(campaign, "2022-09"), args.rows)
            staff = StaffUser(email="bench@ismet.kz", role="admin", language="ru", name="Bench")
            staff.set_password(PASSWORD)
            db.session.add(staff)
            db.session.commit()
            analyze(db.engine, "participant", "activity")
            print(
                f"{db.engine.dialect.name}: {args.rows:,} participants loaded"
                f" in {time.perf_counter() - started:.1f} s, {sizes(db.engine)}"
            )
            engine = db.engine

            client = app.test_client()

            def token(path: str) -> str:
                page = client.get(path).get_data(as_text=True)
                return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

            signed = client.post(
                "/admin/login",
                data={
                    "email": "bench@ismet.kz",
                    "password": PASSWORD,
                    "csrf_token": token("/admin/login"),
                },
            )
            assert signed.status_code == 302, "not signed in"
            csrf = token("/admin/ismet-2022/participants")
            n = args.rows // 2 + 7
            target = name(n)
            queries = {
                "account": (account(n), 1),
                "bin_iin": (bin_iin(n), 1),
                "name": (target.split(" ", 1)[1], 1),  # "Dala 500007": its 2nd word and number
                "shared word": (WORDS[3], None),  # a word of many names: the page's limit
            }
            page_ms = {}
            for key, (query, expected) in queries.items():

                def search(query=query, expected=expected):
                    response = client.post(
                        "/admin/ismet-2022/participants", data={"q": query, "csrf_token": csrf}
                    )
                    assert response.status_code == 200
                    shown = response.get_data(as_text=True).count(
                        '<li><a href="/admin/ismet-2022/participants/'
                    )
                    assert shown == expected or (expected is None and shown == 50), (query, shown)

                page_ms[key] = median_ms(search, args.repeat)
            page_ms["no search"] = median_ms(
                lambda: client.get("/admin/ismet-2022/participants"), max(args.repeat // 4, 3)
            )
            floor_ms = floors(engine, campaign_id, n, args.repeat)

        print(f"{'search':<12} {'page':>10} {'floor':>10} {'ratio':>10}")
        for key, ms in page_ms.items():
            if key in floor_ms:
                print(f"{key:<12} {ms:8.1f} ms {floor_ms[key]:8.3f} ms {ms / floor_ms[key]:9.0f}x")
            else:
                print(f"{key:<12} {ms:8.1f} ms")
        print("aim: every search page under 100 ms")


if __name__ == "__main__":
    main()
