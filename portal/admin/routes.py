"""Sign-in, the dashboard, staff accounts, the interface language and the audit trail."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.admin import bp
from portal.admin.forms import (
    AuditFilterForm,
    ConfirmForm,
    LanguageForm,
    LoginForm,
    UserForm,
    role_names,
)
from portal.admin.helpers import every_campaign, the_campaign, worked_on
from portal.campaign import audit, deadlines
from portal.campaign.months import month_statuses
from portal.campaign.periods import CAMPAIGN_TZ, local_today
from portal.campaign.staff import (
    ADMIN,
    AUDIT,
    EVERY_ROLE,
    authenticate,
    end_sessions,
    normalise_email,
    sessions_ended_by,
    set_password,
)
from portal.models import AuditEntry, OutboxMessage, StaffUser, db
from portal.services.organizer import missing_settings
from portal.services.tabular import csv_chunks
from portal.web.access import (
    client_address,
    current_actor,
    end_session,
    is_safe_next,
    roles_required,
    session_token,
    start_session,
)
from portal.web.urls import database_int
from portal.wording import confirmations
from portal.wording.staff import password_hint, sign_in_refusal

AUDIT_PAGE_SIZE = 100


@bp.get("/login")
@bp.post("/login")
def login():
    """Sign in. Five failures from one client address lock it out for 15 minutes; an
    account failing from many addresses is slowed to one check a minute (``staff``)."""
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        ip = client_address()
        email = normalise_email(form.email.data)
        attempt = authenticate(email, form.password.data, ip)
        if attempt.outcome == "ok":
            user = attempt.user
            start_session(user)
            login_user(user)
            audit.record("auth.sign_in", user, actor=audit.Actor(user=user, ip=ip))
            db.session.commit()
            target = request.args.get("next")
            return redirect(target if is_safe_next(target) else url_for("admin.dashboard"))
        actor = current_actor(label=email)
        if attempt.outcome in ("locked", "slowed"):
            audit.record(
                "auth.refused_locked" if attempt.outcome == "locked" else "auth.refused_slowed",
                details={"email": email},
                actor=actor,
                object_type="account",
            )
        else:
            audit.record(
                "auth.sign_in_failed", details={"email": email}, actor=actor, object_type="account"
            )
            if attempt.outcome in ("now-locked", "now-slowed"):
                audit.record(
                    "auth.locked_out" if attempt.outcome == "now-locked" else "auth.slowed_down",
                    details={"email": email, "until": attempt.until.isoformat()},
                    actor=actor,
                    object_type="account",
                )
        flash(sign_in_refusal(attempt.outcome), "error")
        db.session.commit()
    return render_template("admin/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """Sign out (by POST, with the CSRF token): the session ends on the server too."""
    audit.record("auth.sign_out", current_user, actor=current_actor())
    end_session()
    db.session.commit()
    logout_user()
    flash(_("You have signed out."), "success")
    return redirect(url_for("admin.login"))


@bp.post("/language")
def language():
    """Choose the staff area's language: saved on the account, or in a cookie before sign-in."""
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    back = urlpath(request.referrer)
    response = redirect(back if is_safe_next(back) else url_for("admin.dashboard"))
    if current_user.is_authenticated:
        current_user.language = form.language.data
        audit.record(
            "account.language",
            current_user,
            {"language": form.language.data},
            actor=current_actor(),
        )
        db.session.commit()
    response.set_cookie(
        current_app.config["LANGUAGE_COOKIE"],
        form.language.data,
        max_age=current_app.config["LANGUAGE_COOKIE_MAX_AGE"],
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
    )
    return response


def urlpath(url: str | None) -> str | None:
    """The local part (path and query) of a URL from this site, or None."""
    if not url:
        return None

    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@bp.get("/<campaign:slug>/")
@bp.get("/")
@roles_required(*EVERY_ROLE)
def dashboard():
    """The campaign at a glance: its months; what is due and overdue in every published
    campaign (and in this one, a draft too). ``/admin/`` goes to the campaign worked on;
    with no campaign at all it shows the site-wide part alone (mail, the settings)."""
    if "campaign_slug" not in g:
        campaign = worked_on()
        if campaign is not None:
            return redirect(url_for("admin.dashboard", slug=campaign.slug))
        return _dashboard(None)
    return _dashboard(the_campaign())


def _dashboard(campaign):
    today = local_today()
    months = month_statuses(campaign, today) if campaign else []
    due = deadlines.pending_every(today, also=campaign)
    waiting = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxMessage.PENDING)
    )
    return render_template(
        "admin/dashboard.html",
        campaign=campaign,
        months=months,
        deadlines=due,
        several=len({item.period.campaign_id for item in due}) > 1,
        today=today,
        mail_waiting=waiting,
        form=ConfirmForm(),
        confirm_send=confirmations.send_mail(waiting),
        organizer_missing=missing_settings(
            current_app.config, tuple(current_app.config["LANGUAGES"])
        ),
    )


# --- staff accounts ---------------------------------------------------------------


@bp.get("/users")
@roles_required(*ADMIN)
def users():
    """Every staff account, active or not."""
    accounts = db.session.scalars(
        sa.select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.email)
    ).all()
    return render_template("admin/users.html", accounts=accounts)


@bp.get("/users/new")
@bp.post("/users/new")
@roles_required(*ADMIN)
def user_new():
    """Create a staff account."""
    form = UserForm()
    if form.validate_on_submit():
        email = normalise_email(form.email.data)
        if db.session.scalar(sa.select(StaffUser).filter_by(email=email)):
            form.email.errors.append(_("An account with this e-mail exists already."))
        elif not form.password.data:
            form.password.errors.append(_("A new account needs a password."))
        else:
            account = StaffUser(
                email=email,
                name=form.name.data or "",
                role=form.role.data,
                language=form.language.data,
                active=form.active.data,
            )
            set_password(account, form.password.data)  # the form checked it
            db.session.add(account)
            db.session.flush()
            audit.record(
                "account.create",
                account,
                {"email": email, "role": account.role, "active": account.active},
                actor=current_actor(),
            )
            db.session.commit()
            flash(_("Account %(email)s created.", email=email), "success")
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/user_form.html", form=form, account=None, password_hint=password_hint()
    )


@bp.get("/users/<id:user_id>")
@bp.post("/users/<id:user_id>")
@roles_required(*ADMIN)
def user_edit(user_id: int):
    """Change an account's role, language, password, or deactivate it (never delete)."""
    account = db.session.get(StaffUser, user_id) or abort(404)
    form = UserForm(obj=account)
    if form.validate_on_submit():
        email = normalise_email(form.email.data)
        clash = db.session.scalar(
            sa.select(StaffUser).filter(StaffUser.email == email, StaffUser.id != account.id)
        )
        if clash:
            form.email.errors.append(_("An account with this e-mail exists already."))
        elif account.id == current_user.id and (not form.active.data or form.role.data != "admin"):
            form.role.errors.append(_("You cannot take away your own administrator rights."))
        else:
            before = {
                "email": account.email,
                "role": account.role,
                "active": account.active,
                "language": account.language,
            }
            account.email, account.name, account.role = email, form.name.data or "", form.role.data
            account.language, account.active = form.language.data, form.active.data
            after = {
                "email": account.email,
                "role": account.role,
                "active": account.active,
                "language": account.language,
            }
            changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
            if form.password.data:
                set_password(account, form.password.data)  # the form checked it
                changes["password"] = "changed"  # noqa: S105 - the fact, never the value
            if why := sessions_ended_by(changes):
                # the account's other sessions end; the admin's own, making the change, stays
                ended = end_sessions(account, why, keep=session_token())
                if ended:
                    changes["sessions_ended"] = ended
            audit.record("account.update", account, changes, actor=current_actor())
            db.session.commit()
            flash(_("Account %(email)s saved.", email=account.email), "success")
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/user_form.html", form=form, account=account, password_hint=password_hint()
    )


# --- audit trail --------------------------------------------------------------------


def _audit_query(form: AuditFilterForm):
    query = sa.select(AuditEntry)
    if form.action.data:
        query = query.where(AuditEntry.action.startswith(form.action.data.strip()))
    if form.actor.data:
        query = query.where(AuditEntry.actor.contains(form.actor.data.strip().lower()))
    if form.date_from.data:
        query = query.where(
            AuditEntry.at >= datetime.combine(form.date_from.data, time.min, tzinfo=CAMPAIGN_TZ)
        )
    if form.date_to.data:
        end = datetime.combine(form.date_to.data + timedelta(days=1), time.min, tzinfo=CAMPAIGN_TZ)
        query = query.where(AuditEntry.at < end)
    return query


@bp.get("/audit")
@roles_required(*AUDIT)
def audit_log():
    """The audit trail, newest first, filtered by action, person and dates."""
    form = AuditFilterForm(request.args)
    form.validate()
    page = database_int(request.args.get("page")) or 1
    entries = db.session.scalars(
        _audit_query(form)
        .order_by(AuditEntry.id.desc())
        .limit(AUDIT_PAGE_SIZE + 1)
        .offset((page - 1) * AUDIT_PAGE_SIZE)
    ).all()
    return render_template(
        "admin/audit.html",
        form=form,
        entries=entries[:AUDIT_PAGE_SIZE],
        page=page,
        has_next=len(entries) > AUDIT_PAGE_SIZE,
        report=None,
    )


@bp.get("/audit.csv")
@roles_required(*AUDIT)
def audit_csv():
    """The filtered audit trail as CSV, oldest first, with each entry's hashes."""
    form = AuditFilterForm(request.args)
    form.validate()
    audit.record(
        "audit.export",
        details={k: str(v) for k, v in form.data.items() if v},
        object_type="audit",
        actor=current_actor(),
    )
    db.session.commit()

    header = [
        "id",
        "at",
        "actor",
        "ip",
        "action",
        "object_type",
        "object_id",
        "details",
        "prev_hash",
        "entry_hash",
    ]

    def rows():
        # queried as the response streams: the view's own session is closed by then
        entries = db.session.scalars(_audit_query(form).order_by(AuditEntry.id))
        for entry in entries.yield_per(1000):
            yield [
                entry.id,
                entry.at.isoformat(),
                entry.actor,
                entry.ip,
                entry.action,
                entry.object_type,
                entry.object_id,
                entry.details,
                entry.prev_hash,
                entry.entry_hash,
            ]

    stamp = format_datetime(datetime.now(CAMPAIGN_TZ), "yyyyMMdd-HHmm")
    return Response(
        stream_with_context(csv_chunks(header, rows())),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )


@bp.post("/audit/verify")
@roles_required(*AUDIT)
def audit_verify():
    """Check the whole chain now and show the result."""
    report = audit.verify_chain()
    audit.record(
        "audit.verify",
        details={"checked": report.checked, "broken_at": report.broken_at},
        object_type="audit",
        actor=current_actor(),
    )
    db.session.commit()
    form = AuditFilterForm(formdata=None)
    entries = db.session.scalars(
        sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE_SIZE)
    ).all()
    return render_template(
        "admin/audit.html", form=form, entries=entries, page=1, has_next=False, report=report
    )


@bp.context_processor
def staff_context():
    """The roles' names; the campaign the page works on and every campaign, for the
    header's switcher (signed-in staff only: the sign-in page names none)."""
    context = {"role_names": role_names()}
    if current_user.is_authenticated:
        context["staff_campaign"] = worked_on()
        context["staff_campaigns"] = every_campaign()
    return context


@bp.app_template_filter("dict_without")
def dict_without(values: dict, *keys: str) -> dict:
    """A copy of ``values`` without ``keys`` (to rebuild a query string)."""
    return {k: v for k, v in values.items() if k not in keys}
