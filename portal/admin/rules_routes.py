"""Rules versions and announcements (rule 16): drafts, live preview, publication, mail."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from portal.admin import bp, setup_rows
from portal.admin.forms import (
    AnnouncementForm,
    ConfirmForm,
    RulesDraftForm,
    RulesSetupChangesForm,
    describe_rules_problem,
)
from portal.admin.helpers import campaign_page, the_campaign
from portal.campaign import audit, conditions, setup, subscriptions
from portal.campaign import news as news_domain
from portal.campaign import rules as rules_domain
from portal.campaign.periods import local_today
from portal.campaign.staff import MARKETING, READ_MARKETING
from portal.jobs import mail as mail_jobs
from portal.models import Announcement, Campaign, OutboxMessage, RulesVersion, db, utcnow
from portal.models.mixins import current_language
from portal.web.access import current_actor, roles_required
from portal.web.i18n import LANGUAGE_NAMES
from portal.web.urls import subscription_links
from portal.wording import confirmations
from portal.wording.messages import rules_change_titles
from portal.wording.setup import describe_setup_refusal


def the_version(campaign: Campaign, number: int) -> RulesVersion:
    return db.session.scalar(
        sa.select(RulesVersion).filter_by(campaign_id=campaign.id, number=number)
    ) or abort(404)


# --- rules ---------------------------------------------------------------------------


@campaign_page("/rules")
@roles_required(*READ_MARKETING)
def rules_versions():
    """Every version of the rules, the draft first."""
    campaign = the_campaign()
    versions = db.session.scalars(
        sa.select(RulesVersion)
        .filter_by(campaign_id=campaign.id)
        .order_by(RulesVersion.number.desc())
    ).all()
    in_force = rules_domain.version_in_force(campaign, local_today())
    return render_template(
        "admin/rules_list.html", versions=versions, in_force=in_force, form=ConfirmForm()
    )


@campaign_page("/rules/new", methods=("POST",))
@roles_required(*MARKETING)
def rules_new():
    """Start a draft from the version in force (or open the draft being written)."""
    campaign = the_campaign()
    existing = rules_domain.open_draft(campaign)
    draft = rules_domain.start_draft(campaign, local_today())
    if existing is None:
        audit.record("rules.draft_start", draft, {"number": draft.number}, actor=current_actor())
    db.session.commit()
    return redirect(url_for("admin.rules_edit", number=draft.number))


@campaign_page("/rules/<id:number>")
@roles_required(*READ_MARKETING)
def rules_show(number: int):
    """One version, with what it changes against the one before it."""
    campaign = the_campaign()
    version = the_version(campaign, number)
    previous = db.session.scalar(
        sa.select(RulesVersion)
        .filter_by(campaign_id=campaign.id, published=True)
        .where(RulesVersion.number < number)
        .order_by(RulesVersion.number.desc())
    )
    diffs = {
        lang: rules_domain.stored_diff(previous, version, lang) if previous else None
        for lang in ("kk", "ru")
    }
    return render_template(
        "admin/rules_show.html",
        version=version,
        previous=previous,
        diffs=diffs,
        changes=setup.version_changes(version),
        form=ConfirmForm(),
    )


@campaign_page("/rules/<id:number>/edit")
@campaign_page("/rules/<id:number>/edit", methods=("POST",))
@roles_required(*MARKETING)
def rules_edit(number: int):
    """Edit a draft: both languages side by side, with a live preview."""
    campaign = the_campaign()
    version = the_version(campaign, number)
    if version.published:
        flash(_("A published version cannot be changed. Start a new version instead."), "error")
        return redirect(url_for("admin.rules_show", number=number))
    form = RulesDraftForm(obj=version)
    if form.validate_on_submit():
        _save_draft(version, form)
        db.session.commit()
        flash(_("Draft of version %(number)s saved.", number=version.number), "success")
        return redirect(url_for("admin.rules_edit", number=number))
    return _edit_page(version, form)


def _save_draft(version: RulesVersion, form: RulesDraftForm) -> None:
    form.populate_obj(version)
    audit.record(
        "rules.draft_save",
        version,
        {"number": version.number, "effective_on": version.effective_on},
        actor=current_actor(),
    )


def _edit_page(
    version: RulesVersion,
    form: RulesDraftForm,
    status: int = 200,
    changes_form: RulesSetupChangesForm | None = None,
    changes_refused: str = "",
):
    """The editor, with the questions its buttons ask (how many subscribers are mailed),
    and the changes to the conditions and prizes the version brings (rule 16)."""
    return render_template(
        "admin/rules_edit.html",
        form=form,
        version=version,
        changes_form=changes_form or _changes_form(version),
        changes=setup.version_changes(version),
        changes_refused=changes_refused,
        conditions_in_force={c.code: c for c in conditions.of_campaign(version.campaign)},
        language=current_language(),
        confirm=ConfirmForm(),
        confirm_publish=confirmations.publish_rules(
            version.number, subscriptions.audience(tuple(current_app.config["LANGUAGES"]))
        ),
        confirm_discard=confirmations.discard_rules(version.number),
    ), status


@bp.post("/rules/preview")
@roles_required(*MARKETING)
def rules_preview():
    """The rendered rules for the editor's live preview (sanitized like the public page)."""
    body = (request.get_json(silent=True) or {}).get("body", "")
    if not isinstance(body, str):
        abort(400)
    problems = rules_domain.rules_problems(body)
    too_large = any(problem.kind == "too-large" for problem in problems)
    document = rules_domain.parse_rules("" if too_large else body)
    return jsonify(
        html="" if too_large else render_template("admin/_rules_preview.html", document=document),
        problems=[describe_rules_problem(p) for p in problems],
    )


@campaign_page("/rules/<id:number>/publish", methods=("POST",))
@roles_required(*MARKETING)
def rules_publish(number: int):
    """Publish a draft, announce it on the news page and feed, and queue the e-mails.

    From the editor, the draft's fields come along: they are saved first (the audit
    trail has the save), so what is published is what was on the screen; with errors,
    the editor comes back with them and nothing is published.
    """
    campaign = the_campaign()
    version = the_version(campaign, number)
    from_editor = "body_kk" in request.form or "body_ru" in request.form
    if from_editor and not version.published:
        form = RulesDraftForm()
        if not form.validate_on_submit():
            return _edit_page(version, form, 400)
        _save_draft(version, form)
        db.session.commit()
    elif not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        setup.apply_version_changes(version, actor=current_actor())
        queued = rules_domain.publish_and_announce(
            version,
            rules_change_titles(version.number),
            actor=current_actor(),
            links=subscription_links(),
            now=utcnow(),
            today=local_today(),
        )
    except (setup.SetupRefused, conditions.ConditionsRefused) as refused:
        db.session.rollback()
        flash(
            _(
                "The version cannot be published: %(reason)s",
                reason=describe_setup_refusal(refused),
            ),
            "error",
        )
        return redirect(url_for("admin.rules_edit", number=number))
    except rules_domain.RulesChangeRefused as refused:
        db.session.rollback()
        reasons = {
            "published": _("it is published already."),
            "text": _(
                "its text in %(language)s has no valid clauses.",
                language=LANGUAGE_NAMES.get(refused.lang, ""),
            ),
            "summary": _(
                "the summary of changes in %(language)s is empty.",
                language=LANGUAGE_NAMES.get(refused.lang, ""),
            ),
            "date": _("its effective date is in the past."),
            "too-large": _(
                "its text in %(language)s is larger than %(limit)s KB.",
                language=LANGUAGE_NAMES.get(refused.lang, ""),
                limit=rules_domain.RULES_MAX_BYTES // 1024,
            ),
        }
        flash(
            _("The version cannot be published: %(reason)s", reason=reasons[refused.code]), "error"
        )
        return redirect(url_for("admin.rules_edit", number=number))
    db.session.commit()
    flash(
        _(
            "Version %(number)s is published and announced; %(num)d e-mails queued.",
            number=version.number,
            num=queued,
        ),
        "success",
    )
    return redirect(url_for("admin.rules_show", number=number))


def _changes_form(version: RulesVersion) -> RulesSetupChangesForm:
    """The version's changes to the conditions and prizes, as its form shows them: each
    condition's parameters (as the version changes them, or as they are) and the prizes
    (the version's, or the every-period ones in force) as rows."""
    campaign = version.campaign
    changes = setup.version_changes(version)
    form = RulesSetupChangesForm(formdata=None)
    setup_rows.fill_parameters(
        form.parameters, conditions.of_campaign(campaign), changes["conditions"]
    )
    form.change_prizes.data = changes["prizes"] is not None
    prizes = changes["prizes"]
    if prizes is None:
        prizes = [p for p in setup.prize_specs(campaign) if p.period is None]
    setup_rows.fill_prizes(form.prizes, prizes, campaign.periods)
    return form


@campaign_page("/rules/<id:number>/setup-changes", methods=("POST",))
@roles_required(*MARKETING)
def rules_setup_changes(number: int):
    """Record on a draft the conditions' parameters and the prizes it changes (rule 16):
    applied when it is published, to the months not drawn yet."""
    campaign = the_campaign()
    version = the_version(campaign, number)
    form = RulesSetupChangesForm()
    if version.published:
        flash(_("A published version cannot be changed. Start a new version instead."), "error")
        return redirect(url_for("admin.rules_show", number=number))
    if form.validate_on_submit():
        try:
            setup.set_version_changes(
                version,
                setup_rows.parameter_changes(form.parameters, conditions.of_campaign(campaign)),
                setup_rows.prize_specs(form.prizes) if form.change_prizes.data else None,
                actor=current_actor(),
            )
        except (setup.SetupRefused, conditions.ConditionsRefused) as refused:
            db.session.rollback()
            message = describe_setup_refusal(refused)
            flash(message, "error")
            version = the_version(the_campaign(), number)
            setup_rows.set_period_choices(form.prizes, version.campaign.periods)
            return _edit_page(
                version, RulesDraftForm(obj=version, formdata=None), 400, form, message
            )
        db.session.commit()
        flash(_("The changes of version %(number)s saved.", number=number), "success")
        return redirect(url_for("admin.rules_edit", number=number))
    setup_rows.set_period_choices(form.prizes, campaign.periods)
    return _edit_page(version, RulesDraftForm(obj=version, formdata=None), 400, form)


@campaign_page("/rules/<id:number>/discard", methods=("POST",))
@roles_required(*MARKETING)
def rules_discard(number: int):
    """Throw away a draft (a published version cannot be)."""
    campaign = the_campaign()
    version = the_version(campaign, number)
    if version.published or not ConfirmForm().validate_on_submit():
        abort(400)
    audit.record("rules.draft_discard", version, {"number": version.number}, actor=current_actor())
    db.session.delete(version)
    db.session.commit()
    flash(_("Draft of version %(number)s discarded.", number=number), "success")
    return redirect(url_for("admin.rules_versions"))


# --- announcements -----------------------------------------------------------------


@campaign_page("/news")
@roles_required(*READ_MARKETING)
def announcements():
    """Every announcement, drafts included."""
    campaign = the_campaign()
    items = db.session.scalars(
        sa.select(Announcement).filter_by(campaign_id=campaign.id).order_by(Announcement.id.desc())
    ).all()
    return render_template(
        "admin/news_list.html",
        items=items,
        form=ConfirmForm(),
        confirm_publish=_publish_question(),
    )


def _publish_question() -> str:
    """What publishing an announcement does: who it is e-mailed to."""
    return confirmations.publish_announcement(
        subscriptions.audience(tuple(current_app.config["LANGUAGES"]))
    )


@campaign_page("/news/new")
@campaign_page("/news/new", methods=("POST",))
@roles_required(*MARKETING)
def announcement_new():
    """Write an announcement by hand (saved as a draft)."""
    campaign = the_campaign()
    form = AnnouncementForm()
    if form.validate_on_submit():
        item = Announcement(campaign_id=campaign.id, kind=Announcement.KIND_NOTICE)
        form.populate_obj(item)
        db.session.add(item)
        db.session.flush()
        audit.record(
            "announcement.draft_save", item, {"title_ru": item.title_ru}, actor=current_actor()
        )
        db.session.commit()
        flash(_("Draft saved."), "success")
        return redirect(url_for("admin.announcement_edit", item_id=item.id))
    return render_template("admin/news_form.html", form=form, item=None)


@campaign_page("/news/<id:item_id>")
@campaign_page("/news/<id:item_id>", methods=("POST",))
@roles_required(*MARKETING)
def announcement_edit(item_id: int):
    """Edit a draft announcement."""
    item = db.session.get(Announcement, item_id) or abort(404)
    if item.published_at is not None:
        flash(_("A published announcement cannot be changed."), "error")
        return redirect(url_for("admin.announcements"))
    form = AnnouncementForm(obj=item)
    if form.validate_on_submit():
        form.populate_obj(item)
        audit.record(
            "announcement.draft_save", item, {"title_ru": item.title_ru}, actor=current_actor()
        )
        db.session.commit()
        flash(_("Draft saved."), "success")
        return redirect(url_for("admin.announcement_edit", item_id=item.id))
    return render_template(
        "admin/news_form.html",
        form=form,
        item=item,
        confirm=ConfirmForm(),
        confirm_publish=_publish_question(),
    )


@campaign_page("/news/<id:item_id>/publish", methods=("POST",))
@roles_required(*MARKETING)
def announcement_publish(item_id: int):
    """Publish a draft announcement and queue it to the subscribers."""
    item = db.session.get(Announcement, item_id) or abort(404)
    if item.published_at is not None or not ConfirmForm().validate_on_submit():
        abort(400)
    queued = news_domain.publish(
        item, actor=current_actor(), links=subscription_links(), now=utcnow()
    )
    db.session.commit()
    flash(_("Announcement published; %(num)d e-mails queued.", num=queued), "success")
    return redirect(url_for("admin.announcements"))


# --- outgoing mail -------------------------------------------------------------------


@bp.get("/mail")
@roles_required(*READ_MARKETING)
def mail_outbox():
    """The outbox: how many messages wait, were sent or failed, and the latest ones."""
    counts = dict(
        db.session.execute(
            sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    latest = db.session.scalars(
        sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(50)
    ).all()
    return render_template(
        "admin/mail.html",
        counts=counts,
        latest=latest,
        form=ConfirmForm(),
        confirm_send=confirmations.send_mail(counts.get(OutboxMessage.PENDING, 0)),
    )


@bp.post("/mail/send")
@roles_required(*MARKETING)
def mail_send():
    """Send what is due now, by a job (the worker also sends it every minute)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)

    actor = current_actor()
    mail_jobs.send_now(getattr(actor.user, "id", None), actor.ip)
    flash(
        _("The outbox is being sent by the job worker: this page shows what went out."),
        "success",
    )
    return redirect(url_for("admin.mail_outbox"))
