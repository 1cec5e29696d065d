"""The staff's search of participants: exact account or BIN/IIN by their indexes first,
then a part of the name by the index that fits; bounded, with a note when there are more."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.campaign import eligibility
from portal.campaign.imports import import_month
from portal.campaign.periods import find_period
from portal.campaign.search import SEARCH_LIMIT, exact_matches, name_matches
from portal.models import Activity, Campaign, db
from tests.helpers import TODAY, bin_iin, csv_bytes, row, translated

REFINE = "Only the first %(num)s are shown: refine your search."


def found_names(response) -> list[str] | None:
    """The company names the page lists as found, in its order (None: no such section)."""
    section = re.search(r'<section aria-labelledby="found-heading">(.*?)</section>', response, re.S)
    if section is None:
        return None
    return re.findall(r'<li><a href="/admin/participants/\d+">([^<]*)</a>', section.group(1))


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
            "/admin/participants",
            data={"q": query, "csrf_token": auth.token("/admin/participants")},
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


def test_each_search_is_answered_by_an_index(ctx, demo):
    """The plans name the indexes, on a table of 20,000 participants whose statistics the
    database knows: no scan of the table for an exact key, nor for a part of a name on
    PostgreSQL (trigrams); on SQLite the names' index, walked in their order."""
    db.session.execute(
        sa.text(
            "INSERT INTO participant (campaign_id, account_number, bin_iin, legal_form,"
            " company_name, director_name, email, phone, city)"
            " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)"
            " SELECT :campaign, 'B' || i, 'N' || i, 'IE', 'Company ' || i, '', '', '', ''"
            " FROM n"
        ),
        {"rows": ROWS, "campaign": demo},
    )
    db.session.commit()
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
        assert "SCAN participant USING INDEX ix_participant_company_name" in names, names
    assert [p.company_name for p in db.session.scalars(exact_matches(demo, "N777"))] == [
        "Company 777"
    ]
    assert [p.company_name for p in db.session.scalars(name_matches(demo, "ompany 12345"))] == [
        "Company 12345"
    ]


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
