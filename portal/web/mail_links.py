"""The links of the subscribers' e-mails, as the views hand them to ``campaign.subscriptions``."""

from __future__ import annotations

from flask import current_app, url_for

from portal.campaign.subscriptions import Links


def absolute_url(endpoint: str, **values) -> str:
    """The absolute address of a page, on the host the request came to (or ``SERVER_NAME``)."""
    return url_for(endpoint, _external=True, **values)


def subscription_links() -> Links:
    """The site's secret key and its absolute addresses, for the subscribers' e-mails."""
    return Links(secret=current_app.config["SECRET_KEY"], url=absolute_url)
