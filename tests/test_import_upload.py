"""Importing in the browser's way: the real upload form, the file streamed to the storage,
the import a job (run at once: JOBS_IMMEDIATE; tests/test_jobs.py runs a real worker)."""

from __future__ import annotations

import hashlib
import io
import time

import requests
import sqlalchemy as sa

from portal.campaign.imports import COLUMNS
from portal.models import Activity, AuditEntry, ImportBatch, db
from portal.services import storage
from tests.helpers import PASSWORD, csrf_from, csv_bytes, make_staff, row, serving


def upload(client, auth, content: bytes, name: str = "sep.csv", replace: bool = False):
    data = {
        "period": "2022-09",
        "csrf_token": auth.token("/admin/ismet-2022/participants/import"),
        "file": (io.BytesIO(content), name),
    }
    if replace:
        data["replace"] = "y"
    return client.post(
        "/admin/ismet-2022/participants/import", data=data, content_type="multipart/form-data"
    )


def wait_for(app, batch_id: int) -> ImportBatch:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with app.app_context():
            batch = db.session.get(ImportBatch, batch_id)
            if batch.status in ("done", "failed"):
                db.session.expunge(batch)
                return batch
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def batch_id_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_upload_runs_as_a_job_and_the_page_follows_it(app, client, auth, demo):
    auth.login("marketing")
    response = upload(client, auth, csv_bytes([row(n) for n in range(1, 40)]))
    batch = wait_for(app, batch_id_of(response))
    assert batch.status == "done" and batch.rows == 39
    page = client.get(f"/admin/ismet-2022/participants/imports/{batch.id}").get_data(as_text=True)
    assert 'data-status="done"' in page
    assert client.get(f"/admin/ismet-2022/participants/imports/{batch.id}.json").json == {
        "status": "done",
        "progress": 39,
        "rows": 39,
        "percent": 100,
    }
    with app.app_context():
        actions = list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))
        assert actions[-3:] == [
            "participants.import_started",
            "participants.import",
            "participants.eligibility",
        ]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)) == 39


def test_a_bad_file_lists_its_problems_in_the_staff_language_and_stores_nothing(
    app, client, auth, demo
):
    auth.login("marketing")  # the account's language is Russian
    response = upload(client, auth, csv_bytes([row(1), row(2, bin_iin="123456789012")]))
    batch = wait_for(app, batch_id_of(response))
    assert batch.status == "failed"
    page = client.get(f"/admin/ismet-2022/participants/imports/{batch.id}").get_data(as_text=True)
    assert "Строка 3: bin_iin не состоит из 12 цифр с верной контрольной цифрой." in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)) == 0


def test_replacing_a_month_needs_the_box_ticked(app, client, auth, demo):
    auth.login("marketing")
    wait_for(app, batch_id_of(upload(client, auth, csv_bytes([row(1)]))))
    refused = upload(client, auth, csv_bytes([row(2)]))
    assert refused.status_code == 200 and 'class="errors"' in refused.get_data(as_text=True)
    replaced = wait_for(
        app, batch_id_of(upload(client, auth, csv_bytes([row(2), row(3)]), replace=True))
    )
    assert replaced.status == "done"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)) == 2


def test_only_csv_or_xlsx_files_are_accepted(app, client, auth, demo):
    auth.login("marketing")
    response = upload(client, auth, b"MZ\x90\x00 an executable", name="data.exe")
    assert response.status_code == 200 and 'class="errors"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == 0


def _served_upload(base: str, content: bytes, name: str = "big.csv") -> requests.Response:
    """Sign in and send the import form to a real server, as a browser does."""
    session = requests.Session()
    login = session.get(f"{base}/admin/login")
    session.post(
        f"{base}/admin/login",
        data={
            "email": "marketing@ismet.kz",
            "password": PASSWORD,
            "csrf_token": csrf_from(login.text),
        },
    )
    form = session.get(f"{base}/admin/ismet-2022/participants/import")
    assert form.status_code == 200, form.status_code
    return session.post(
        f"{base}/admin/ismet-2022/participants/import",
        data={"period": "2022-09", "csrf_token": csrf_from(form.text)},
        files={"file": (name, content, "text/csv")},
        allow_redirects=False,
        headers={"Accept-Language": "ru"},
    )


def _padded_file(rows: int, cell: int) -> bytes:
    """A valid month whose rows carry a large extra column (ignored by the import)."""
    padding = "x" * cell
    return csv_bytes(
        [{**row(n), "note": padding} for n in range(1, rows + 1)], columns=(*COLUMNS, "note")
    )


def test_a_browser_import_over_32_mib_is_accepted_and_imported(app, auth, demo):
    auth.create("marketing")
    content = _padded_file(640, 64 * 1024)  # 40 MiB: more than MAX_CONTENT_LENGTH
    assert len(content) > 40 * 1024 * 1024 > app.config["MAX_CONTENT_LENGTH"]
    with serving(app) as base:
        response = _served_upload(base, content)
    assert response.status_code == 302, response.text[:300]
    batch = wait_for(app, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert batch.status == "done" and batch.rows == 640
    assert batch.sha256 == hashlib.sha256(content).hexdigest()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)) == 640
        assert not list(storage.current().keys("imports/"))  # the stored file is removed


def test_a_browser_import_over_its_limit_is_refused_in_the_staff_language(other_app, demo):
    app = other_app(IMPORT_MAX_BYTES=1024 * 1024)
    with app.app_context():
        make_staff("marketing@ismet.kz", "marketing")
    with serving(app) as base:
        response = _served_upload(base, _padded_file(40, 64 * 1024))  # 2.5 MiB
    assert response.status_code == 413
    assert "Файл слишком большой" in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == 0
        assert not list(storage.current().keys("imports/"))
