"""The site's addresses the campaign writes into what it makes (a protocol, a notice).

The campaign never builds a URL: its caller gives it a ``Links`` object, which on the
site is ``portal.web.urls.SiteLinks`` (absolute, from ``PUBLIC_BASE_URL`` or the request).
"""

from __future__ import annotations

from typing import Protocol


class Links(Protocol):
    """The addresses the campaign needs, each absolute where the site can tell its base."""

    def draw_record(self, draw_id: int, lang: str) -> str:
        """The public record of a draw, in ``lang``: where anyone checks it."""
        ...

    def winner_admin(self, campaign_slug: str, winner_id: int) -> str:
        """A winner's page in the staff area, under its campaign's address."""
        ...

    def draws_admin(self, campaign_slug: str) -> str:
        """A campaign's draws page in the staff area."""
        ...

    def subscription_confirm(self, lang: str, token: str) -> str:
        """The link that confirms a subscription."""
        ...

    def unsubscribe(self, lang: str, token: str) -> str:
        """The one-click unsubscribe link."""
        ...

    def announcement(self, campaign_slug: str, announcement_id: int, lang: str) -> str:
        """An announcement's page, under its campaign's address."""
        ...
