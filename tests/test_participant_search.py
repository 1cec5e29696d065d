"""The staff's search of participants: exact account or BIN/IIN by their indexes first,
then a part of the name by the index that fits; bounded, with a note when there are more."""

from __future__ import annotations

import re

import flask_migrate
import pytest
import sqlalchemy as sa

from portal.campaign import eligibility
from portal.campaign.imports import import_month
from portal.campaign.periods import find_period
from portal.campaign.search import FEW_NAMES, SEARCH_LIMIT, exact_matches, name_matches
from portal.demo import load_campaign
from portal.models import Activity, Campaign, Participant, db
from portal.models.participants import NAME_TRIGRAMS
from tests.helpers import TODAY, bin_iin, csv_bytes, make_app, row, translated

REFINE = "Only the first %(num)s are shown: refine your search."


def found_names(response) -> list[str] | None:
    """The company names the page lists as found, in its order (None: no such section)."""
    section = re.search(r'<section aria-labelledby="found-heading">(.*?)</section>', response, re.S)
    if section is None:
        return None
    return re.findall(
        r'<li><a href="/admin/ismet-2022/participants/\d+">([^<]*)</a>', section.group(1)
    )


@pytest.fixture
def searchable(app, demo):
    """September 2022 with 62 clients: "Company 1" … "Company 60", "Green Garden", and
    "Shop ACC0000005", whose name holds another client's account number."""
    rows = [row(n) for n in range(1, 61)]
    rows += [row(61, company_name="Green Garden"), row(62, company_name="Shop ACC0000005")]
    with app.app_context():
        september = find_period(db.session.get(Campaign, demo), "2022-09")
        _, report = import_month(september, "sep.csv", csv_bytes(rows), today=TODAY)
        assert report.ok
        db.session.commit()


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_staff_find_by_exact_key_then_by_part_of_the_name(client, auth, searchable, lang):
    email = auth.create("admin", email=f"searcher-{lang}@ismet.kz", language=lang)
    assert auth.login(email=email, create=False).status_code == 302

    def search(query: str) -> str:
        response = client.post(
            "/admin/ismet-2022/participants",
            data={"q": query, "csrf_token": auth.token("/admin/ismet-2022/participants")},
        )
        assert response.status_code == 200
        return response.get_data(as_text=True)

    page = search("ACC0000007")
    assert found_names(page) == ["Company 7"]
    assert translated(lang, "Found") in page_text_of(page)
    assert found_names(search(bin_iin(800000000 + 7 * 13))) == ["Company 7"]
    assert found_names(search("  ACC0000007 ")) == ["Company 7"]  # spaces around are not typed
    # an exact key is the answer: the name that happens to hold it is not searched
    assert found_names(search("ACC0000005")) == ["Company 5"]
    # a part of the name, case aside
    assert found_names(search("garden")) == ["Green Garden"]
    assert found_names(search("ompany 3")) == [
        "Company 3",
        *(f"Company {n}" for n in range(30, 40)),
    ]
    assert found_names(search("Shop ACC")) == ["Shop ACC0000005"]
    refine = translated(lang, REFINE, num=SEARCH_LIMIT)
    assert refine not in page_text_of(search("ompany 3"))
    # more than a page: the first ones in the order of the names, and the note
    many = search("Company")
    assert found_names(many) == sorted(f"Company {n}" for n in range(1, 61))[:SEARCH_LIMIT]
    assert refine in page_text_of(many)
    nobody = search("Nobody Here")
    assert found_names(nobody) == []
    assert translated(lang, "Nobody matches.") in page_text_of(nobody)


def page_text_of(html: str) -> str:
    return re.sub(r"\s+", " ", html).replace("\u00a0", " ")


def plan(statement: sa.Select) -> str:
    """The database's plan for ``statement``, as one text."""
    bind = db.session.get_bind()
    sql = str(statement.compile(bind, compile_kwargs={"literal_binds": True}))
    if bind.dialect.name == "postgresql":
        sql = sql.replace("%%", "%")  # escaped for psycopg's parameters, as text() escapes it again
        return "\n".join(db.session.scalars(sa.text(f"EXPLAIN {sql}")))
    return "\n".join(r[-1] for r in db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}")))


ROWS = 20_000


def insert_names(campaign_id: int, sql_name: str, rows: int, start: int = 1) -> None:
    """``rows`` participants whose names are ``sql_name`` (SQL on ``i``, from ``start``)."""
    db.session.execute(
        sa.text(
            "INSERT INTO participant (campaign_id, account_number, bin_iin, legal_form,"
            " company_name, director_name, email, phone, city)"
            " WITH RECURSIVE n(i) AS (SELECT CAST(:start AS INTEGER) UNION ALL SELECT i + 1 FROM n"
            " WHERE i < :start + :rows - 1)"
            f" SELECT :campaign, 'B' || i, 'N' || i, 'IE', {sql_name}, '', '', '', ''"
            " FROM n"
        ),
        {"rows": rows, "start": start, "campaign": campaign_id},
    )
    db.session.commit()


def test_each_search_is_answered_by_an_index(ctx, demo):
    """The plans name the indexes, on a table of 20,000 participants whose statistics the
    database knows: no scan of the table for an exact key, nor for a part of a name on
    PostgreSQL (trigrams); on SQLite the trigrams of the names (FTS5) for a rare part,
    the names' index walked in their order for a part many names hold or a short one."""
    insert_names(demo, "'Company ' || i", ROWS)
    insert_names(demo, "'Ақжол ' || i", 2 * FEW_NAMES, start=ROWS + 1)
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        # what autovacuum does after such an insert: the trigrams of new rows wait in the
        # index's pending list, which the planner rightly prices as a scan, until merged
        db.session.execute(sa.text("SELECT gin_clean_pending_list('ix_participant_company_name')"))
    db.session.execute(sa.text("ANALYZE participant"))
    exact = plan(exact_matches(demo, "B12345"))
    names = plan(name_matches(demo, "12345"))
    if postgres:
        assert "Seq Scan" not in exact, exact
        assert "uq_participant_campaign_id_account_number" in exact, exact
        assert "ix_participant_bin_iin" in exact, exact
        assert "Seq Scan" not in names, names
        assert "Index Scan on ix_participant_company_name" in names, names
    else:
        assert "SCAN participant" not in exact, exact
        assert "SEARCH participant USING INDEX ix_participant_bin_iin (bin_iin=?)" in exact, exact
        assert "(campaign_id=? AND account_number=?)" in exact, exact
        # a rare part: its few names found by their trigrams, each fetched by its id
        assert f"SCAN {NAME_TRIGRAMS} VIRTUAL TABLE" in names, names
        assert "SEARCH participant USING INTEGER PRIMARY KEY (rowid=?)" in names, names
        walk = "SCAN participant USING INDEX ix_participant_company_name"
        # a part of many names, or a short one: the names walked in order up to the limit
        for many in ("Company", "ақжол", "12"):
            assert walk in plan(name_matches(demo, many)), many
        assert NAME_TRIGRAMS in plan(name_matches(demo, "ақжол")), "its names: the trigrams'"
    assert [p.company_name for p in db.session.scalars(exact_matches(demo, "N777"))] == [
        "Company 777"
    ]
    assert [p.company_name for p in db.session.scalars(name_matches(demo, "ompany 12345"))] == [
        "Company 12345"
    ]


def names_found(campaign_id: int, query: str) -> list[str]:
    return [p.company_name for p in db.session.scalars(name_matches(campaign_id, query))]


def first_page(names: dict[int, str], query: str) -> list[str]:
    """The names that hold ``query`` as Python's ``lower()`` sees them (PostgreSQL's, for
    these letters), the first page of them in the database's own order of the names."""
    ids = [i for i, name in names.items() if query.lower() in name.lower()]
    return list(
        db.session.scalars(
            sa.select(Participant.company_name)
            .where(Participant.id.in_(ids))
            .order_by(Participant.company_name, Participant.id)
            .limit(SEARCH_LIMIT + 1)
        )
    )


def add_participants(campaign_id: int, names: list[str]) -> dict[int, str]:
    """One participant per name, added through the ORM; their names by id."""
    people = [
        Participant(
            campaign_id=campaign_id,
            account_number=f"T{n}",
            bin_iin=f"{n:012d}",
            legal_form="IE",
            company_name=name,
        )
        for n, name in enumerate(names)
    ]
    db.session.add_all(people)
    db.session.commit()
    return {p.id: p.company_name for p in people}


KAZAKH_AND_RUSSIAN = [
    "ТОО Ақжол",
    "ИП ӘЛИЯ ҚҰНАНБАЙ",
    "Шығыс Сауда",
    "ҚАЗАҚ ТІЛІ",
    "Өрнек-Үміт",
    "Ёлочка",
    "ООО Ромашка",
    "Green Garden",
]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("ақЖОЛ", ["ТОО Ақжол"]),
        ("әлия құн", ["ИП ӘЛИЯ ҚҰНАНБАЙ"]),
        ("ШЫҒЫС", ["Шығыс Сауда"]),
        ("қазақ тілі", ["ҚАЗАҚ ТІЛІ"]),
        ("өрнек-үміт", ["Өрнек-Үміт"]),
        ("ЁЛОЧ", ["Ёлочка"]),
        ("ромашк", ["ООО Ромашка"]),
        ("GARDEN", ["Green Garden"]),
        ("ООО", ["ООО Ромашка"]),
        ("Елочка", []),  # ё is not е
    ],
)
def test_a_part_of_a_name_is_found_case_aside_in_kazakh_and_russian(ctx, demo, query, found):
    """Kazakh and Russian letters are found whatever their case, on SQLite as on
    PostgreSQL, whose ``ILIKE`` folds them (SQLite's LIKE knows only ASCII's case)."""
    add_participants(demo, KAZAKH_AND_RUSSIAN)
    assert names_found(demo, query) == found


TYPED = [
    "50% Discount",
    "500 Discount",
    "A_B Trade",
    "AxB Trade",
    'Say "Hi" LLP',
    "Star* Shop",
    "Stars Shop",
    "O'Neil & Sons",
    "Back\\slash",
    "NEAR Co",
    "Alpha OR Beta",
    "col:umn ^caret",
    "(Bracket) -minus +plus",
]
# wildcards of LIKE, FTS5's syntax (quotes, *, ^, column filters, NEAR, OR, AND, NOT,
# brackets), SQL's quote, an escape; none may widen, break or empty the search
QUERIES = [
    "%",
    "_",
    "0%",
    "0% D",
    "%Disc",
    "A_B",
    "_B T",
    '"',
    '"Hi"',
    'y "H',
    '""',
    "*",
    "r*",
    "Star*",
    "r* S",
    "'",
    "O'N",
    "\\",
    "k\\s",
    "\\%",
    "NEAR",
    "NEAR(",
    "NEAR(a b)",
    "OR",
    "a OR B",
    "OR Beta",
    "AND",
    "NOT",
    "col:",
    "column:umn",
    "^ca",
    "^",
    "-mi",
    "+pl",
    "(Br",
    ")",
    "ket) -",
    "{col}",
    "';--",
    "Trade",
]


def test_what_is_typed_is_searched_as_it_is(ctx, demo):
    """Every character of a query is itself: no wildcard of LIKE, nor FTS5's syntax."""
    names = add_participants(demo, TYPED)
    for query in QUERIES:
        assert names_found(demo, query) == first_page(names, query), query


def test_nothing_typed_breaks_the_search_page(client, auth, searchable):
    email = auth.create("admin", email="typist@ismet.kz")
    assert auth.login(email=email, create=False).status_code == 302
    for query in [*QUERIES, "\x00", "abc\x00def", "\u0301\u0301\u0301", "🙂🙂🙂", "x" * 300]:
        response = client.post(
            "/admin/ismet-2022/participants",
            data={"q": query, "csrf_token": auth.token("/admin/ismet-2022/participants")},
        )
        assert response.status_code == 200, query
        assert found_names(response.get_data(as_text=True)) is not None, query


def test_the_trigrams_follow_the_names(ctx, demo):
    """Names added by an import, changed by the next one or by staff, and removed: the
    search finds them as they are, and the SQLite trigrams match the names exactly."""
    september = find_period(db.session.get(Campaign, demo), "2022-09")
    rows = [row(1, company_name="Алтын Дала"), row(2, company_name="Green Garden")]
    assert import_month(september, "sep.csv", csv_bytes(rows), today=TODAY)[1].ok
    db.session.commit()
    assert names_found(demo, "алтын дал") == ["Алтын Дала"]
    rows[0]["company_name"] = "Жаңа Дала"  # renamed in the next file
    _, report = import_month(september, "sep2.csv", csv_bytes(rows), today=TODAY, replace=True)
    assert report.ok
    db.session.commit()
    assert names_found(demo, "алтын") == []
    assert names_found(demo, "ЖАҢА") == ["Жаңа Дала"]
    assert names_found(demo, "Garden") == ["Green Garden"]  # the same name, written again
    garden = db.session.scalar(
        sa.select(Participant).where(Participant.account_number == rows[1]["account_number"])
    )
    garden.company_name = "Blue Garden"
    db.session.commit()
    assert names_found(demo, "garden") == ["Blue Garden"]
    db.session.execute(sa.delete(Activity))
    db.session.execute(sa.delete(Participant).where(Participant.id == garden.id))
    db.session.commit()
    assert names_found(demo, "garden") == []
    if db.session.get_bind().dialect.name == "sqlite":
        # FTS5 compares its index with the names it was made from: an error if they differ
        db.session.execute(
            sa.text(f"INSERT INTO {NAME_TRIGRAMS} ({NAME_TRIGRAMS}) VALUES ('integrity-check')")
        )


def test_a_page_of_many_names_is_the_first_in_their_order(ctx, demo):
    """When more names hold the part than are read through the trigrams, the names walked
    in their order give the same first page: ASCII and Kazakh, and a rare part beside."""
    insert_names(demo, "'Company ' || i", FEW_NAMES + 500)
    insert_names(demo, "'АҚЖОЛ Сауда ' || i", FEW_NAMES + 500, start=FEW_NAMES + 501)
    names = dict(db.session.execute(sa.select(Participant.id, Participant.company_name)).all())
    for query in ("company", "COMPANY 1", "ақжол", "Ақжол сауда 2", "сауда 1600", "ny 7"):
        assert names_found(demo, query) == first_page(names, query), query
    assert len(names_found(demo, "ақжол")) == len(names_found(demo, "company")) == SEARCH_LIMIT + 1


def test_the_funnel_is_counted_by_the_eligibility_run_and_read_from_it(empty_september):
    """The staff page's funnel is the one the month's eligibility run counted, as long as
    the month holds the data it counted; a later import is counted again until computed."""
    period = empty_september
    rows = [row(1), row(2, receipts_in_period="1"), row(3, app_authorized_on="")]
    import_month(period, "sep.csv", csv_bytes(rows), today=TODAY)
    db.session.commit()
    not_computed = {"participants": 3, **dict.fromkeys(eligibility.CONDITIONS, 0), "eligible": 0}
    assert eligibility.funnel(period) == not_computed
    run = eligibility.compute(period)
    db.session.commit()
    computed = {
        "participants": 3,
        "app": 2,
        "ekassa": 3,
        "paid": 3,
        "receipts": 2,
        "legal_form": 3,
        "eligible": 1,
    }
    assert eligibility.funnel(period) == computed
    assert (run.passed_app, run.passed_receipts, run.eligible) == (2, 2, 1)
    # read from the run, not counted per view: a change behind its back does not show
    db.session.execute(sa.update(Activity).values(ok_app=False))
    db.session.commit()
    assert eligibility.funnel(period) == computed
    # the month's data replaced: counted from the rows again until eligibility is computed
    _, report = import_month(period, "sep2.csv", csv_bytes(rows[:2]), today=TODAY, replace=True)
    assert report.ok
    db.session.commit()
    assert eligibility.funnel(period) == {**not_computed, "participants": 2}
    eligibility.compute(period)
    db.session.commit()
    two = dict.fromkeys(("participants", *eligibility.CONDITIONS), 2)
    assert eligibility.funnel(period) == {**two, "receipts": 1, "eligible": 1}


def test_migration_0016_makes_the_trigrams_of_the_names_already_there(tmp_path):
    """Upgraded with participants in it, a SQLite database finds them by their trigrams;
    downgraded, it has neither the FTS5 table nor its triggers (a SQLite file of its own,
    whatever database the other tests use: the migration works on SQLite alone)."""
    app = make_app(f"sqlite:///{tmp_path / 'migrations.sqlite3'}", tmp_path / "instance")
    with app.app_context():
        # the names written at the newest revision (the app's models need its tables),
        # then the database taken back to 0015, before the trigrams, names and all
        flask_migrate.upgrade()
        campaign = load_campaign()[0].id
        add_participants(campaign, KAZAKH_AND_RUSSIAN)
        db.session.commit()
        db.session.close()
        flask_migrate.downgrade(revision="0015")
        flask_migrate.upgrade()
        assert names_found(campaign, "ақжол") == ["ТОО Ақжол"]
        assert f"SCAN {NAME_TRIGRAMS}" in plan(name_matches(campaign, "ақжол"))
        db.session.rollback()
        flask_migrate.downgrade(revision="0015")
        left = db.session.scalars(
            sa.text("SELECT name FROM sqlite_master WHERE name LIKE 'participant_name%'")
        )
        assert list(left) == []
        db.engine.dispose()
