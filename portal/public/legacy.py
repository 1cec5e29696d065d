"""The addresses the first campaign had before every campaign had its own: permanent
redirects to the same page under ``/<lang>/<slug>/`` (docs/DESIGN.md, "URL map").

They belong to the first campaign (the lowest id) for ever, never to "the current one":
a permanent redirect is kept by browsers and search engines. The query string goes
along (``/rules/diff?from=1&to=2``). The self-check, which is posted to, answers 308
so that a form posted to the old address is posted again to the new one.
"""

from __future__ import annotations

from flask import abort, redirect, request, url_for

from portal.campaign import catalogue
from portal.public import bp

# old path under /<lang>, the campaign page's endpoint it moved to, the methods it takes
MOVED = (
    ("/rules", "rules", ("GET",)),
    ("/rules/v<id:number>", "rules_version", ("GET",)),
    ("/rules/v<id:number>.pdf", "rules_pdf", ("GET",)),
    ("/rules/history", "rules_history", ("GET",)),
    ("/rules/diff", "rules_diff", ("GET",)),
    ("/winners", "winners", ("GET",)),
    ("/winners/<period_key>", "winners_month", ("GET",)),
    ("/winners/<period_key>/photo/<id:winner_id>", "winner_photo", ("GET",)),
    ("/draws", "draws_index", ("GET",)),
    ("/draws/ledger.json", "draws_ledger", ("GET",)),
    ("/news", "news", ("GET",)),
    ("/news/<id:announcement_id>", "news_item", ("GET",)),
    ("/news/feed.atom", "news_feed", ("GET",)),
    ("/check", "check", ("GET", "POST")),
)
# the endpoints of the old addresses: ``public.old_<endpoint>``
OLD_PREFIX = "old_"


def _moved_to(endpoint: str, methods: tuple[str, ...]):
    def moved(**values):
        campaign = catalogue.first_campaign() or abort(404)
        target = url_for(f"public.{endpoint}", slug=campaign.slug, **values)
        query = request.query_string.decode("latin-1")
        if query:
            target = f"{target}?{query}"
        return redirect(target, code=308 if "POST" in methods else 301)

    moved.__name__ = f"{OLD_PREFIX}{endpoint}"
    moved.__doc__ = f"The first campaign's old address of ``public.{endpoint}``: a redirect."
    return moved


for _path, _endpoint, _methods in MOVED:
    bp.add_url_rule(
        _path,
        endpoint=f"{OLD_PREFIX}{_endpoint}",
        view_func=_moved_to(_endpoint, _methods),
        methods=list(_methods),
    )
