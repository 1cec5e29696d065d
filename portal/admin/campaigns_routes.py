"""Campaign set-up, site-wide at /admin/campaigns (administrators): the list, a new draft,
a draft's edit, a copy of an earlier campaign, and publication (portal/campaign/setup.py)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from portal.admin import bp, setup_rows
from portal.admin.forms import CampaignCopyForm, CampaignForm, ConfirmForm
from portal.campaign import conditions, setup
from portal.campaign.staff import ADMIN
from portal.models import Campaign, db, utcnow
from portal.web.access import current_actor, roles_required
from portal.wording.setup import describe_setup_refusal

FIELDS = (
    "slug",
    *setup.TEXT_FIELDS,
    "starts_on",
    "ends_on",
    "draw_deadline_day",
    "commission_min_members",
    *setup.REQUISITES,
)


# The set-up's URL variable is ``campaign_slug``, not ``slug``: the staff pages of one
# campaign (/admin/<slug>/..., engineer E) take ``slug`` from every URL that has one.
def the_setup_campaign(slug: str) -> Campaign:
    return db.session.scalar(sa.select(Campaign).filter_by(slug=slug)) or abort(404)


def dashboard_url(campaign: Campaign) -> str:
    """The campaign's staff dashboard, ``/admin/<slug>/``."""
    return url_for("admin.dashboard", slug=campaign.slug)


@bp.get("/campaigns")
@roles_required(*ADMIN)
def campaigns():
    """Every campaign, drafts included, with its set-up and staff pages."""
    found = db.session.scalars(sa.select(Campaign).order_by(Campaign.starts_on.desc())).all()
    return render_template(
        "admin/campaigns.html", campaigns=found, dashboard_url=dashboard_url, form=ConfirmForm()
    )


@bp.get("/campaigns/new")
@bp.post("/campaigns/new")
@roles_required(*ADMIN)
def campaign_new():
    """A new draft: its fields, requisites, prizes, conditions and rules version 1."""
    form = CampaignForm()
    if not form.is_submitted():
        setup_rows.fill_prizes(form.prizes, [], [])
        setup_rows.fill_conditions(form.conditions, [])
    if form.validate_on_submit():
        try:
            campaign = setup.create(_values(form), actor=current_actor())
            _save_parts(campaign, form)
        except (setup.SetupRefused, conditions.ConditionsRefused) as refused:
            db.session.rollback()
            return _new_page(form, 400, refused)
        db.session.commit()
        flash(_("Draft campaign %(slug)s saved.", slug=campaign.slug), "success")
        return redirect(url_for("admin.campaign_edit", campaign_slug=campaign.slug))
    return _new_page(form, 400 if form.is_submitted() else 200)


def _new_page(form: CampaignForm, status: int, refused=None):
    setup_rows.set_period_choices(form.prizes, [])
    return render_template(
        "admin/campaign_form.html", form=form, campaign=None, **_refusal(form, refused)
    ), status


def _refusal(form: CampaignForm, refused) -> dict:
    """A refusal, flashed, and shown in the prize's or condition's row it is about."""
    if refused is None:
        return {}
    message = describe_setup_refusal(refused)
    flash(message, "error")
    if isinstance(refused, conditions.ConditionsRefused):
        return {
            "refused": message,
            "condition_row": setup_rows.condition_row_of(form.conditions, refused),
        }
    return {"refused": message, "prize_row": setup_rows.prize_row_of(form.prizes, refused)}


@bp.get("/campaigns/<campaign_slug>/edit")
@bp.post("/campaigns/<campaign_slug>/edit")
@roles_required(*ADMIN)
def campaign_edit(campaign_slug: str):
    """Edit a campaign: a draft entirely; a published one its titles and requisites only
    (its conditions and prizes through a new rules version, rule 16)."""
    campaign = the_setup_campaign(campaign_slug)
    form = CampaignForm(obj=campaign, prizes=[], conditions=[])
    if not form.is_submitted():
        _fill_parts(campaign, form)
    if form.validate_on_submit():
        try:
            setup.update(campaign, _values(form), actor=current_actor())
            if campaign.status == Campaign.DRAFT:
                _save_parts(campaign, form)
            else:
                _refuse_part_changes(campaign, form)
        except (setup.SetupRefused, conditions.ConditionsRefused) as refused:
            db.session.rollback()
            return _edit_page(the_setup_campaign(campaign_slug), form, 400, refused)
        db.session.commit()
        flash(_("Campaign %(slug)s saved.", slug=campaign.slug), "success")
        return redirect(url_for("admin.campaign_edit", campaign_slug=campaign.slug))
    return _edit_page(campaign, form, 400 if form.is_submitted() else 200)


def _edit_page(campaign: Campaign, form: CampaignForm, status: int, refused=None):
    missing = setup.missing(campaign) if campaign.status == Campaign.DRAFT else []
    setup_rows.set_period_choices(form.prizes, campaign.periods)
    return render_template(
        "admin/campaign_form.html",
        form=form,
        campaign=campaign,
        missing=[describe_setup_refusal(m) for m in missing],
        confirm=ConfirmForm(),
        dashboard_url=dashboard_url,
        **_refusal(form, refused),
    ), status


@bp.get("/campaigns/<campaign_slug>/copy")
@bp.post("/campaigns/<campaign_slug>/copy")
@roles_required(*ADMIN)
def campaign_copy(campaign_slug: str):
    """A new draft from this campaign, with a new slug and dates."""
    source = the_setup_campaign(campaign_slug)
    form = CampaignCopyForm()
    if form.validate_on_submit():
        try:
            campaign = setup.copy(
                source,
                form.slug.data.strip(),
                form.starts_on.data,
                form.ends_on.data,
                actor=current_actor(),
            )
        except (setup.SetupRefused, conditions.ConditionsRefused) as refused:
            db.session.rollback()
            flash(describe_setup_refusal(refused), "error")
            source = the_setup_campaign(campaign_slug)
            return render_template("admin/campaign_copy.html", form=form, source=source), 400
        db.session.commit()
        flash(
            _("Draft %(slug)s made from %(source)s.", slug=campaign.slug, source=source.slug),
            "success",
        )
        return redirect(url_for("admin.campaign_edit", campaign_slug=campaign.slug))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/campaign_copy.html", form=form, source=source), status


@bp.post("/campaigns/<campaign_slug>/publish")
@roles_required(*ADMIN)
def campaign_publish(campaign_slug: str):
    """Publish a draft, or say every piece it lacks."""
    campaign = the_setup_campaign(campaign_slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        setup.publish(campaign, actor=current_actor(), now=utcnow())
    except setup.PublishRefused as refused:
        db.session.rollback()
        flash(
            _(
                "The campaign cannot be published yet: %(missing)s",
                missing=" ".join(describe_setup_refusal(m) for m in refused.missing),
            ),
            "error",
        )
        return redirect(url_for("admin.campaign_edit", campaign_slug=campaign_slug))
    except setup.SetupRefused as refused:
        db.session.rollback()
        flash(describe_setup_refusal(refused), "error")
        return redirect(url_for("admin.campaign_edit", campaign_slug=campaign_slug))
    db.session.commit()
    flash(_("Campaign %(slug)s is published.", slug=campaign.slug), "success")
    return redirect(url_for("admin.campaigns"))


def _values(form: CampaignForm) -> dict:
    """The campaign's fields from the form; ``periods`` None for calendar months, else
    the custom periods its lines give (``SetupRefused`` for a line that is not one)."""
    values = {name: getattr(form, name).data for name in FIELDS}
    values["slug"] = (values["slug"] or "").strip()
    custom = form.period_kind.data == "custom"
    values["periods"] = setup.parse_period_lines(form.period_lines.data or "") if custom else None
    return values


def _fill_parts(campaign: Campaign, form: CampaignForm) -> None:
    form.period_kind.data = "custom" if campaign.custom_periods else "monthly"
    form.period_lines.data = (
        setup.period_lines(setup.period_specs(campaign)) if campaign.custom_periods else ""
    )
    setup_rows.fill_prizes(form.prizes, setup.prize_specs(campaign), campaign.periods)
    setup_rows.fill_conditions(form.conditions, conditions.of_campaign(campaign))
    version = setup.first_rules(campaign)
    form.rules_kk.data = version.body_kk if version else ""
    form.rules_ru.data = version.body_ru if version else ""


def _save_parts(campaign: Campaign, form: CampaignForm) -> None:
    """A draft's prizes, conditions and rules as the form gives them, each set (and
    audited) when it differs from what the draft has."""
    actor = current_actor()
    prizes = setup_rows.prize_specs(form.prizes)
    if prizes != setup.prize_specs(campaign):
        setup.set_prizes(campaign, prizes, actor=actor)
    chosen = setup_rows.condition_list(form.conditions)
    current = setup_rows.as_rows_give(conditions.of_campaign(campaign))
    if not setup.same_conditions(chosen, current):
        setup.set_conditions(campaign, chosen, actor=actor)
    body_kk, body_ru = form.rules_kk.data or "", form.rules_ru.data or ""
    version = setup.first_rules(campaign)
    written = (version.body_kk, version.body_ru, version.effective_on) if version else None
    if (body_kk.strip() or body_ru.strip() or version) and written != (
        body_kk,
        body_ru,
        campaign.starts_on,
    ):
        setup.set_rules(campaign, body_kk, body_ru, actor=actor)


def _refuse_part_changes(campaign: Campaign, form: CampaignForm) -> None:
    """A published campaign's prizes and conditions, sent back changed, are refused."""
    prizes = setup_rows.prize_specs(form.prizes)
    chosen = setup_rows.condition_list(form.conditions)
    current = setup_rows.as_rows_give(conditions.of_campaign(campaign))
    if prizes != setup.prize_specs(campaign) or not setup.same_conditions(chosen, current):
        raise setup.SetupRefused("published")
