"""Uploading a month of activity data: the import runs in the background, the page follows it."""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa
from flask import abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin import bp
from portal.admin.forms import ImportForm
from portal.admin.helpers import the_campaign
from portal.campaign import audit, eligibility
from portal.campaign.imports import (
    AlreadyImported,
    Problem,
    existing_batch,
    import_month,
    new_batch,
)
from portal.campaign.periods import find_period, local_today
from portal.campaign.staff import EVERY_ROLE, MARKETING
from portal.models import ImportBatch, ImportRow, ReportingPeriod, StaffUser, db, utcnow
from portal.services import background
from portal.web.access import current_actor, roles_required
from portal.wording.messages import describe_problem

log = logging.getLogger(__name__)


@bp.route("/participants/import", methods=["GET", "POST"])
@roles_required(*MARKETING)
def participants_import():
    """Upload a month's file; replacing a month's data needs the box ticked."""
    request.max_content_length = current_app.config["IMPORT_MAX_BYTES"]
    campaign = the_campaign()
    form = ImportForm()
    form.period.choices = [(p.key, p.key) for p in campaign.periods]
    if form.validate_on_submit():
        period = find_period(campaign, form.period.data) or abort(400)
        if existing_batch(period) is not None and not form.replace.data:
            form.replace.errors.append(
                _("This month has data already: tick the box to replace it.")
            )
        else:
            upload = form.file.data
            data = upload.read()
            batch = new_batch(period, upload.filename or "upload", data, current_user)
            audit.record(
                "participants.import_started",
                batch,
                {
                    "period": period.key,
                    "file": batch.filename,
                    "sha256": batch.sha256,
                    "replace": bool(form.replace.data),
                },
                actor=current_actor(),
            )
            db.session.commit()
            background.start(run_import, batch.id, data, bool(form.replace.data), current_user.id)
            return redirect(url_for("admin.import_status", batch_id=batch.id))
    return render_template("admin/import_form.html", form=form)


def run_import(batch_id: int, data: bytes, replace: bool, actor_id: int) -> None:
    """The import itself, in the background: check, store, compute eligibility, audit."""
    batch = db.session.get(ImportBatch, batch_id)
    period = db.session.get(ReportingPeriod, batch.period_id)
    actor = db.session.get(StaffUser, actor_id)

    def progress(done: int) -> None:
        batch.progress = done
        db.session.commit()

    try:
        batch, report = import_month(
            period,
            batch.filename,
            data,
            today=local_today(),
            actor=actor,
            replace=replace,
            progress=progress,
            batch=batch,
        )
        details = {
            "period": period.key,
            "rows": batch.rows,
            "status": batch.status,
            "problems": report.total,
        }
        audit.record("participants.import", batch, details, actor=audit.Actor(user=actor))
        if report.ok:
            run = eligibility.compute(period, computed_by=actor.email)
            audit.record(
                "participants.eligibility",
                run,
                {"period": period.key, "participants": run.participants, "eligible": run.eligible},
                actor=audit.Actor(user=actor),
            )
        db.session.commit()
    except AlreadyImported:
        db.session.rollback()
        _fail(batch_id, "already-imported")
    except Exception:
        db.session.rollback()
        _fail(batch_id, "internal")
        raise


def _fail(batch_id: int, code: str) -> None:
    batch = db.session.get(ImportBatch, batch_id)
    batch.status = ImportBatch.FAILED
    batch.problems_total = 1
    batch.problems = json.dumps([{"row": 0, "column": "", "code": code, "detail": ""}])
    batch.finished_at = utcnow()
    # rows staged before a progress commit would otherwise stay behind
    db.session.execute(sa.delete(ImportRow).where(ImportRow.batch_id == batch_id))
    db.session.commit()


def _status(batch: ImportBatch) -> dict:
    return {
        "status": batch.status,
        "progress": batch.progress,
        "rows": batch.rows,
        "percent": 100
        if batch.status in (ImportBatch.DONE, ImportBatch.FAILED)
        else min(99, int(100 * batch.progress / max(batch.rows, 1))),
    }


@bp.get("/participants/imports/<int:batch_id>")
@roles_required(*EVERY_ROLE)
def import_status(batch_id: int):
    """How far an import is; its problems, translated, when it failed."""
    batch = db.session.get(ImportBatch, batch_id) or abort(404)
    problems = [describe_problem(Problem(**p)) for p in json.loads(batch.problems or "[]")]
    return render_template(
        "admin/import_status.html", batch=batch, state=_status(batch), problems=problems
    )


@bp.get("/participants/imports/<int:batch_id>.json")
@roles_required(*EVERY_ROLE)
def import_status_json(batch_id: int):
    """The import's state, for the page that follows it."""
    batch = db.session.get(ImportBatch, batch_id) or abort(404)
    return jsonify(_status(batch))
