"""Finding 6: spreadsheet formulas in exports.

Every CSV the portal writes goes through ``portal.services.tabular.safe_cell``: a cell
that a spreadsheet would take for a formula (starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return) gets a leading single quote. The pool file is the exception
that needs none: its cells are a position, a hex entry code and a masked account that
starts with ``•``, so it keeps the exact bytes its digest covers.
"""

from __future__ import annotations

import csv
import hashlib
import io

import sqlalchemy as sa
from openpyxl import load_workbook

from portal.campaign import eligibility
from portal.campaign.imports import COLUMNS, import_month
from portal.campaign.periods import find_period
from portal.models import AuditEntry, Campaign, db
from portal.services import tabular
from tests.helpers import TODAY, csrf_from, csv_bytes, draw_on, row

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What an attacker types: each starts with one of the characters above.
FORMULAS = [
    '=HYPERLINK("https://evil.example";"x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def assert_no_formula(rows: list[list[str]]) -> None:
    for cells_of_row in rows:
        for cell in cells_of_row:
            assert not cell.startswith(FORMULA_STARTS), cell


def test_safe_cell_quotes_what_a_spreadsheet_would_run():
    for formula in FORMULAS:
        assert tabular.safe_cell(formula) == "'" + formula
    assert tabular.safe_cell("  =1+1") == "'  =1+1"  # spaces first do not hide it
    assert tabular.safe_cell("\uff1d1+1") == "'\uff1d1+1"  # nor a full-width equals sign
    for harmless in ("Almaty", "ACC0000001", "a=b", "info@example.kz", "", "'quoted"):
        assert tabular.safe_cell(harmless) == harmless
    assert tabular.safe_cell(None) == ""
    assert tabular.safe_cell(-5) == -5 and tabular.safe_cell(12) == 12  # numbers stay numbers


def test_audit_csv_quotes_a_formula_typed_as_the_email_of_a_failed_sign_in(app, client, auth):
    typed = '=HYPERLINK("https://evil.example")@ismet.kz'
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    client.post("/admin/login", data={"csrf_token": token, "email": typed, "password": "x" * 12})
    with app.app_context():
        failed = db.session.scalar(sa.select(AuditEntry).filter_by(action="auth.sign_in_failed"))
        assert failed.actor.startswith("=hyperlink(")  # stored as typed, lower-cased
    auth.login("auditor")
    with client.get("/admin/audit.csv") as response:
        rows = cells(response.get_data(as_text=True))
    assert rows[0][:3] == ["id", "at", "actor"]
    assert_no_formula(rows)
    actors = [r[2] for r in rows[1:]]
    assert "'" + failed.actor in actors


def formula_month(demo):
    """September with four eligible clients whose account, company and city are formulas."""
    september = find_period(db.session.get(Campaign, demo), "2022-09")
    # an account number is letters, digits and - / . _ (imports): "=", "+" and "@" are
    # refused at the import, a leading "-" is what an export must still quote
    refused = [row(n, account_number=a) for n, a in ((1, "=ACC1"), (3, "+ACC3"), (4, "@ACC4"))]
    _, report = import_month(september, "bad.csv", csv_bytes(refused), today=TODAY)
    assert {(p.row, p.code) for p in report.problems} == {
        (2, "account-format"),
        (3, "account-format"),
        (4, "account-format"),
    }
    rows = [
        row(1, account_number="ACC1", company_name="=1+2", city="@SUM(A1)"),
        row(2, account_number="-ACC2", company_name="+cmd|' /C calc'!A0", city="-Almaty"),
        row(3, account_number="ACC3", company_name="@Company", city="=HYPERLINK(1)"),
        row(4, account_number="-ACC4", company_name="-Company", city="+Almaty"),
    ]
    _, report = import_month(september, "sep.csv", csv_bytes(rows), today=TODAY, replace=True)
    assert report.ok, report.problems
    eligibility.compute(september)
    db.session.commit()
    return september


def test_eligible_csv_quotes_formulas_in_imported_accounts_names_and_cities(
    app, client, auth, demo
):
    with app.app_context():
        formula_month(demo)
    auth.login("marketing")  # the auditor exports no list of people (least privilege)
    with client.get("/admin/ismet-2022/participants/2022-09/eligible.csv") as response:
        rows = cells(response.get_data(as_text=True))
    assert rows[0] == [
        "account_number",
        "bin_iin",
        "legal_form",
        "company_name",
        "city",
        "receipts_in_period",
    ]
    assert len(rows) == 5
    assert_no_formula(rows)
    by_account = {r[0]: r for r in rows[1:]}
    assert by_account["ACC1"][3:5] == ["'=1+2", "'@SUM(A1)"]
    assert by_account["'-ACC2"][3:5] == ["'+cmd|' /C calc'!A0", "'-Almaty"]
    assert by_account["'-ACC4"][5] == "5"  # numbers as they are


def test_the_import_templates_write_formulas_as_text(client, auth, demo):
    # The functions behind both templates, with formulas in their data ...
    written = cells(tabular.write_csv([["header", *FORMULAS], [1, None, "=1+1"]]).decode("utf-8"))
    assert_no_formula(written)
    assert written[0][1:] == ["'" + f for f in FORMULAS] and written[1] == ["1", "", "'=1+1"]
    workbook = load_workbook(
        io.BytesIO(tabular.write_xlsx(["=1+1", "@x"], "notes", [["=HYPERLINK(1)", "+7 701"]]))
    )
    for sheet in workbook.worksheets:
        for sheet_row in sheet.iter_rows():
            for cell in sheet_row:
                assert cell.data_type == "s", (cell.coordinate, cell.value)  # never a formula
    assert workbook.worksheets[1]["A1"].value == "=HYPERLINK(1)"  # kept as the text it is
    # ... and the templates themselves.
    auth.login("marketing")
    template = client.get("/admin/ismet-2022/participants/import/template.csv").data.decode("utf-8")
    assert cells(template) == [list(COLUMNS)]
    response = client.get("/admin/ismet-2022/participants/import/template.xlsx")
    for sheet in load_workbook(io.BytesIO(response.data)).worksheets:
        assert all(c.data_type == "s" for r in sheet.iter_rows() for c in r if c.value)


def test_the_pool_file_has_no_formula_cell_and_keeps_the_bytes_of_its_digest(app, client, demo):
    with app.app_context():
        draw = draw_on(formula_month(demo))
        db.session.commit()
        draw_id, digest = draw.id, draw.pool_sha256
    response = client.get(f"/kk/draws/{draw_id}/pool.csv")
    content = response.data
    assert hashlib.sha256(content).hexdigest() == digest  # the bytes the digest covers
    rows = cells(content.decode("utf-8"))
    assert rows[0] == ["position", "entry_code", "account_masked"] and len(rows) == 5
    assert_no_formula(rows)
    assert all(r[2].startswith("••") for r in rows[1:])  # masked: by construction
