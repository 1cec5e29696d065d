"""What the staff area's views share: the campaign a page works on, and its addresses.

A campaign's staff pages live under ``/admin/<slug>/...`` (``campaign_page``); the
site-wide ones (accounts, audit trail, outbox, calendar, sign-in) stay at ``/admin/...``.
The slug is taken out of the URL before the view runs (``g.campaign``: drafts included)
and put back into every ``url_for`` that needs one, so templates and views name
endpoints as before. A page of no campaign links to the campaign worked on last
(remembered in the session), else to the current one. Each campaign page's address
before campaigns had their own (``/admin/draws``...) answers a 302 to the same page of
the campaign its record belongs to, else of the current campaign.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    g,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask_login import current_user

from portal.admin import bp
from portal.campaign import owners
from portal.campaign.periods import current_campaign
from portal.campaign.staff import EVERY_ROLE
from portal.models import Campaign, db
from portal.web.access import roles_required

# the session key of the campaign the staff member worked on last
WORKED_ON = "admin_campaign"
OLD_PREFIX = "old_"
_old_rules: set[tuple[str, str]] = set()  # (old address, method): one redirect each


def campaign_page(rule: str, methods: tuple[str, ...] = ("GET",)) -> Callable:
    """Register a campaign's staff page at ``/admin/<slug><rule>``, its endpoint named
    after the view as before, and its old address ``/admin<rule>`` as a redirect."""

    def decorator(view: Callable) -> Callable:
        bp.add_url_rule(f"/<campaign:slug>{rule}", view_func=view, methods=list(methods))
        new = [m for m in methods if (rule, m) not in _old_rules]
        if new:
            _old_rules.update((rule, m) for m in new)
            bp.add_url_rule(
                rule, endpoint=OLD_PREFIX + view.__name__, view_func=_old_address, methods=new
            )
        return view

    return decorator


def _campaign(slug: str) -> Campaign | None:
    return db.session.scalar(sa.select(Campaign).filter_by(slug=slug))


@bp.url_value_preprocessor
def pull_campaign(endpoint, values):
    """Take the slug out of a campaign page's URL; ``g.campaign`` is its campaign (None
    for an unknown slug: a 404 once the visitor is known to be staff, ``check_campaign``)."""
    if values and "slug" in values:
        g.campaign_slug = values.pop("slug")
        g.campaign = _campaign(g.campaign_slug)
        g.campaign_ids = {k: v for k, v in values.items() if k in owners.NAMES}


@bp.before_request
def check_campaign():
    """For signed-in staff: an unknown slug is a 404, and so is a record of another
    campaign named under this one's address. (Others go to sign in first, learning
    nothing about which campaigns exist.)"""
    if "campaign_slug" not in g or not current_user.is_authenticated:
        return
    campaign = g.campaign
    if campaign is None or owners.owners(g.campaign_ids) - {campaign.id}:
        abort(404)
    if session.get(WORKED_ON) != campaign.slug:  # written only when it changes
        session[WORKED_ON] = campaign.slug


@bp.url_defaults
def add_campaign(endpoint, values):
    """A campaign page's links keep its campaign; other pages' go to the one worked on."""
    if "slug" in values or not current_app.url_map.is_endpoint_expecting(endpoint, "slug"):
        return
    campaign = worked_on()
    if campaign is not None:
        values["slug"] = campaign.slug


def worked_on() -> Campaign | None:
    """The campaign the page works on: the one in its URL, else the one the staff
    member worked on last, else the current one (``periods.current_campaign``)."""
    if g.get("campaign") is not None:
        return g.campaign
    if "worked_on" not in g:
        remembered = session.get(WORKED_ON) if has_request_context() else None
        g.worked_on = (_campaign(remembered) if remembered else None) or current_campaign()
    return g.worked_on


def the_campaign() -> Campaign:
    """The campaign the staff page works on, or a 404 when there is none."""
    campaign = worked_on() if "campaign_slug" not in g else g.campaign
    if campaign is None:
        abort(404)
    return campaign


def every_campaign() -> list[Campaign]:
    """Every campaign, drafts included, the latest first: the staff header's switcher."""
    return list(
        db.session.scalars(sa.select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id))
    )


@roles_required(*EVERY_ROLE)
def _old_address(**values):
    """An address from before campaigns had their own: a 302 (never permanent) to the same
    page of the campaign its record belongs to, else of the current campaign, with the
    query string. A form posted there is refused (404): it may have meant another one."""
    if request.method not in ("GET", "HEAD"):
        abort(404)
    found = owners.owners(values)
    campaign = db.session.get(Campaign, found.pop()) if len(found) == 1 else current_campaign()
    if campaign is None:
        abort(404)
    endpoint = request.url_rule.endpoint.replace(f"admin.{OLD_PREFIX}", "admin.", 1)
    query = {k: v for k, v in request.args.lists() if k not in values and k != "slug"}
    return redirect(url_for(endpoint, slug=campaign.slug, **values, **query), 302)
