"""Subscribing to the announcements by e-mail: the form, the confirmation link, unsubscribing.

What each step decides is ``portal.campaign.subscriptions``'s; these views take the
request and render the answer. Every answer to the subscription form is the same page,
whatever the address, so the form tells nobody who subscribed.
"""

from __future__ import annotations

from flask import abort, current_app, g, render_template, request

from portal.campaign import subscriptions
from portal.extensions import csrf
from portal.public import bp
from portal.public.forms import SubscribeForm, normalize_email
from portal.web.urls import subscription_links


@bp.route("/subscribe", methods=["GET", "POST"])
def subscribe():
    """The subscription form; a valid request mails a confirmation link and gets the same answer."""
    form = SubscribeForm(language=g.lang)
    if not form.validate_on_submit():
        return render_template("public/subscribe.html", form=form)
    allowed = subscriptions.request_subscription(
        normalize_email(form.email.data),
        form.language.data,
        client=request.remote_addr or "unknown",
        links=subscription_links(),
    )
    if not allowed:
        abort(429)
    return render_template("public/subscribe_done.html")


@bp.get("/subscribe/confirm/<token>")
def subscribe_confirm(token: str):
    """Confirm a subscription from the e-mailed link; an expired or bad link gets a 400 page."""
    outcome = subscriptions.confirm(token, current_app.config["SECRET_KEY"])
    if outcome != subscriptions.CONFIRMED:
        return render_template("public/subscribe_invalid.html", reason=outcome), 400
    return render_template("public/subscribe_confirmed.html")


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str):
    """Unsubscribe at once, by a click (GET) or a mail client's one-click POST (RFC 8058)."""
    try:
        subscriber = subscriptions.unsubscribe(token, current_app.config["SECRET_KEY"])
    except subscriptions.InvalidLink:
        return render_template("public/subscribe_invalid.html", reason="unsubscribe"), 400
    return render_template("public/unsubscribed.html", subscriber=subscriber)
