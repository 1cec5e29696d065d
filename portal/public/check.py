"""The eligibility self-check (rules 3 and 4): a client sees its own conditions, month by month."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import abort, render_template

from portal.campaign.draws import Entry, entries_of
from portal.campaign.eligibility import standing
from portal.models import Participant, db
from portal.public import bp
from portal.public.forms import CheckForm
from portal.public.routes import the_campaign
from portal.services import ratelimit
from portal.web.access import client_address
from portal.wording.messages import condition_name, describe_check

CHECKS_PER_HOUR = 20


@bp.route("/<slug>/check", methods=["GET", "POST"])
def check():
    """Account number and BIN/IIN in; each month's conditions with their evidence out."""
    campaign = the_campaign()
    form = CheckForm()
    months = None
    not_found = False
    entries: dict[int, list] = {}
    if form.validate_on_submit():
        allowed = ratelimit.allow(
            "check-ip", client_address() or "unknown", CHECKS_PER_HOUR, timedelta(hours=1)
        )
        db.session.commit()
        if not allowed:
            abort(429)
        months = standing(campaign, form.account_number.data, form.bin_iin.data)
        not_found = months is None
        if months:
            entries = draw_entries(campaign, form.account_number.data.strip(), months)
    return render_template(
        "public/check.html",
        form=form,
        months=months,
        not_found=not_found,
        entries=entries,
        condition_name=condition_name,
        describe_check=describe_check,
    )


def draw_entries(campaign, account_number: str, months) -> dict[int, list[Entry]]:
    """For each month, the draws whose pool held the client, and whether it won in them."""
    participant = db.session.scalar(
        sa.select(Participant).filter_by(campaign_id=campaign.id, account_number=account_number)
    )
    return {month.period.id: entries_of(participant, month.period) for month in months}
