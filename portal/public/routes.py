"""Views of the public site: campaign, rules, winners, news."""

from __future__ import annotations

import hashlib

from flask import (
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from portal.campaign import catalogue, draws
from portal.campaign import conditions as conditions_domain
from portal.campaign import news as news_rules
from portal.campaign import rules as rules_domain
from portal.campaign import winners as winner_rules
from portal.campaign.months import month_status, month_statuses
from portal.campaign.periods import (
    ENDED,
    campaign_state,
    find_period,
    local_today,
    next_draw_period,
)
from portal.models import Campaign
from portal.public import bp, site_bp
from portal.services import storage
from portal.services.pdf import render_pdf
from portal.web.downloads import photo_response
from portal.web.i18n import preferred_language
from portal.web.urls import database_int


@bp.url_value_preprocessor
def pull_language(endpoint, values):
    """Take the language out of the URL (an unknown one is a 404), and the campaign of a
    campaign's page (``/<lang>/<slug>/...``: a draft or an unknown slug is a 404)."""
    values = values if values is not None else {}
    lang = values.pop("lang", None)
    if lang not in current_app.config["LANGUAGES"]:
        abort(404)
    g.lang = lang
    if "slug" in values:
        slug = values.pop("slug")
        g.campaign = catalogue.published(slug)
        if g.campaign is None:
            values["slug"] = slug  # the 404 page's twin in the other language keeps it
            abort(404)


@bp.url_defaults
def add_language(endpoint, values):
    """Links within the public site keep the page's language, and a campaign's pages link
    to the same campaign's (a page of no campaign: to the featured one)."""
    if "lang" not in values:
        values["lang"] = g.get("lang") or preferred_language()
    if "slug" not in values and current_app.url_map.is_endpoint_expecting(endpoint, "slug"):
        campaign = g.get("campaign") or _featured()
        if campaign is not None:
            values["slug"] = campaign.slug


def _featured():
    if "featured_campaign" not in g:
        g.featured_campaign = catalogue.featured()
    return g.featured_campaign


@bp.context_processor
def page_context():
    """The page's campaign, and the same when it has ended (its pages then say so)."""
    shown = g.get("campaign")
    ended = shown is not None and campaign_state(shown, local_today()) == ENDED
    return {"campaign": shown, "ended_campaign": shown if ended else None}


def the_campaign() -> Campaign:
    """The campaign of the page's address (``/<lang>/<slug>/...``)."""
    campaign = g.get("campaign")
    if campaign is None:
        abort(404)
    return campaign


# --- outside the language prefix ------------------------------------------------


@site_bp.get("/")
def root():
    """Send the visitor to the site in its language."""
    response = redirect(url_for("public.index", lang=preferred_language()))
    response.headers["Vary"] = "Cookie, Accept-Language"
    return response


# --- the campaigns --------------------------------------------------------------


@bp.get("/")
def index():
    """The published campaigns: running ones first, then upcoming ones, then the archive."""
    today = local_today()
    campaigns = catalogue.listing(today)
    return render_template(
        "public/campaigns.html",
        campaigns=campaigns,
        next_draws={c.id: next_draw_period(c, today) for c in campaigns.running},
    )


@bp.get("/<slug>")
def campaign_bare():
    """A campaign's address without its final slash: to its home page (an unknown or
    draft campaign, as any page that does not exist, is a 404 by then)."""
    the_campaign()
    return redirect(url_for("public.campaign_home"), code=308)


@bp.get("/<slug>/")
def campaign_home():
    """A campaign: period, prize, how to take part, next draw, latest news."""
    campaign = the_campaign()
    today = local_today()
    applied = conditions_domain.of_campaign(campaign)
    return render_template(
        "public/campaign.html",
        conditions=applied,
        rule_4_steps=conditions_domain.is_standard(applied),
        min_receipts=conditions_domain.minimum_of(applied, "receipts_in_period"),
        months=month_statuses(campaign, today),
        next_period=next_draw_period(campaign, today),
        rules=rules_domain.version_in_force(campaign, today),
        news=news_rules.published_announcements(campaign, limit=3),
    )


# --- rules ----------------------------------------------------------------------


def _render_version(version, in_force: bool):
    campaign = g.campaign
    return render_template(
        "public/rules.html",
        version=version,
        document=rules_domain.parse_rules(version.tr("body")),
        in_force=in_force,
        latest=rules_domain.published_versions(campaign)[0],
        notice=news_rules.recent_rules_change(
            campaign, local_today(), current_app.config["RULES_CHANGE_NOTICE_DAYS"]
        ),
    )


@bp.get("/<slug>/rules")
def rules():
    """The rules in force today, with an anchor on every clause."""
    campaign = the_campaign()
    version = rules_domain.version_in_force(campaign, local_today())
    if version is None:
        abort(404)
    return _render_version(version, in_force=True)


@bp.get("/<slug>/rules/v<id:number>")
def rules_version(number: int):
    """One published version of the rules."""
    campaign = the_campaign()
    version = rules_domain.published_version(campaign, number) or abort(404)
    in_force = rules_domain.version_in_force(campaign, local_today())
    return _render_version(version, in_force=in_force is not None and in_force.id == version.id)


@bp.get("/<slug>/rules/v<id:number>.pdf")
def rules_pdf(number: int):
    """One published version of the rules as a PDF in the page's language: made on its
    first request, stored, and the same bytes ever after (services/storage.py)."""
    campaign = the_campaign()
    version = rules_domain.published_version(campaign, number) or abort(404)
    html = render_template(
        "pdf/rules.html",
        version=version,
        document=rules_domain.parse_rules(version.tr("body")),
    )
    digest = hashlib.sha256(html.encode()).hexdigest()[:16]
    key = f"rules/{campaign.id}/v{number}-{g.lang}-{digest}.pdf"
    content = storage.made_once(storage.current(), key, lambda: render_pdf(html))
    filename = f"ismet-rules-v{number}-{g.lang}.pdf"
    response = Response(
        content,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
    response.set_etag(digest)
    return response.make_conditional(request)


@bp.get("/<slug>/rules/history")
def rules_history():
    """Every published version with what changed in it."""
    campaign = the_campaign()
    versions = rules_domain.published_versions(campaign)
    if not versions:
        abort(404)
    in_force = rules_domain.version_in_force(campaign, local_today())
    return render_template("public/rules_history.html", versions=versions, in_force=in_force)


def _version_arg(name: str, default: int | None) -> int | None:
    value = request.args.get(name)
    if value in (None, ""):
        return default
    return database_int(value.removeprefix("v")) or abort(404)


@bp.get("/<slug>/rules/diff")
def rules_diff():
    """What changed between two published versions, clause by clause (kept once computed)."""
    campaign = the_campaign()
    versions = rules_domain.published_versions(campaign)
    if not versions:
        abort(404)
    to_number = _version_arg("to", versions[0].number)
    newer = rules_domain.published_version(campaign, to_number) or abort(404)
    older_default = max(
        (v.number for v in versions if v.number < newer.number), default=newer.number
    )
    older = rules_domain.published_version(campaign, _version_arg("from", older_default)) or abort(
        404
    )
    return render_template(
        "public/rules_diff.html",
        versions=versions,
        older=older,
        newer=newer,
        diff=rules_domain.stored_diff(older, newer, g.lang),  # computed once, then kept
    )


# --- winners --------------------------------------------------------------------


@bp.get("/<slug>/winners")
def winners():
    """Every reporting month with its draw and winners."""
    campaign = the_campaign()
    return render_template(
        "public/winners.html",
        months=month_statuses(campaign, local_today()),
        custom=campaign.custom_periods,
    )


@bp.get("/<slug>/winners/<period_key>")
def winners_month(period_key: str):
    """One reporting month: its draw and its winners, or when the draw is due."""
    campaign = the_campaign()
    period = find_period(campaign, period_key) or abort(404)
    month = month_status(period, local_today())
    return render_template(
        "public/winners_month.html",
        period=period,
        month=month,
        prizes=draws.prize_count(period),
        custom=campaign.custom_periods,
        standings={w.id: winner_rules.public_standing(w) for w in month.published},
    )


@bp.get("/<slug>/winners/<period_key>/photo/<id:winner_id>")
def winner_photo(period_key: str, winner_id: int):
    """A published winner's photo with the certificate (resized, without metadata)."""
    campaign = the_campaign()
    period = find_period(campaign, period_key) or abort(404)
    shown = {w.id: w for w in winner_rules.published(period)}
    winner = shown.get(winner_id)
    if winner is None or not winner.photo_path:
        abort(404)
    return photo_response(winner)


# --- news -----------------------------------------------------------------------


@bp.get("/<slug>/news")
def news():
    """Announcements, newest first."""
    campaign = the_campaign()
    return render_template(
        "public/news.html", announcements=news_rules.published_announcements(campaign)
    )


@bp.get("/<slug>/news/<id:announcement_id>")
def news_item(announcement_id: int):
    """One announcement."""
    campaign = the_campaign()
    item = news_rules.published_announcement(campaign, announcement_id) or abort(404)
    return render_template("public/news_item.html", item=item)


@bp.get("/<slug>/news/feed.atom")
def news_feed():
    """The announcements as an Atom feed in the page's language."""
    campaign = the_campaign()
    announcements = news_rules.published_announcements(campaign, limit=50)
    body = render_template(
        "public/feed.atom",
        announcements=announcements,
        updated=news_rules.feed_updated(campaign, announcements),
        entry_updated=news_rules.entry_updated,
        feed_title=_("%(campaign)s: announcements", campaign=campaign.tr("title")),
        # the ids a feed reader already holds: the first campaign's feed and entries keep
        # the addresses they had before campaigns had their own (which redirect here)
        id_prefix="public.old_" if campaign.id == catalogue.first_campaign().id else "public.",
    )
    return Response(body, mimetype="application/atom+xml")
