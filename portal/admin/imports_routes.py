"""Uploading a month of activity data: the file is streamed to the storage, a job imports
it (``portal.jobs.imports``), the page follows it."""

from __future__ import annotations

import json

from flask import (
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from wtforms import SelectChoice

from portal.admin.forms import ImportForm
from portal.admin.helpers import campaign_page, the_campaign
from portal.campaign import eligibility
from portal.campaign.eligibility import MonthFrozen
from portal.campaign.imports import (
    AlreadyImported,
    Problem,
    fingerprint,
    layout_of,
    start_import,
)
from portal.campaign.periods import find_period, local_today
from portal.campaign.staff import MARKETING, READ_MARKETING
from portal.jobs import imports as import_jobs
from portal.models import ImportBatch, db
from portal.services import storage
from portal.services.tabular import write_csv, write_xlsx
from portal.web.access import current_actor, roles_required
from portal.web.limits import body_limit
from portal.wording import confirmations
from portal.wording.imports import columns_table
from portal.wording.messages import describe_frozen, describe_problem


@campaign_page("/participants/import", methods=("GET", "POST"))
@body_limit("IMPORT_MAX_BYTES")
@roles_required(*MARKETING)
def participants_import():
    """Upload a month's file; replacing a month's data needs the box ticked; a drawn
    month's data is frozen (offered no more, and refused if sent)."""
    campaign = the_campaign()
    form = ImportForm()
    frozen = {p.key: eligibility.frozen(p) for p in campaign.periods}
    form.period.choices = [
        SelectChoice(key, key, render_kw={"disabled": True}) if refusal else SelectChoice(key, key)
        for key, refusal in frozen.items()
    ]
    if not form.is_submitted():
        form.period.data = next((key for key, refusal in frozen.items() if not refusal), None)
    if form.validate_on_submit():
        period = find_period(campaign, form.period.data) or abort(400)
        replace = bool(form.replace.data)
        upload = form.file.data
        filename = upload.filename or "upload"
        # never read whole: hashed, then copied to the storage, chunk by chunk (Werkzeug
        # keeps a large upload in a temporary file, not in memory)
        facts = fingerprint(upload.stream)
        actor = current_actor()
        try:
            batch = start_import(period, filename, facts, actor=actor, replace=replace)
        except MonthFrozen as refusal:
            db.session.commit()  # the refusal stays on the record
            form.period.errors.append(describe_frozen(refusal))
        except AlreadyImported:
            form.replace.errors.append(
                _("This month has data already: tick the box to replace it.")
            )
        else:
            batch_id, actor_id = batch.id, getattr(actor.user, "id", None)
            key = import_jobs.file_key(batch_id, filename)
            files = storage.current()
            files.delete(key)  # a batch id is new: what a key holds is a leftover (a restore)
            files.put(key, upload.stream)
            db.session.commit()
            import_jobs.run_import(batch_id, key, replace, actor_id, actor.ip, local_today())
            return redirect(url_for("admin.import_status", batch_id=batch_id))
    return render_template(
        "admin/import_form.html",
        form=form,
        frozen=[describe_frozen(refusal) for refusal in frozen.values() if refusal],
        confirm_replace=confirmations.replace_month(),
        columns=columns_table(layout_of(campaign)),
    )


def _template(content: bytes, mimetype: str, extension: str) -> Response:
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="ismet-import.{extension}"'},
    )


@campaign_page("/participants/import/template.csv")
@roles_required(*MARKETING)
def import_template_csv():
    """The import format's header as a CSV file to fill in."""
    return _template(write_csv([list(layout_of(the_campaign()).names)]), "text/csv", "csv")


@campaign_page("/participants/import/template.xlsx")
@roles_required(*MARKETING)
def import_template_xlsx():
    """The import format's header as a workbook to fill in, its columns described beside."""
    layout = layout_of(the_campaign())
    columns = columns_table(layout)
    notes = [
        [_("Column"), _("Meaning"), _("Required"), _("Format"), _("Example")],
        *([c["name"], c["meaning"], c["requirement"], c["format"], c["example"]] for c in columns),
    ]
    content = write_xlsx(list(layout.names), _("Columns"), notes)
    return _template(
        content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"
    )


def _status(batch: ImportBatch) -> dict:
    """The import's state for its page; a failed import has no percentage (it is not done)."""
    if batch.status == ImportBatch.DONE:
        percent = 100
    elif batch.status == ImportBatch.FAILED:
        percent = None
    else:
        percent = min(99, int(100 * batch.progress / max(batch.rows, 1)))
    return {
        "status": batch.status,
        "progress": batch.progress,
        "rows": batch.rows,
        "percent": percent,
    }


@campaign_page("/participants/imports/<id:batch_id>")
@roles_required(*READ_MARKETING)
def import_status(batch_id: int):
    """How far an import is; its problems, translated, when it failed."""
    batch = db.session.get(ImportBatch, batch_id) or abort(404)
    problems = [describe_problem(Problem(**p)) for p in json.loads(batch.problems or "[]")]
    return render_template(
        "admin/import_status.html", batch=batch, state=_status(batch), problems=problems
    )


@campaign_page("/participants/imports/<id:batch_id>.json")
@roles_required(*READ_MARKETING)
def import_status_json(batch_id: int):
    """The import's state, for the page that follows it."""
    batch = db.session.get(ImportBatch, batch_id) or abort(404)
    return jsonify(_status(batch))
