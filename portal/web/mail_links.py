"""The links of the subscribers' e-mails, as the views hand them to ``campaign.subscriptions``."""

from __future__ import annotations

from flask import current_app

from portal.campaign.subscriptions import MailLinks
from portal.web.urls import SiteLinks


def subscription_links() -> MailLinks:
    """The site's secret key and its absolute addresses, for the subscribers' e-mails."""
    return MailLinks(secret=current_app.config["SECRET_KEY"], site=SiteLinks())
