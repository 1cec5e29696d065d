"""The staff's search of a campaign's participants: exact keys first, then names."""

from __future__ import annotations

import sqlalchemy as sa

from portal.models import Participant, db

# The most participants a search shows; with more, the page asks for a narrower query.
SEARCH_LIMIT = 50


def exact_matches(campaign_id: int, query: str) -> sa.Select:
    """The participants whose account number or BIN/IIN is ``query``: each side answered
    by its index (the account's unique index, the BIN/IIN's)."""
    return _page(
        sa.select(Participant)
        .where(Participant.campaign_id == campaign_id)
        .where(sa.or_(Participant.account_number == query, Participant.bin_iin == query))
    )


def name_matches(campaign_id: int, query: str) -> sa.Select:
    """The participants whose name holds ``query`` (case aside): answered by the trigram
    index on PostgreSQL, by a walk of the names' index stopped at the page's limit on
    SQLite (see docs/DESIGN.md, "Staff search")."""
    pattern = f"%{query}%"
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite's LIKE is already blind to the case of ASCII letters, as ``ilike``'s
        # ``lower()`` is (it knows no other): the same answer, without lowering each name
        matches = Participant.company_name.like(pattern)
    else:
        matches = Participant.company_name.ilike(pattern)
    return _page(
        sa.select(Participant).where(Participant.campaign_id == campaign_id).where(matches)
    )


def _page(statement: sa.Select) -> sa.Select:
    """One more than the page shows, in the order of the names: whether there are more."""
    return statement.order_by(Participant.company_name, Participant.id).limit(SEARCH_LIMIT + 1)


def search(campaign, query: str) -> tuple[list[Participant], bool]:
    """The campaign's participants whose account number or BIN/IIN is ``query``; when
    none is, those whose name holds it. At most ``SEARCH_LIMIT`` of them, in the order
    of their names, and whether more match.

    Asked in one statement with ``OR``, the substring would make every search a scan of
    the table, the exact ones included.
    """
    found = list(db.session.scalars(exact_matches(campaign.id, query)))
    if not found:
        found = list(db.session.scalars(name_matches(campaign.id, query)))
    return found[:SEARCH_LIMIT], len(found) > SEARCH_LIMIT
