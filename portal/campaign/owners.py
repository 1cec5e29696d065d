"""Which campaign a row named by its id in a staff address belongs to.

The staff area's campaign pages live under ``/admin/<slug>/...`` (docs/DESIGN.md, "URL
map"); a page that names a winner, a draw, an act... by its id answers only under the
campaign that row belongs to, so a hand-edited address never shows or changes one
campaign's record under another's name.
"""

from __future__ import annotations

import sqlalchemy as sa

from portal.models import (
    Act,
    ActSignature,
    Announcement,
    Draw,
    ImportBatch,
    ManualSubmission,
    Participant,
    ReportingPeriod,
    Winner,
    WinnerFile,
    db,
)


def _through_period(model) -> sa.Select:
    return sa.select(ReportingPeriod.campaign_id).join(model, model.period_id == ReportingPeriod.id)


def _through_winner(*joins) -> sa.Select:
    query = _through_period(Winner)
    for model, on in joins:
        query = query.join(model, on)
    return query


# the name a staff URL gives the id -> (the query of its campaign's id, the id's column)
_OWNERS = {
    "winner_id": (lambda: _through_period(Winner), Winner.id),
    "draw_id": (lambda: _through_period(Draw), Draw.id),
    "batch_id": (lambda: _through_period(ImportBatch), ImportBatch.id),
    "act_id": (lambda: _through_winner((Act, Act.winner_id == Winner.id)), Act.id),
    "signature_id": (
        lambda: _through_winner(
            (Act, Act.winner_id == Winner.id), (ActSignature, ActSignature.act_id == Act.id)
        ),
        ActSignature.id,
    ),
    "submission_id": (
        lambda: _through_winner(
            (Act, Act.winner_id == Winner.id),
            (ManualSubmission, ManualSubmission.act_id == Act.id),
        ),
        ManualSubmission.id,
    ),
    "file_id": (
        lambda: _through_winner((WinnerFile, WinnerFile.winner_id == Winner.id)),
        WinnerFile.id,
    ),
    "participant_id": (lambda: sa.select(Participant.campaign_id), Participant.id),
    "item_id": (lambda: sa.select(Announcement.campaign_id), Announcement.id),
}

NAMES = frozenset(_OWNERS)


def owner_of(name: str, value: int) -> int | None:
    """The id of the campaign the row ``name=value`` (``winner_id=5``) belongs to; None
    when no such row exists or the name is not one of ``NAMES``."""
    if name not in _OWNERS or not isinstance(value, int):
        return None
    query, column = _OWNERS[name]
    return db.session.scalar(query().where(column == value))


def owners(values: dict) -> set[int]:
    """The campaigns the ids among ``values`` (a URL's arguments) belong to."""
    found = {owner_of(name, value) for name, value in values.items() if name in _OWNERS}
    found.discard(None)
    return found
