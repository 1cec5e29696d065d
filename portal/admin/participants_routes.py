"""Participants in the staff area: the monthly funnel, search, one client's months, exports."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _

from portal.admin.forms import ConfirmForm, ParticipantSearchForm
from portal.admin.helpers import campaign_page, the_campaign
from portal.campaign import audit, conditions, eligibility
from portal.campaign.draws import eligible_pool
from portal.campaign.imports import existing_batch
from portal.campaign.periods import find_period
from portal.campaign.search import SEARCH_LIMIT, search
from portal.campaign.staff import EVERY_ROLE, MARKETING, PERSONAL_DATA
from portal.models import Activity, Participant, db
from portal.services.tabular import csv_chunks
from portal.web.access import current_actor, roles_required
from portal.wording.messages import condition_name, describe_check, describe_frozen


@campaign_page("/participants")
@roles_required(*EVERY_ROLE)
def participants():
    """Each month's funnel (how many pass each condition), and the search form."""
    return _participants_page(ParticipantSearchForm(formdata=None))


@campaign_page("/participants", methods=("POST",))
@roles_required(*PERSONAL_DATA)
def participants_search():
    """The search, by POST (never in an address that logs keep), on the same page."""
    form = ParticipantSearchForm()
    if not form.validate_on_submit():
        return _participants_page(form, status=400)
    found, more = search(the_campaign(), form.q.data.strip())
    return _participants_page(form, found, more=more)


def _participants_page(
    search_form: ParticipantSearchForm,
    found: list[Participant] | None = None,
    status: int = 200,
    *,
    more: bool = False,
):
    campaign = the_campaign()
    months = [
        {
            "period": p,
            "funnel": eligibility.funnel(p),
            "run": eligibility.latest_run(p),
            "batch": existing_batch(p),
            "frozen": eligibility.frozen(p),
        }
        for p in campaign.periods
    ]
    return render_template(
        "admin/participants.html",
        months=months,
        search_form=search_form,
        found=found,
        more=more,
        search_limit=SEARCH_LIMIT,
        conditions=conditions.of_campaign(campaign),
        condition_name=condition_name,
        describe_frozen=describe_frozen,
        form=ConfirmForm(),
    ), status


@campaign_page("/participants/<id:participant_id>")
@roles_required(*PERSONAL_DATA)
def participant(participant_id: int):
    """One participant: its details and, for each month, the reason for each decision."""
    campaign = the_campaign()
    client = db.session.get(Participant, participant_id)
    if client is None or client.campaign_id != campaign.id:
        abort(404)
    months = eligibility.standing(campaign, client.account_number, client.bin_iin)
    audit.record(
        "participants.view", client, {"account": client.account_masked}, actor=current_actor()
    )
    db.session.commit()
    return render_template(
        "admin/participant.html",
        client=client,
        months=months,
        condition_name=condition_name,
        describe_check=describe_check,
    )


@campaign_page("/participants/<period_key>/eligibility", methods=("POST",))
@roles_required(*MARKETING)
def participants_recompute(period_key: str):
    """Compute the month's eligibility again with the campaign's current conditions."""
    campaign = the_campaign()
    period = find_period(campaign, period_key) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        run = eligibility.recompute(period, current_actor())
    except eligibility.MonthFrozen as refusal:
        db.session.commit()  # the refusal stays on the record
        flash(describe_frozen(refusal), "error")
        return redirect(url_for("admin.participants"))
    db.session.commit()
    flash(
        _(
            "Eligibility computed: %(eligible)s of %(total)s participants.",
            eligible=run.eligible,
            total=run.participants,
        ),
        "success",
    )
    return redirect(url_for("admin.participants"))


@campaign_page("/participants/<period_key>/eligible.csv")
@roles_required(*MARKETING)
def participants_export(period_key: str):
    """The month's eligible pool as CSV, in the order of the draw (accounts by code point)."""
    campaign = the_campaign()
    period = find_period(campaign, period_key) or abort(404)
    audit.record("participants.export", period, {"period": period.key}, actor=current_actor())
    db.session.commit()
    # the month's counts (2022: the receipts) under the campaign's column names
    counts = [c for c in conditions.of_campaign(campaign) if c.kind == "count-at-least"]
    columns = [
        "account_number",
        "bin_iin",
        "legal_form",
        "company_name",
        "city",
        *(c.column for c in counts),
    ]
    figures = [getattr(Activity, c.slot) for c in counts]

    def pool():
        # queried as the response streams: the view's own session is closed by then
        yield from eligible_pool(
            period,
            Participant.account_number,
            Participant.bin_iin,
            Activity.legal_form,
            Participant.company_name,
            Participant.city,
            *figures,
        )

    return Response(
        stream_with_context(csv_chunks(columns, pool(), lineterminator="\n")),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="eligible-{period.key}.csv"'},
    )
