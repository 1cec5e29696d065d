"""The import explains itself: files separated by semicolons or tabs are read, the page
lists the columns from the one definition, templates to fill in are offered in CSV and
XLSX, and a failed import shows its failure, not a full progress bar."""

from __future__ import annotations

import csv
import io
import time

import pytest
import sqlalchemy as sa
from babel.support import Translations
from openpyxl import load_workbook

from portal.campaign.imports import COLUMNS, FORMAT, import_month
from portal.commands.translate import TRANSLATIONS
from portal.models import Activity, ImportBatch, Participant, db
from portal.services.tabular import separator
from tests.helpers import TODAY, csv_bytes, page_text, row, translated


def delimited(rows: list[dict[str, str]], delimiter: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(COLUMNS)
    writer.writerows([[r[c] for c in COLUMNS] for r in rows])
    return out.getvalue().encode("utf-8")


def upload(client, auth, content: bytes, name: str):
    data = {
        "period": "2022-09",
        "csrf_token": auth.token("/admin/ismet-2022/participants/import"),
        "file": (io.BytesIO(content), name),
    }
    return client.post(
        "/admin/ismet-2022/participants/import", data=data, content_type="multipart/form-data"
    )


def finished(app, response) -> ImportBatch:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    batch_id = int(response.headers["Location"].rsplit("/", 1)[1])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with app.app_context():
            batch = db.session.get(ImportBatch, batch_id)
            if batch.status in ("done", "failed"):
                db.session.expunge(batch)
                return batch
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


# --- separators -----------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_a_file_separated_by_semicolons_or_tabs_is_read_as_it_is(empty_september, delimiter):
    # a comma inside a cell of a semicolon file is text, not a separator
    rows = [row(1, company_name="Сауда, ЖШС"), row(2, city="Алматы; Медеу")]
    if delimiter == ";":
        rows[1]["city"] = "Алматы"
    content = delimited(rows, delimiter)
    assert separator(content) == delimiter
    batch, report = import_month(empty_september, "sep.csv", content, today=TODAY)
    assert report.ok, report.problems
    assert batch.rows == 2
    names = db.session.scalars(sa.select(Participant.company_name).order_by(Participant.id))
    assert list(names) == ["Сауда, ЖШС", "Company 2"]


def test_a_semicolon_file_with_a_bom_from_the_browser(app, client, auth, demo):
    auth.login("marketing")
    content = b"\xef\xbb\xbf" + delimited([row(1), row(2)], ";")
    batch = finished(app, upload(client, auth, content, "excel.csv"))
    assert (batch.status, batch.rows) == ("done", 2)


def test_a_header_without_any_separator_is_read_with_commas():
    assert separator(b"account_number\n1\n") == ","
    assert separator(b"") == ","


# --- the columns on the page, and the templates ----------------------------------------


def catalogue(lang: str) -> Translations:
    return Translations.load(str(TRANSLATIONS), [lang])


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_import_page_lists_every_column_in_the_staff_language(client, auth, demo, lang):
    email = auth.create("marketing", email=f"marketing-{lang}@ismet.kz", language=lang)
    auth.login("marketing", email=email, create=False)
    text = page_text(client.get("/admin/ismet-2022/participants/import"))
    words = catalogue(lang)
    for column in FORMAT:
        assert f"<code>{column.name}</code>" in text
        assert f"<code>{column.example}</code>" in text
    assert translated(lang, "Required") in text
    assert translated(lang, "The column is required; a cell may be empty") in text
    assert translated(lang, "Optional (the column too)") in text
    assert translated(lang, "12 digits, the last a valid control digit") in text
    assert translated(lang, "A date as YYYY-MM-DD, not in the future") in text
    for limit in (32, 300):
        sentence = words.ngettext(
            "Text, at most %(num)d character", "Text, at most %(num)d characters", limit
        )
        assert sentence % {"num": limit} in text
    assert "Text, at most" not in text  # nothing left in English
    assert 'href="/admin/ismet-2022/participants/import/template.csv"' in text
    assert 'href="/admin/ismet-2022/participants/import/template.xlsx"' in text


def test_the_csv_template_filled_with_one_row_imports_cleanly(app, client, auth, demo):
    auth.login("marketing")
    response = client.get("/admin/ismet-2022/participants/import/template.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    template = response.data.decode("utf-8-sig")
    assert template.splitlines() == [",".join(COLUMNS)]
    filled = template + csv_bytes([row(1)]).decode().splitlines()[1] + "\r\n"
    batch = finished(app, upload(client, auth, filled.encode("utf-8"), "filled.csv"))
    assert (batch.status, batch.rows) == ("done", 1)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)) == 1


def test_the_xlsx_template_filled_with_one_row_imports_cleanly(app, client, auth, demo):
    auth.login("marketing")  # the account's language is Russian
    response = client.get("/admin/ismet-2022/participants/import/template.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(response.data))
    data, about = workbook.worksheets
    assert [cell.value for cell in data[1]] == list(COLUMNS)
    assert about.title == translated("ru", "Columns")
    described = [r[0] for r in about.iter_rows(min_row=2, values_only=True)]
    assert described == list(COLUMNS)
    values = row(1, account_number="0012345")  # a leading zero, kept as text
    data.append([values[c] for c in COLUMNS])
    out = io.BytesIO()
    workbook.save(out)
    batch = finished(app, upload(client, auth, out.getvalue(), "filled.xlsx"))
    assert (batch.status, batch.rows) == ("done", 1)
    with app.app_context():
        assert db.session.scalar(sa.select(Participant.account_number)) == "0012345"


def test_the_templates_are_for_the_staff_who_import(client, auth, demo):
    auth.login("commission")
    assert client.get("/admin/ismet-2022/participants/import/template.csv").status_code == 403
    assert client.get("/admin/ismet-2022/participants/import/template.xlsx").status_code == 403


# --- a failed import ------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_a_failed_import_shows_its_failure_not_a_full_bar(app, client, auth, demo, lang):
    email = auth.create("marketing", email=f"marketing-{lang}@ismet.kz", language=lang)
    auth.login("marketing", email=email, create=False)
    bad = csv_bytes([row(1), row(2, bin_iin="123456789012")])
    batch = finished(app, upload(client, auth, bad, "bad.csv"))
    assert batch.status == "failed"
    state = client.get(f"/admin/ismet-2022/participants/imports/{batch.id}.json").json
    assert state["status"] == "failed" and state["percent"] != 100
    page = page_text(client.get(f"/admin/ismet-2022/participants/imports/{batch.id}"))
    assert "<progress" not in page
    assert translated(lang, "The import failed: nothing was imported.") in page
