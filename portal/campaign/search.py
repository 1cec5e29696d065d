"""The staff's search of a campaign's participants: exact keys first, then names."""

from __future__ import annotations

import sqlalchemy as sa

from portal.models import Participant, db
from portal.models.participants import NAME_TRIGRAMS

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


# A part of a name this long or longer is searched by its trigrams; a shorter one has none.
TRIGRAM = 3
# On SQLite, when at most this many names hold the part, they are read through the
# trigrams and sorted; when more do, the names' index is walked in their order and the
# page's limit is soon reached (see docs/DESIGN.md, "Staff search").
FEW_NAMES = 1_000
# The character that makes LIKE's wildcards (and itself) plain characters in a pattern
LIKE_ESCAPE = "\\"


def name_matches(campaign_id: int, query: str) -> sa.Select:
    """The participants whose name holds ``query``, case aside, every character of it as
    typed (``%``, ``_``, ``"`` or ``*`` are neither wildcards nor syntax).

    PostgreSQL answers by its trigram index. On SQLite, a part of three characters or
    more is looked up in the trigrams of the names (NAME_TRIGRAMS), whose case folding
    knows Kazakh and Russian letters as PostgreSQL's ``ILIKE`` does; one count of them
    first chooses how (see docs/DESIGN.md, "Staff search"). A shorter part has no
    trigram: SQLite's LIKE, blind to the case of ASCII letters only, walks the names.
    """
    statement = sa.select(Participant).where(Participant.campaign_id == campaign_id)
    like = _like(query)
    if db.session.get_bind().dialect.name != "sqlite":
        return _page(statement.where(Participant.company_name.ilike(like, LIKE_ESCAPE)))
    if len(query) < TRIGRAM:
        return _page(statement.where(Participant.company_name.like(like, LIKE_ESCAPE)))
    trigrams = sa.table(NAME_TRIGRAMS, sa.column("rowid"), sa.column("company_name"))
    # a quoted FTS5 string, a phrase: the query's trigrams one after the other
    phrase = '"' + query.replace('"', '""') + '"'
    holding = sa.select(trigrams.c.rowid).where(trigrams.c.company_name.op("MATCH")(phrase))
    held = db.session.scalar(
        sa.select(sa.func.count()).select_from(holding.limit(FEW_NAMES + 1).subquery())
    )
    if held <= FEW_NAMES:
        # each by its id, then sorted
        return _page(statement.where(Participant.id.in_(holding)))
    if query.isascii():
        # for ASCII, LIKE's folding is the trigrams' one: the cheapest check of a name
        return _page(statement.where(Participant.company_name.like(like, LIKE_ESCAPE)))
    # each name walked checked against the list of those holding the part, made once
    # (``id + 0``: not each id looked up, which would need the sort of them all)
    return _page(statement.where((Participant.id + 0).in_(holding)))


def _like(query: str) -> str:
    """``%query%`` for LIKE, the query's wildcards and escapes made plain characters."""
    for special in (LIKE_ESCAPE, "%", "_"):
        query = query.replace(special, LIKE_ESCAPE + special)
    return f"%{query}%"


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
    if "\x00" in query:
        return [], False  # held by no key nor name: no database stores it in text (imports.py)
    found = list(db.session.scalars(exact_matches(campaign.id, query)))
    if not found:
        found = list(db.session.scalars(name_matches(campaign.id, query)))
    return found[:SEARCH_LIMIT], len(found) > SEARCH_LIMIT
