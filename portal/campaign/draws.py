"""The monthly draw (rules 5-7), made so that anyone can check it (docs/DESIGN.md, "The draw").

1. The pool: the month's eligible participants (for a redraw: the pool of the month's
   draw minus everyone excluded since), sorted by account number as Python orders
   text, position 1 first.
2. The pool file: ``position,entry_code,account_masked``; the entry code is the HMAC-SHA256
   of the account number under a key made for that draw and never published. Its
   SHA-256 is the pool digest.
3. One signed request to random.org for ``n`` distinct numbers in 1..pool size, whose
   ``userData`` names the draw, the month, the pool digest and the pool size, and the
   prizes the numbers go to (``prize_plan``).
4. Number ``i`` is position ``data[i]`` of the pool file.
5. The numbers go to the prizes in the order the rules publish them (``prizes_of``): the
   first ``count`` numbers to the prize at position 1, the next to position 2, and so on
   (``n`` is the sum of the counts, at most the pool size). A redraw draws as many
   numbers as winners fell away, and gives them, in rank order, to those winners' prizes
   (``redraw_slots``: by prize position, then the order they were drawn in).

Before it is drawn, the pool is announced (``announce``: its size and SHA-256 published
with the time); the draw is made only over the pool announced, once its waiting time
has passed, and an attempt that received a signed answer spends the announcement
(docs/DESIGN.md, "The draw", 12).

No transaction waits on the network. ``conduct`` makes a draw in three steps: it
reserves the draw's place in the month's chain (a ``DrawAttempt``, ``pending``, with the
id the draw will have, which random.org signs) and commits; it asks random.org outside
any transaction; then it records the whole draw, and marks the attempt ``done``, in one
transaction. An attempt that fails is kept ``failed`` with its reason, for the staff; a
``pending`` one whose process died expires after its hold (``RESERVATION_HOLD``). The
public sees only draws, each committed whole: never an attempt.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import secrets
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from portal.campaign import LANGUAGES, audit, ledger, protocol_signatures
from portal.campaign import winners as winner_rules
from portal.campaign.eligibility import current_batch_id, latest_run
from portal.campaign.links import Links
from portal.campaign.periods import CAMPAIGN_TZ, local_today
from portal.campaign.staff import ADMIN
from portal.models import (
    Activity,
    CommissionMember,
    Draw,
    DrawAttempt,
    DrawEntry,
    DrawFile,
    DrawVerdict,
    DrawWinner,
    KeptPool,
    Participant,
    PoolAnnouncement,
    Prize,
    RandomAnswer,
    ReportingPeriod,
    db,
)
from portal.models import Announcement as NewsItem
from portal.models.base import copy_rows, insert_with_bytes, read_bytes, read_chunks, utcnow
from portal.models.participants import mask_account
from portal.services import documents
from portal.services.randomorg import (
    RandomOrgClient,
    RandomOrgError,
    SignedAnswer,
    SignedResult,
    is_random_org_key,
    key_fingerprint,
    verify_signature,
)

log = logging.getLogger(__name__)

POOL_HEADER = "position,entry_code,account_masked\n"
# How long a reserved draw may wait for random.org's answer and its recording: a
# reservation still pending after this (its process died) no longer holds the month's
# place, and the next attempt marks it failed (``expired``). Never shorter than the
# client's worst case plus a minute (``longest_wait``: RANDOM_ORG_TIMEOUT, _RETRIES,
# _BACKOFF), which with the defaults is 2 min 27 s.
RESERVATION_HOLD = timedelta(minutes=10)
# How long a pool shown on the confirmation screen is kept for its confirmation, and how
# many a draw keeps at most (the newest): a confirmation without its kept pool builds the
# pool again, as a confirmation of ``flask draw run`` does.
KEPT_POOL_HOLD = timedelta(hours=12)
KEPT_POOLS_A_DRAW = 3


class DrawRefused(Exception):
    """The draw may not be made; ``code`` says why (``portal.wording.messages`` words it)."""

    def __init__(self, code: str, **details):
        super().__init__(code)
        self.code = code
        self.details = details


# A commission member present at the draw: the name, the position in each language.
Member = CommissionMember

# What the commission writes (the place, a reason) is written in each of the campaign's
# languages: ``{"kk": ..., "ru": ...}``. The public record and the protocol show the
# reader's own; a text missing in one language is refused.
Texts = Mapping[str, str]
NO_TEXT: Texts = {}


def texts(value: Texts | None) -> dict[str, str]:
    """``value`` in every language of the campaign, trimmed (``""`` where it is missing)."""
    value = value or {}
    return {lang: (value.get(lang) or "").strip() for lang in LANGUAGES}


def written(value: Texts | None) -> bool:
    """Whether anything of ``value`` is written, in any language."""
    return any(texts(value).values())


def complete(value: Texts | None) -> bool:
    """Whether ``value`` is written in every language of the campaign."""
    return all(texts(value).values())


def parse_commission(text: str) -> list[Member]:
    """``"Name, position in Kazakh | position in Russian; …"`` (or one member a line) as
    members; blank parts dropped. A position without its Russian half (no ``|``) keeps
    that half empty, which ``conduct`` refuses."""
    members = []
    for part in text.replace("\n", ";").split(";"):
        if not part.strip():
            continue
        name, _, positions = part.partition(",")
        position_kk, _, position_ru = positions.partition("|")
        members.append(Member(name.strip(), position_kk.strip(), position_ru.strip()))
    return members


def commission_text(members: Iterable[Member]) -> str:
    """Members written as ``parse_commission`` reads them, one a line."""
    return "\n".join(f"{m.name}, {m.position_kk} | {m.position_ru}" for m in members)


@dataclass
class Pool:
    """A pool and its file, as the commission sees it before confirming."""

    period: ReportingPeriod
    replaces: Draw | None
    nonce: str
    entry_key: bytes
    participant_ids: Sequence[int]  # in pool order: position n is index n - 1
    content: bytes
    sha256: str
    inputs: str = ""  # what it was made from (``pool_inputs``), read before it was made

    @property
    def size(self) -> int:
        return len(self.participant_ids)


def entry_key(secret: str | bytes, nonce: str) -> bytes:
    """The draw's HMAC key, made from the site's secret and a nonce that travels in the form.

    So the confirmation screen and the confirmed draw build the same pool file while the
    key itself never leaves the server.
    """
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, b"draw-entry-key\x00" + nonce.encode(), hashlib.sha256).digest()


def entry_code(key: bytes, account_number: str) -> str:
    return hmac.new(key, account_number.encode(), hashlib.sha256).hexdigest()


def pool_file(key: bytes, accounts: Iterable[str]) -> bytes:
    """The pool file's exact bytes for accounts already in pool order.

    Written line by line into one buffer: a million-line pool is one copy in memory.
    """
    out = io.BytesIO()
    write = out.write
    write(POOL_HEADER.encode("ascii"))
    keyed = hmac.new(key, digestmod=hashlib.sha256)  # copied per line: the key is set up once
    for position, account in enumerate(accounts, start=1):
        mac = keyed.copy()
        mac.update(account.encode())
        code = mac.hexdigest()
        write(f"{position},{code},{mask_account(account)}\n".encode())
    return out.getvalue()


def chain(draw: Draw) -> list[Draw]:
    """The month's draw and every redraw after it, oldest first."""
    first = draw
    while first.replaces is not None:
        first = first.replaces
    draws = [first]
    while draws[-1].replaced_by is not None:
        draws.append(draws[-1].replaced_by)
    return draws


def excluded_for(draw: Draw) -> set[int]:
    """Who may not be drawn again after ``draw``: every winner of its chain so far."""
    return {w.participant_id for d in chain(draw) for w in d.winners if d.id <= draw.id}


def eligible_pool(period: ReportingPeriod, *columns: sa.ColumnElement) -> Iterator[tuple]:
    """The month's eligible participants in pool order (the order of its first draw):
    ``columns`` of ``Participant`` and ``Activity`` for each, streamed from the database."""
    query = (
        sa.select(*columns)
        .select_from(Participant)
        .join(Activity, Activity.participant_id == Participant.id)
        .where(Activity.period_id == period.id, Activity.eligible.is_(True))
        .order_by(by_code_point(Participant.account_number))
    )
    return _stream(query)


def _stream(query: sa.Select) -> Iterator[tuple]:
    # On the session's connection, without the ORM's per-row work: a million rows in
    # half the time. Streamed in batches, so the rows never all sit in memory.
    return db.session.connection().execute(query.execution_options(yield_per=50_000)).tuples()


def _members(period: ReportingPeriod, replaces: Draw | None) -> Iterator[tuple[str, int]]:
    """``(account, participant id)`` in pool order, streamed from the database."""
    if replaces is None:
        return eligible_pool(period, Participant.account_number, Participant.id)
    root = chain(replaces)[0]
    query = (
        sa.select(Participant.account_number, Participant.id)
        .join(DrawEntry, DrawEntry.participant_id == Participant.id)
        .where(DrawEntry.draw_id == root.id)
        .order_by(by_code_point(Participant.account_number))
    )
    excluded = excluded_for(replaces)
    return (row for row in _stream(query) if row[1] not in excluded)


def by_code_point(column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """``column`` ordered by code point, as Python orders text, whatever the database's locale.

    Both databases keep text as UTF-8, whose byte order is code point order: SQLite
    compares bytes by default (BINARY) and PostgreSQL does under the "C" collation.
    """
    dialect = db.session.get_bind().dialect.name
    return column.collate("C") if dialect == "postgresql" else column.collate("BINARY")


def prepare(
    period: ReportingPeriod,
    *,
    secret: str | bytes,
    replaces: Draw | None = None,
    nonce: str | None = None,
) -> Pool:
    """Build the pool and its file for the month's next draw (or for the redraw of ``replaces``).

    ``secret`` is the site's secret key, from which each draw's entry key is made. With
    the ``nonce`` of a pool the confirmation screen showed (``show``), that pool is taken
    back as it was kept when nothing it was made from has changed since; otherwise it
    is built again (the same bytes, unless the month's data changed meanwhile).
    """
    if replaces is not None:
        period = replaces.period
    inputs = pool_inputs(period, replaces)  # before the pool is read: a change since shows
    if nonce:
        kept = _kept_pool(period, replaces, nonce, entry_key(secret, nonce), inputs)
        if kept is not None:
            return kept
    nonce = nonce or secrets.token_hex(16)
    key = entry_key(secret, nonce)
    participant_ids = array("q")  # 8 bytes a participant, not a Python int each
    keep_id = participant_ids.append

    def accounts() -> Iterator[str]:
        for account, participant_id in _members(period, replaces):
            keep_id(participant_id)
            yield account

    content = pool_file(key, accounts())
    return Pool(
        period=period,
        replaces=replaces,
        nonce=nonce,
        entry_key=key,
        participant_ids=participant_ids,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        inputs=inputs,
    )


def show(
    period: ReportingPeriod,
    *,
    secret: str | bytes,
    replaces: Draw | None = None,
    now: datetime | None = None,
) -> Pool:
    """The pool the confirmation screen shows (its size and digest), built with a new
    nonce and kept (``KeptPool``) so that its confirmation (``prepare`` with that nonce)
    takes it back instead of building it again; commits."""
    pool = prepare(period, secret=secret, replaces=replaces)
    now = now or utcnow()
    table = KeptPool.__table__.c
    newest = (
        sa.select(table.nonce)
        .where(table.period_id == pool.period.id, _same_draw(pool.replaces))
        .order_by(table.kept_at.desc(), table.nonce)
        .offset(KEPT_POOLS_A_DRAW - 1)
    )
    announced = sa.select(PoolAnnouncement.nonce).where(
        PoolAnnouncement.state == PoolAnnouncement.ANNOUNCED
    )
    db.session.execute(
        sa.delete(KeptPool.__table__).where(
            sa.or_(
                table.kept_at < now - KEPT_POOL_HOLD,
                sa.and_(
                    table.nonce.in_(newest.scalar_subquery()),
                    table.nonce.not_in(announced.scalar_subquery()),  # an announced pool stays
                ),
            )
        )
    )
    insert_with_bytes(
        KeptPool.__table__,
        {
            "nonce": pool.nonce,
            "period_id": pool.period.id,
            "replaces_id": getattr(pool.replaces, "id", None),
            "inputs": pool.inputs,
            "key_sha256": hashlib.sha256(pool.entry_key).hexdigest(),
            "sha256": pool.sha256,
            "size": pool.size,
            "content": pool.content,
            "participant_ids": _ids_as_bytes(pool.participant_ids),
            "kept_at": now,
        },
        "content",
    )
    db.session.commit()
    return pool


def pool_inputs(period: ReportingPeriod, replaces: Draw | None) -> str:
    """What a pool is made from, as a stamp that changes whenever the pool could: the
    month's latest eligibility run and the import whose data the month holds (only an
    eligibility run sets who is eligible, only an import changes a month's rows, and an
    account number never changes); for a redraw, the draw replaced (its chain's first
    pool and winners so far are stored for good)."""
    if replaces is not None:
        return f"redraw:{replaces.id}"
    run = latest_run(period)
    return f"run:{getattr(run, 'id', None)}:import:{current_batch_id(period)}"


def _same_draw(replaces: Draw | None) -> sa.ColumnElement[bool]:
    table = KeptPool.__table__.c
    if replaces is None:
        return table.replaces_id.is_(None)
    return table.replaces_id == replaces.id


def _kept_pool(
    period: ReportingPeriod,
    replaces: Draw | None,
    nonce: str,
    key: bytes,
    inputs: str,
) -> Pool | None:
    """The pool kept under ``nonce`` for this draw, when it was made from ``inputs`` with
    ``key`` and its file still has the digest it was kept with; else None."""
    table = KeptPool.__table__.c
    this = (table.nonce == nonce,)
    found = db.session.execute(
        sa.select(table.sha256, table.size).where(
            *this,
            table.period_id == period.id,
            _same_draw(replaces),
            table.inputs == inputs,
            table.key_sha256 == hashlib.sha256(key).hexdigest(),
        )
    ).one_or_none()
    if found is None:
        return None
    kept_sha256, size = found
    content = read_bytes(table.content, *this) or b""
    participant_ids = _ids_from_bytes(read_bytes(table.participant_ids, *this) or b"")
    sha256 = hashlib.sha256(content).hexdigest()
    if sha256 != kept_sha256 or len(participant_ids) != size:
        return None
    return Pool(
        period=period,
        replaces=replaces,
        nonce=nonce,
        entry_key=key,
        participant_ids=participant_ids,
        content=content,
        sha256=sha256,
        inputs=inputs,
    )


def _ids_as_bytes(ids: Sequence[int]) -> bytes:
    """Participant ids as little-endian signed 64-bit integers, one after the other."""
    kept = array("q", ids)
    if sys.byteorder != "little":
        kept.byteswap()
    return kept.tobytes()


def _ids_from_bytes(data: bytes) -> array:
    ids = array("q")
    ids.frombytes(data[: len(data) - len(data) % 8])
    if sys.byteorder != "little":
        ids.byteswap()
    return ids


# --- the prizes a draw gives --------------------------------------------------------


def prizes_of(period: ReportingPeriod) -> list[Prize]:
    """The prizes of ``period``, in the order the rules publish them (``Prize.position``):
    its campaign's prizes for every period (unless a rules version withdrew them from
    this period on, ``Prize.withdrawn_from``) and those for this period alone."""
    return list(
        db.session.scalars(
            sa.select(Prize)
            .where(
                Prize.campaign_id == period.campaign_id,
                sa.or_(
                    sa.and_(
                        Prize.period_id.is_(None),
                        sa.or_(
                            Prize.withdrawn_from.is_(None),
                            Prize.withdrawn_from > period.starts_on,
                        ),
                    ),
                    Prize.period_id == period.id,
                ),
            )
            .order_by(Prize.position, Prize.id)
        )
    )


def prize_count(period: ReportingPeriod) -> int:
    """How many prizes ``period``'s draw gives: every prize ``count_per_period`` times."""
    return sum(prize.count_per_period for prize in prizes_of(period))


@dataclass(frozen=True)
class Slot:
    """A number's prize: the ``n``-th number of a draw goes to its ``n``-th slot; a
    redraw's slot names the winner who fell away (``replaces``, a ``DrawWinner`` id)."""

    prize_id: int
    position: int
    replaces: int | None = None


def month_slots(period: ReportingPeriod) -> list[Slot]:
    """The slots of ``period``'s draw: each prize ``count_per_period`` times, in order."""
    return [
        Slot(prize.id, prize.position)
        for prize in prizes_of(period)
        for _ in range(prize.count_per_period)
    ]


def redraw_slots(replaces: Draw) -> list[Slot]:
    """The slots of the redraw of ``replaces``: the prize of each winner of its chain
    who fell away and whose prize no draw has given again (rules 8, 9 and 12), by prize
    position, then in the order they were drawn (``winners.awaiting_redraw``)."""
    return [
        Slot(w.prize_id, w.prize.position, w.draw_winner_id)
        for w in winner_rules.awaiting_redraw(replaces)
    ]


def slots_for(period: ReportingPeriod, replaces: Draw | None) -> list[Slot]:
    return month_slots(period) if replaces is None else redraw_slots(replaces)


def plan_of(slots: Sequence[Slot]) -> list[dict[str, int]]:
    """Slots as the draw keeps and random.org signs them: ``{"prize", "position",
    "count"}`` a run of the same prize, in order."""
    plan: list[dict[str, int]] = []
    for slot in slots:
        if plan and plan[-1]["prize"] == slot.prize_id:
            plan[-1]["count"] += 1
        else:
            plan.append({"prize": slot.prize_id, "position": slot.position, "count": 1})
    return plan


def prize_plan(draw: Draw) -> list[dict[str, int]]:
    """What ``draw``'s numbers went to, in order (``plan_of``); a draw made before
    issue 19 gave all its numbers to its one prize."""
    if draw.prize_plan_json:
        return json.loads(draw.prize_plan_json)
    prize = draw.prize
    return [{"prize": prize.id, "position": prize.position, "count": draw.prizes_drawn}]


def expected_prizes(plan: Sequence[Mapping[str, int]], n: int) -> list[int]:
    """The prize (its id) each of the first ``n`` numbers takes under ``plan``."""
    return [item["prize"] for item in plan for _ in range(item["count"])][:n]


# --- announcing the pool -------------------------------------------------------------

# What a news item about an announced pool says, in each language of the campaign: the
# caller words it (``portal.wording``), from the announcement made:
# ``{"title": {"kk": ..., "ru": ...}, "body": {"kk": ..., "ru": ...}}``.
NewsTexts = Callable[[PoolAnnouncement], Mapping[str, Mapping[str, str]]]

# random.org's errors that may come with a signed answer received (a malformed answer or
# one whose signature does not verify): the attempt spends its pool's announcement.
# Every other error came without one (no connection, a timeout, an error object).
ANSWERED_ERRORS = ("malformed", "bad-signature")


def _announcements(period: ReportingPeriod, replaces: Draw | None) -> sa.Select:
    query = sa.select(PoolAnnouncement).where(PoolAnnouncement.period_id == period.id)
    if replaces is None:
        return query.where(PoolAnnouncement.replaces_id.is_(None))
    return query.where(PoolAnnouncement.replaces_id == replaces.id)


def open_announcement(
    period: ReportingPeriod, replaces: Draw | None = None
) -> PoolAnnouncement | None:
    """The announcement that stands for the month's draw (or the redraw of ``replaces``):
    the pool that draw may be made over, or None."""
    return db.session.scalar(
        _announcements(period, replaces)
        .where(PoolAnnouncement.state == PoolAnnouncement.ANNOUNCED)
        .order_by(PoolAnnouncement.id.desc())
    )


def latest_announcement(
    period: ReportingPeriod, replaces: Draw | None = None
) -> PoolAnnouncement | None:
    """The newest announcement for that draw, whatever became of it, or None."""
    return db.session.scalar(_announcements(period, replaces).order_by(PoolAnnouncement.id.desc()))


def announcements_of(period: ReportingPeriod) -> list[PoolAnnouncement]:
    """Every pool announced for the month (its draw and redraws), newest first."""
    return list(
        db.session.scalars(
            sa.select(PoolAnnouncement)
            .where(PoolAnnouncement.period_id == period.id)
            .order_by(PoolAnnouncement.id.desc())
        )
    )


def awaiting_draw(period: ReportingPeriod) -> PoolAnnouncement | None:
    """The month's pool announced and not drawn yet (what its public pages show), or None."""
    return db.session.scalar(
        sa.select(PoolAnnouncement)
        .where(
            PoolAnnouncement.period_id == period.id,
            PoolAnnouncement.state == PoolAnnouncement.ANNOUNCED,
        )
        .order_by(PoolAnnouncement.id.desc())
    )


def announcement_of(draw: Draw) -> PoolAnnouncement | None:
    """The announcement ``draw`` was made over (None for a draw made before announcements)."""
    return db.session.scalar(sa.select(PoolAnnouncement).filter_by(draw_id=draw.id))


def announcement_wait(config: Mapping[str, Any]) -> timedelta:
    """How long after its pool's announcement a draw may be confirmed: the setting
    ``DRAW_ANNOUNCEMENT_WAIT_MINUTES`` of ``config`` (the app's, for views and commands)."""
    return timedelta(minutes=float(config["DRAW_ANNOUNCEMENT_WAIT_MINUTES"]))


def announce(
    pool: Pool,
    *,
    actor=None,
    actor_label: str | None = None,
    wait: timedelta = timedelta(0),
    news: NewsTexts | None = None,
    expected_sha256: str | None = None,
    now: datetime | None = None,
) -> PoolAnnouncement:
    """The commission's first step: publish ``pool`` (its size and SHA-256, with the time)
    as the pool the month's draw (or the redraw of ``pool.replaces``) will be made over,
    not before ``wait`` has passed. On the audit trail (``draw.announce``) and, with
    ``news``, as a published news item (so in the feed); an announcement that stood for
    the same draw is withdrawn. Commits.

    Raises ``DrawRefused`` (nothing stored) when the draw may not be made (``refusals``),
    when the pool is empty, differs from ``expected_sha256`` (the pool shown) or is
    the one announced already.
    """
    if wait < timedelta(0):
        raise ValueError("the waiting time cannot be negative")
    actor = audit.as_actor(actor, actor_label)
    now = now or utcnow()
    period, replaces = pool.period, pool.replaces
    try:
        _lock_month(period)
        if replaces is not None:
            db.session.refresh(replaces)
        expire_stale(period, actor)
        problems = refusals(period, replaces, now, actor=actor)
        if problems:
            raise problems[0]
        if expected_sha256 is not None and expected_sha256 != pool.sha256:
            raise DrawRefused("pool-changed")
        if pool.size == 0:
            raise DrawRefused("empty-pool", month=period.key)
        current = open_announcement(period, replaces)
        if current is not None and current.pool_sha256 == pool.sha256:
            raise DrawRefused(
                "already-announced", since=current.announced_at, until=current.not_before
            )
        if current is not None:  # a new pool in its stead
            current.state = PoolAnnouncement.WITHDRAWN
            current.finished_at = now
        announcement = PoolAnnouncement(
            period_id=period.id,
            replaces_id=getattr(replaces, "id", None),
            nonce=pool.nonce,
            pool_sha256=pool.sha256,
            pool_size=pool.size,
            announced_at=now,
            not_before=now + wait,
            announced_by_id=getattr(actor.user, "id", None),
            announced_by=actor.name[:254],
            state=PoolAnnouncement.ANNOUNCED,
        )
        db.session.add(announcement)
        db.session.flush()
        if news is not None:
            worded = news(announcement)
            item = NewsItem(
                campaign_id=period.campaign_id,
                kind=NewsItem.KIND_DRAW_POOL,
                title_kk=worded["title"]["kk"][:300],
                title_ru=worded["title"]["ru"][:300],
                body_kk=worded["body"]["kk"],
                body_ru=worded["body"]["ru"],
                published_at=now,
                created_at=now,
                updated_at=now,
            )
            db.session.add(item)
            db.session.flush()
            announcement.news_id = item.id
        audit.record(
            "draw.announce",
            announcement,
            {
                "period": period.key,
                "replaces": getattr(replaces, "id", None),
                "pool_size": pool.size,
                "pool_sha256": pool.sha256,
                "not_before": announcement.not_before.astimezone(UTC).isoformat(),
                "withdrawn": current.id if current is not None else None,
            },
            actor=actor,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return announcement


def announced_pool(
    period: ReportingPeriod,
    *,
    secret: str | bytes,
    replaces: Draw | None = None,
) -> Pool:
    """The pool of the announcement that stands for this draw, made again from its nonce
    (the same bytes unless the month's data changed since: ``conduct`` then refuses it);
    a new pool when none stands (``conduct`` refuses it too: it is not announced)."""
    if replaces is not None:
        period = replaces.period
    current = open_announcement(period, replaces)
    nonce = current.nonce if current is not None else None
    return prepare(period, secret=secret, replaces=replaces, nonce=nonce)


def announcement_refusal(
    pool: Pool, now: datetime
) -> tuple[PoolAnnouncement | None, DrawRefused | None]:
    """The announcement the draw over ``pool`` would be made under, and why it may not
    be made under it at ``now`` (None when it may): no announcement stands (never
    made, or spent by an answered attempt), the pool is not the one announced (its
    digest), or the waiting time has not passed."""
    period, replaces = pool.period, pool.replaces
    current = open_announcement(period, replaces)
    if current is None:
        latest = latest_announcement(period, replaces)
        if latest is not None and latest.state == PoolAnnouncement.SPENT:
            return None, DrawRefused("announcement-spent", month=period.key)
        return None, DrawRefused("not-announced", month=period.key)
    if current.pool_sha256 != pool.sha256 or current.pool_size != pool.size:
        return current, DrawRefused(
            "not-the-announced-pool", month=period.key, since=current.announced_at
        )
    if now < current.not_before:
        return current, DrawRefused(
            "announcement-wait", since=current.announced_at, until=current.not_before
        )
    return current, None


def _spend(announcement_id: int | None, attempt_id: int, now: datetime) -> bool:
    """Mark the announcement an answered attempt was made under spent; whether it was."""
    if announcement_id is None:
        return False
    table = PoolAnnouncement.__table__
    return bool(
        db.session.execute(
            sa.update(table)
            .where(table.c.id == announcement_id, table.c.state == PoolAnnouncement.ANNOUNCED)
            .values(state=PoolAnnouncement.SPENT, attempt_id=attempt_id, finished_at=now)
        ).rowcount
    )


def refusals(
    period: ReportingPeriod,
    replaces: Draw | None,
    now: datetime,
    *,
    actor: audit.Actor | None = None,
    fallback: bool = False,
) -> list[DrawRefused]:
    """Why the draw cannot be made now (empty when it can), before any pool is built.

    With ``fallback``, the draw is to be made locally instead of on random.org, which
    only an active administrator may choose (``actor``'s account).
    """
    problems = fallback_refusals(actor, fallback)
    if replaces is None:
        if local_today(now) <= period.ends_on:
            problems.append(DrawRefused("month-not-ended", month=period.key))
        if latest_run(period) is None:
            problems.append(DrawRefused("no-eligibility", month=period.key))
        if current_draw(period) is not None:
            problems.append(
                DrawRefused("already-drawn", month=period.key, prizes=prize_count(period))
            )
        if not prizes_of(period):
            problems.append(DrawRefused("no-prizes", month=period.key))
    elif replaces.replaced_by is not None:
        problems.append(DrawRefused("already-replaced", draw=replaces.id))
    elif not winner_rules.draw_awaits_redraw(replaces):
        # rules 8, 9 and 12: a prize is drawn again only when a winner has fallen away
        problems.append(DrawRefused("winner-standing", draw=replaces.id))
    if not problems:
        sequence = 0 if replaces is None else replaces.sequence + 1
        under_way = pending_attempt(period, sequence)
        if under_way is not None:
            problems.append(
                DrawRefused(
                    "draw-in-progress",
                    month=period.key,
                    by=under_way.started_by,
                    since=under_way.started_at,
                    until=under_way.expires_at,
                )
            )
    return problems


def pending_attempt(
    period: ReportingPeriod, sequence: int, now: datetime | None = None
) -> DrawAttempt | None:
    """The attempt that holds this place of the month's chain now (pending, not expired)."""
    return db.session.scalar(
        sa.select(DrawAttempt).where(
            DrawAttempt.period_id == period.id,
            DrawAttempt.sequence == sequence,
            DrawAttempt.state == DrawAttempt.PENDING,
            DrawAttempt.expires_at > (now or utcnow()),
        )
    )


def attempts_of(period: ReportingPeriod) -> list[DrawAttempt]:
    """The month's attempts that did not become draws (pending or failed), newest first."""
    return list(
        db.session.scalars(
            sa.select(DrawAttempt)
            .where(DrawAttempt.period_id == period.id, DrawAttempt.state != DrawAttempt.DONE)
            .order_by(DrawAttempt.id.desc())
        )
    )


def expire_stale(period: ReportingPeriod, actor: audit.Actor, now: datetime | None = None) -> int:
    """Mark the month's attempts pending past their hold failed (``expired``), on the
    record; how many. Called with the month locked (``_lock_month``)."""
    now = now or utcnow()
    stale = db.session.scalars(
        sa.select(DrawAttempt).where(
            DrawAttempt.period_id == period.id,
            DrawAttempt.state == DrawAttempt.PENDING,
            DrawAttempt.expires_at <= now,
        )
    ).all()
    for attempt in stale:
        attempt.state = DrawAttempt.FAILED
        attempt.failure = "expired"
        attempt.failure_detail = "no answer recorded before the reservation expired"
        attempt.finished_at = now
        audit.record(
            "draw.attempt_expired",
            attempt,
            {"period": period.key, "draw": attempt.draw_id, "started_by": attempt.started_by},
            actor=actor,
        )
    return len(stale)


def may_draw_locally(actor: audit.Actor | None) -> bool:
    """Whether ``actor`` may choose the local fallback: an active administrator's account."""
    user = getattr(actor, "user", None)
    return getattr(user, "role", None) in ADMIN and bool(getattr(user, "active", False))


def fallback_refusals(actor: audit.Actor | None, fallback: bool) -> list[DrawRefused]:
    """Drawing locally instead of on random.org is an administrator's choice only."""
    if fallback and not may_draw_locally(actor):
        return [DrawRefused("fallback-admin-only")]
    return []


def is_late(period: ReportingPeriod, now: datetime) -> bool:
    """Whether a month's draw made at ``now`` is after rule 5's deadline."""
    return local_today(now) > period.draw_deadline


def conduct(
    pool: Pool,
    *,
    commission: list[Member],
    place: Texts,
    links: Links,
    client: RandomOrgClient | None = None,
    actor=None,
    actor_label: str | None = None,
    late_reason: Texts = NO_TEXT,
    reason: Texts = NO_TEXT,
    fallback_reason: Texts = NO_TEXT,
    expected_sha256: str | None = None,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
    hold: timedelta = RESERVATION_HOLD,
) -> Draw:
    """Make the draw over ``pool`` and store its whole record; commits (see the module's
    docstring: reserve and commit, ask random.org, record and commit).

    ``client`` asks random.org (it may be None only with a ``fallback_reason``); ``links``
    gives the public record's address that the protocol prints. ``place`` and the reasons
    are ``Texts``: one text per language of the campaign. ``hold`` bounds the reservation.

    Raises ``DrawRefused`` when the draw may not be made (nothing is stored; when found
    only at recording, the attempt is kept failed), among others ``not-announced``,
    ``announcement-spent``, ``not-the-announced-pool`` and ``announcement-wait`` (see
    ``announcement_refusal``), ``draw-in-progress``
    while another attempt holds the month's place; and ``RandomOrgError`` when random.org
    gave no valid signed answer (no draw is stored, the attempt is kept failed).
    """
    if client is None and not written(fallback_reason):
        raise ValueError("a draw on random.org needs a random.org client")
    now = now or utcnow()
    request = DrawRequest(
        commission=commission,
        place=texts(place),
        actor=audit.as_actor(actor, actor_label),
        late_reason=texts(late_reason),
        reason=texts(reason),
        fallback_reason=texts(fallback_reason),
        now=now,
    )
    progress = progress or (lambda step: None)
    if client is not None and not request.fallback:
        # random.org's answer, then the key's answer before it fetched for the ledger
        hold = max(hold, 2 * longest_wait(client) + timedelta(minutes=1))
    try:
        reservation = reserve(pool, request, expected_sha256=expected_sha256, hold=hold)
    except sa.exc.IntegrityError:  # another attempt took the place at the same moment
        db.session.rollback()
        raise DrawRefused("draw-in-progress", month=pool.period.key) from None
    except BaseException:
        db.session.rollback()
        raise
    # no transaction is open from here until the answer is recorded
    asked = None if request.fallback else client  # the fallback draws locally
    try:
        numbers, result = _numbers(pool, reservation, asked, progress)
    except RandomOrgError as error:
        # a signed answer that is not what was asked is still one of the key's: kept
        _keep_answer(error.signed, reservation)
        answered = error.code in ANSWERED_ERRORS or error.signed is not None
        _fail(reservation, error.code, error.detail, request.actor, answered=answered)
        if error.signed is not None:
            _sync_ledger(client, error.signed.serial_number)
        elif error.code in LOST_ON_THE_WAY:  # random.org may have answered: it keeps it
            _sync_ledger(client, None, beyond=True)
        raise
    except BaseException as error:
        # random.org may have answered before it: the announcement is spent to be sure
        _fail(reservation, "internal", type(error).__name__, request.actor, answered=bool(asked))
        raise
    if result is not None:
        # on the ledger before anything is made of it, in its own transaction: whatever
        # happens to the draw now, the answer stays on the record
        try:
            _keep_answer(result.answer, reservation, strict=True)
        except BaseException as error:
            _fail(reservation, "internal", type(error).__name__, request.actor, result)
            raise
        # the key's answer just before this one, which the draw's ledger check needs
        _fetch_previous(client, result.answer)
    try:
        draw = _record(pool, reservation, request, numbers, result, client, links, progress)
        # verified once, as it is recorded: its pages show this verdict, never verifying again
        store_verdict(draw, verify(draw), by=DRAW_ITSELF)
        db.session.commit()
    except DrawRefused as refusal:
        db.session.rollback()
        _fail(reservation, refusal.code, "", request.actor, result)
        raise
    except sa.exc.IntegrityError:
        db.session.rollback()
        _fail(reservation, "already-drawn", "", request.actor, result)
        raise DrawRefused("already-drawn", month=reservation.period_key) from None
    except BaseException as error:
        db.session.rollback()
        _fail(reservation, "internal", type(error).__name__, request.actor, result)
        raise
    finally:
        if result is not None:  # every serial of the key up to this answer, on the ledger
            _sync_ledger(client, result.serial_number)
    return draw


def _keep_answer(
    answer: SignedAnswer | None, reservation: Reservation, *, strict: bool = False
) -> None:
    """Keep random.org's signed answer to this attempt on the ledger; commits. Outside
    ``strict``, a failure to keep it is logged (the sync fetches it later)."""
    if answer is None:
        return
    try:
        db.session.rollback()  # no transaction of the caller's is open here
        ledger.keep(
            answer,
            RandomAnswer.ASKED,
            attempt_id=reservation.attempt_id,
            draw_id=reservation.draw_id,
        )
    except Exception:
        db.session.rollback()
        if strict:
            raise
        log.exception("random.org serial %s not kept on the ledger", answer.serial_number)


def _fetch_previous(client: RandomOrgClient, answer: SignedAnswer) -> None:
    """Fetch the key's answer before ``answer`` when the ledger lacks it; never raises."""
    try:
        ledger.fetch_previous(client, answer)
    except Exception:
        db.session.rollback()
        log.exception("random.org serial %s not fetched", answer.serial_number - 1)


# random.org errors after which an answer may exist that never reached the portal whole
LOST_ON_THE_WAY = ("timeout", "bad-signature", "malformed")


def _sync_ledger(client: RandomOrgClient | None, serial: int | None, beyond: bool = False) -> None:
    """After a random.org answer: the key's serials up to it fetched onto the ledger
    (``ledger.sync``; with ``beyond``, those past the highest held too), outside any
    transaction; never raises."""
    if client is None:
        return
    try:
        db.session.rollback()
        report = ledger.sync(client, upto=serial, beyond=beyond)
    except Exception:
        db.session.rollback()
        log.exception("random.org ledger not synchronised after serial %s", serial)
        return
    if report.missing:
        log.warning("random.org serials not given back: %s", report.missing)


def longest_wait(client: RandomOrgClient) -> timedelta:
    """The longest ``client`` may take to answer: every try's connect and read timeouts,
    and the backoffs between them (a reservation is held at least that long)."""
    connect, read = client.timeout
    tries = client.retries + 1
    backoffs = client.backoff * (2**client.retries - 1)
    return timedelta(seconds=(connect + read) * tries + backoffs)


@dataclass(frozen=True)
class DrawRequest:
    """What the commission asked for, its texts in every language."""

    commission: list[Member]
    place: dict[str, str]
    actor: audit.Actor
    late_reason: dict[str, str]
    reason: dict[str, str]
    fallback_reason: dict[str, str]
    now: datetime

    @property
    def fallback(self) -> bool:
        return written(self.fallback_reason)


@dataclass(frozen=True)
class Reservation:
    """A committed reservation, as plain values: nothing here loads from the database."""

    attempt_id: int
    draw_id: int
    period_key: str
    late: bool
    prizes_drawn: int
    slots: tuple[Slot, ...] = ()  # what each number goes to (``slots_for``), in order
    announcement_id: int | None = None  # the pool's announcement the draw is made under


def _lock_month(period: ReportingPeriod) -> None:
    """Serialise the month's draws: a write that changes nothing, first in the transaction.

    PostgreSQL: the month's row stays locked until the transaction ends. SQLite: the
    transaction starts here with BEGIN IMMEDIATE, the database's one write lock
    (``models.base.tune_sqlite``), so what is read next is the latest.
    """
    table = ReportingPeriod.__table__
    # not the key: a FOR NO KEY UPDATE lock, which rows referring to the month (an
    # import's) do not wait for, nor it for them
    db.session.execute(
        sa.update(table).where(table.c.id == period.id).values(draw_deadline=table.c.draw_deadline)
    )


def _next_draw_id() -> int:
    """The id the reserved draw will have, never given to another draw or attempt."""
    if db.session.get_bind().dialect.name == "postgresql":
        return db.session.scalar(sa.text("SELECT nextval(pg_get_serial_sequence('draw', 'id'))"))
    # SQLite, under the write lock: past every draw's and every attempt's
    highest = db.session.scalar(sa.select(sa.func.max(Draw.id))) or 0
    reserved = db.session.scalar(sa.select(sa.func.max(DrawAttempt.draw_id))) or 0
    return max(highest, reserved) + 1


def reserve(
    pool: Pool,
    request: DrawRequest,
    *,
    expected_sha256: str | None = None,
    hold: timedelta = RESERVATION_HOLD,
) -> Reservation:
    """Step 1: check that the draw may be made and take its place in the month's chain; commits.

    Raises ``DrawRefused`` (nothing stored) when it may not be made now.
    """
    period, replaces = pool.period, pool.replaces
    _lock_month(period)
    if replaces is not None:
        db.session.refresh(replaces)  # what it was before the lock may have changed
    expire_stale(period, request.actor)
    problems = _problems(pool, request, expected_sha256)
    if problems:
        raise problems[0]
    announcement, refusal = announcement_refusal(pool, request.now)
    if refusal is not None:
        raise refusal
    late = replaces is None and is_late(period, request.now)
    slots = slots_for(period, replaces)  # under the month's lock: as the draw will give them
    started = utcnow()
    attempt = DrawAttempt(
        period_id=period.id,
        sequence=0 if replaces is None else replaces.sequence + 1,
        replaces_id=getattr(replaces, "id", None),
        draw_id=_next_draw_id(),
        state=DrawAttempt.PENDING,
        source=Draw.LOCAL if request.fallback else Draw.RANDOM_ORG,
        pool_size=pool.size,
        pool_sha256=pool.sha256,
        started_at=started,
        started_by_id=getattr(request.actor.user, "id", None),
        started_by=request.actor.name,
        expires_at=started + hold,
    )
    db.session.add(attempt)
    db.session.flush()  # the pending place is taken here, or IntegrityError
    reservation = Reservation(
        attempt_id=attempt.id,
        draw_id=attempt.draw_id,
        period_key=period.key,
        late=late,
        prizes_drawn=min(len(slots), pool.size),
        slots=tuple(slots),
        announcement_id=announcement.id,
    )
    db.session.commit()
    return reservation


def _problems(pool: Pool, request: DrawRequest, expected_sha256: str | None) -> list[DrawRefused]:
    """Why the draw over ``pool`` may not be made as asked (empty when it may)."""
    period, replaces = pool.period, pool.replaces
    problems = refusals(
        period, replaces, request.now, actor=request.actor, fallback=request.fallback
    )
    if problems:
        return problems
    if request.fallback and not complete(request.fallback_reason):
        return [DrawRefused("fallback-reason-required")]
    if replaces is not None and not complete(request.reason):
        return [DrawRefused("redraw-reason-required")]
    minimum = period.campaign.commission_min_members
    if len(request.commission) < minimum or any(
        not (m.name.strip() and m.position_kk.strip() and m.position_ru.strip())
        for m in request.commission
    ):
        return [DrawRefused("commission-too-small", minimum=minimum)]
    if not complete(request.place):
        return [DrawRefused("place-required")]
    late = replaces is None and is_late(period, request.now)
    if late and not complete(request.late_reason):
        return [DrawRefused("late-reason-required", deadline=period.draw_deadline)]
    if expected_sha256 is not None and expected_sha256 != pool.sha256:
        return [DrawRefused("pool-changed")]
    if pool.size == 0:
        return [DrawRefused("empty-pool", month=period.key)]
    return []


def _user_data(pool: Pool, reservation: Reservation) -> dict:
    """What random.org signs with the numbers: the draw, the month, the pool, and the
    prizes the numbers go to (``signed_prizes``)."""
    return user_data(
        reservation.draw_id,
        reservation.period_key,
        pool.sha256,
        pool.size,
        plan_of(reservation.slots),
    )


def user_data(
    draw_id: int, period_key: str, sha256: str, size: int, plan: Sequence[Mapping[str, int]]
) -> dict:
    """A draw's ``userData``; ``plan`` (``plan_of``) signed as ``[[position, count], ...]``."""
    return {
        "draw": draw_id,
        "period": period_key,
        "pool_sha256": sha256,
        "pool_size": size,
        "prizes": signed_prizes(plan),
    }


def signed_prizes(plan: Sequence[Mapping[str, int]]) -> list[list[int]]:
    """The prizes as ``userData`` names them: ``[position, count]`` a run, in order."""
    return [[item["position"], item["count"]] for item in plan]


def _numbers(
    pool: Pool,
    reservation: Reservation,
    client: RandomOrgClient | None,
    progress: Callable[[str], None],
) -> tuple[list[int], SignedResult | None]:
    """Step 2, outside any transaction: the drawn positions, and random.org's signed answer
    (None for a local draw)."""
    n = reservation.prizes_drawn
    if client is None:
        return secrets.SystemRandom().sample(range(1, pool.size + 1), n), None
    progress("random.org")
    result = client.generate_signed_integers(
        n, 1, pool.size, replacement=False, user_data=_user_data(pool, reservation)
    )
    return list(result.data), result


def _fail(
    reservation: Reservation,
    code: str,
    detail: str,
    actor: audit.Actor,
    result: SignedResult | None = None,
    *,
    answered: bool | None = None,
) -> None:
    """Keep the attempt as failed, with its reason, on the record; commits. An attempt
    that is no longer pending (expired meanwhile) is left as it is.

    An attempt that received a signed answer (``result``, or ``answered``) spends the
    announcement it was made under: the pool must be announced again before the next,
    so that no two signed answers ever follow one announcement."""
    answered = result is not None if answered is None else answered
    db.session.rollback()
    table = DrawAttempt.__table__
    now = utcnow()
    changed = db.session.execute(
        sa.update(table)
        .where(table.c.id == reservation.attempt_id, table.c.state == DrawAttempt.PENDING)
        .values(
            state=DrawAttempt.FAILED,
            failure=code[:40],
            failure_detail=detail,
            finished_at=now,
            response_text=result.response_text if result is not None else "",
        )
    ).rowcount
    spent = answered and _spend(reservation.announcement_id, reservation.attempt_id, now)
    if changed:
        audit.record(
            "draw.attempt_failed",
            details={
                "period": reservation.period_key,
                "draw": reservation.draw_id,
                "failure": code,
                "serial_number": result.serial_number if result is not None else None,
                "announcement_spent": reservation.announcement_id if spent else None,
            },
            object_type="DrawAttempt",
            object_id=reservation.attempt_id,
            actor=actor,
        )
    db.session.commit()


def _record(
    pool: Pool,
    reservation: Reservation,
    request: DrawRequest,
    numbers: list[int],
    result: SignedResult | None,
    client: RandomOrgClient | None,
    links: Links,
    progress: Callable[[str], None],
) -> Draw:
    """Step 3: the whole draw, in the transaction the caller commits; the attempt ``done``."""
    period, replaces = pool.period, pool.replaces
    _lock_month(period)
    attempt = db.session.get(DrawAttempt, reservation.attempt_id, populate_existing=True)
    if attempt is None or attempt.state != DrawAttempt.PENDING or attempt.expires_at <= utcnow():
        # lapsed: another attempt may hold the place now, so this answer is not recorded
        raise DrawRefused("attempt-expired", month=reservation.period_key)
    announcement = (
        db.session.get(PoolAnnouncement, reservation.announcement_id, populate_existing=True)
        if reservation.announcement_id is not None
        else None
    )
    if announcement is None or not announcement.is_open:
        raise DrawRefused("not-announced", month=reservation.period_key)
    place, reason, late_reason = request.place, request.reason, request.late_reason
    fallback_reason, actor, now = request.fallback_reason, request.actor, request.now
    late = reservation.late
    draw = Draw(
        id=reservation.draw_id,
        period_id=period.id,
        sequence=attempt.sequence,
        replaces_id=getattr(replaces, "id", None),
        reason_kk=reason["kk"],
        reason_ru=reason["ru"],
        late=late,
        late_reason_kk=late_reason["kk"] if late else "",
        late_reason_ru=late_reason["ru"] if late else "",
        source=Draw.LOCAL if result is None else Draw.RANDOM_ORG,
        fallback_reason_kk=fallback_reason["kk"],
        fallback_reason_ru=fallback_reason["ru"],
        conducted_at=now,
        announced_at=announcement.announced_at,
        conducted_by_id=getattr(actor.user, "id", None),
        conducted_by=actor.name,
        place_kk=place["kk"][:200],
        place_ru=place["ru"][:200],
        commission_json=json.dumps(
            [
                Member(m.name.strip(), m.position_kk.strip(), m.position_ru.strip()).as_json()
                for m in request.commission
            ],
            ensure_ascii=False,
        ),
        pool_size=pool.size,
        pool_sha256=pool.sha256,
        entry_key=pool.entry_key,
        prizes_drawn=reservation.prizes_drawn,
        prize_plan_json=json.dumps(plan_of(reservation.slots)),
    )
    if result is not None:
        draw.request_json = json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "generateSignedIntegers",
                "params": {
                    "apiKey": "(not published)",
                    "n": reservation.prizes_drawn,
                    "min": 1,
                    "max": pool.size,
                    "replacement": False,
                    "base": 10,
                    "userData": _user_data(pool, reservation),
                },
            },
            ensure_ascii=False,
        )
        draw.response_text = result.response_text
        draw.random_json = result.random_text
        draw.signature = result.signature
        draw.public_key_pem = client.public_key_pem
        draw.serial_number = result.serial_number
        draw.completion_time = result.completion_time
    draw.numbers_json = json.dumps(numbers)
    db.session.add(draw)
    db.session.flush()  # the draw's place in the chain is taken here, or IntegrityError
    announcement.state = PoolAnnouncement.DRAWN
    announcement.draw_id = draw.id
    announcement.finished_at = utcnow()

    progress("pool")
    draw_id = draw.id
    copy_rows(
        DrawEntry.__table__,
        ("draw_id", "position", "participant_id"),
        ((draw_id, position, pid) for position, pid in enumerate(pool.participant_ids, start=1)),
    )
    for rank, (position, slot) in enumerate(
        zip(numbers, reservation.slots[: len(numbers)], strict=True), start=1
    ):
        db.session.add(
            DrawWinner(
                draw=draw,
                rank=rank,
                position=position,
                participant_id=pool.participant_ids[position - 1],
                prize_id=slot.prize_id,
                replaces_winner_id=slot.replaces,
            )
        )
    db.session.flush()
    insert_with_bytes(
        DrawFile.__table__,
        {
            "draw_id": draw.id,
            "name": DrawFile.POOL,
            "content": pool.content,
            "sha256": pool.sha256,
            "created_at": utcnow(),
        },
        "content",
    )
    winner_rules.start(draw, now)  # the winners' deadlines run from here (rules 8 and 9)
    progress("protocol")
    winners = winners_of(draw)
    for lang in LANGUAGES:
        pdf = documents.protocol_pdf(
            draw,
            lang,
            record_url=links.draw_record(draw.id, lang),
            winners=winners,
            prizes=plan_prizes(draw),
            local_time=draw.conducted_at.astimezone(CAMPAIGN_TZ),
        )
        db.session.add(
            DrawFile(
                draw_id=draw.id,
                name=protocol_name(lang),
                content=pdf,
                sha256=hashlib.sha256(pdf).hexdigest(),
            )
        )
    attempt.state = DrawAttempt.DONE
    attempt.finished_at = utcnow()
    kept = KeptPool.__table__.c
    db.session.execute(  # the pools shown for this draw: it is made
        sa.delete(KeptPool.__table__).where(kept.period_id == period.id, _same_draw(replaces))
    )
    audit.record(
        "draw.redraw" if replaces is not None else "draw.conduct",
        draw,
        {
            "period": period.key,
            "source": draw.source,
            "pool_size": pool.size,
            "pool_sha256": pool.sha256,
            "numbers": numbers,
            "serial_number": draw.serial_number,
            "replaces": draw.replaces_id,
            "late": late,
        },
        actor=actor,
    )
    return draw


def protocol_name(lang: str) -> str:
    return f"protocol-{lang}.pdf"


def winners_of(draw: Draw) -> list[tuple[DrawWinner, Participant]]:
    return [(w, db.session.get(Participant, w.participant_id)) for w in draw.winners]


def redraw(
    draw: Draw,
    reason: Texts,
    *,
    secret: str | bytes,
    links: Links,
    client: RandomOrgClient | None = None,
    actor=None,
    actor_label: str | None = None,
    commission: list[Member] | None = None,
    place: Texts | None = None,
    fallback_reason: Texts = NO_TEXT,
    now: datetime | None = None,
) -> Draw:
    """A new draw over ``draw``'s pool minus everyone excluded so far, replacing ``draw``.

    The draw replaced stays exactly as it was; the new one names it and the reason (in
    each language). ``secret``, ``links`` and ``client`` are ``prepare``'s and ``conduct``'s.
    """
    pool = announced_pool(draw.period, secret=secret, replaces=draw)
    return conduct(
        pool,
        commission=commission if commission is not None else draw.commission,
        place=place if place is not None else draw_texts(draw, "place"),
        actor=actor,
        actor_label=actor_label,
        reason=reason,
        fallback_reason=fallback_reason,
        client=client,
        links=links,
        now=now,
    )


# --- reading ----------------------------------------------------------------------


def draw_texts(draw: Draw, name: str) -> dict[str, str]:
    """A text the commission wrote for ``draw`` (``place``, ``reason``, ...) in every language."""
    return {lang: draw.tr(name, lang) for lang in LANGUAGES}


def current_draw(period: ReportingPeriod) -> Draw | None:
    """The month's draw that stands (the last of its chain), or None before the draw."""
    query = sa.select(Draw).filter_by(period_id=period.id)
    return db.session.scalar(query.order_by(Draw.sequence.desc(), Draw.id.desc()))


def draws_of(period: ReportingPeriod) -> list[Draw]:
    return list(
        db.session.scalars(sa.select(Draw).filter_by(period_id=period.id).order_by(Draw.id))
    )


def pool_chunks(draw: Draw, own_connection: bool = False) -> Iterator[bytes] | None:
    """The draw's pool file a chunk at a time (a million lines are 87 MB), or None;
    ``own_connection``: read on a connection of its own (``models.base.read_chunks``)."""
    files = DrawFile.__table__.c
    mine = (files.draw_id == draw.id, files.name == DrawFile.POOL)
    return read_chunks(files.content, *mine, own_connection=own_connection)


def draw_file(draw: Draw, name: str) -> DrawFile | None:
    return db.session.scalar(sa.select(DrawFile).filter_by(draw_id=draw.id, name=name))


def entry_of(draw: Draw, participant: Participant) -> tuple[int, str] | None:
    """A participant's position and entry code in a draw's pool, or None if not in it."""
    position = db.session.scalar(
        sa.select(DrawEntry.position).filter_by(draw_id=draw.id, participant_id=participant.id)
    )
    if position is None:
        return None
    return position, entry_code(draw.entry_key, participant.account_number)


@dataclass(frozen=True)
class Entry:
    """A participant in one draw's pool, as its self-check shows it: its position, its
    entry code and, when the draw picked it, where its prize stands."""

    draw: Draw
    position: int
    code: str
    won: winner_rules.Standing | None  # None: not drawn in this draw
    prize: Prize | None = None  # the prize its number took, when drawn


def entries_of(participant: Participant, period: ReportingPeriod) -> list[Entry]:
    """Every draw of the month whose pool held ``participant``, oldest first."""
    found = []
    for draw in draws_of(period):
        entry = entry_of(draw, participant)
        if entry is None:
            continue
        winner = winner_rules.winner_in(draw, participant.id)
        standing = winner_rules.public_standing(winner) if winner is not None else None
        found.append(Entry(draw, *entry, standing, winner.prize if winner is not None else None))
    return found


def record(draw: Draw) -> dict:
    """The machine-readable public record (``record.json``): nothing personal."""
    return {
        "draw": draw.id,
        "campaign": draw.period.campaign.slug,
        "period": draw.period.key,
        # what the numbers go to, in order: the first ``count`` to the first prize, ...
        "prizes": [
            {"position": item["position"], "count": item["count"], **_prize_json(prize)}
            for item, prize in plan_prizes(draw)
        ],
        "conducted_at": draw.conducted_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "source": draw.source,
        **_texts_of(draw, "fallback_reason"),
        "late": draw.late,
        **_texts_of(draw, "late_reason"),
        **_texts_of(draw, "place"),
        "commission": [m.as_json() for m in draw.commission],
        "pool": {
            "size": draw.pool_size,
            "sha256": draw.pool_sha256,
            "file": "pool.csv",
            "announced_at": _utc_text(draw.announced_at),
        },
        "random": json.loads(draw.random_json) if draw.random_json else None,
        "signature": draw.signature or None,
        "public_key_sha256": key_fingerprint(draw.public_key_pem) if draw.public_key_pem else None,
        # the key's signed answer just before the draw's: no other came in between
        "previous_answer": ledger.previous_answer(draw),
        "positions": draw.numbers,
        "winners": [
            {
                "rank": w.rank,
                "position": w.position,
                "account_masked": mask_account(p.account_number),
                "prize": w.prize.position,
            }
            for w, p in winners_of(draw)
        ],
        "replaces": draw.replaces_id,
        "replaced_by": draw.replaced_by.id if draw.replaced_by is not None else None,
        **_texts_of(draw, "reason"),
        # the commission's signatures of the protocol (protocol_signatures): names and
        # the CMS files, never the certificates' IIN
        "signatures": protocol_signatures.record_entries(draw),
    }


def _prize_json(prize: Prize) -> dict:
    return {
        "supplier": prize.supplier,
        "name_kk": prize.name_kk,
        "name_ru": prize.name_ru,
        "nominal_kzt": prize.nominal_kzt,
        "vat_included": prize.vat_included,
    }


def plan_prizes(draw: Draw) -> list[tuple[dict[str, int], Prize]]:
    """``prize_plan(draw)``, each item with its prize: what the protocol and the record list."""
    return [(item, db.session.get(Prize, item["prize"])) for item in prize_plan(draw)]


def _utc_text(moment: datetime | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SSZ``, or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _texts_of(draw: Draw, name: str) -> dict[str, str | None]:
    """``name_kk``, ``name_ru``, ... of the record: the text in each language, or None."""
    return {f"{name}_{lang}": draw.tr(name, lang) or None for lang in LANGUAGES}


# --- verifying ----------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One step of a draw's verification: ``code`` names it, ``ok`` is its outcome."""

    code: str
    ok: bool
    detail: str = ""


def verify(draw: Draw, eds_settings: dict | None = None) -> list[Check]:
    """Re-check a stored draw offline, as an outsider would with its public files.

    The commission's EDS signatures of the protocol are verified again over the stored
    protocol bytes with ``eds_settings`` (the site's, ``eds.settings_from_config``: the
    trust anchors; None: the production ones), as at their acceptance; those on paper are
    listed, not checked (``protocol_signatures.checks``)."""
    checks: list[Check] = []
    plan = prize_plan(draw)
    pool = pool_chunks(draw)  # the file alone, read once: a pool may be a million lines
    digest, lines = "", -1
    if pool is not None:  # hashed and counted a chunk at a time, never whole in memory
        hashed, lines = hashlib.sha256(), -1  # the header is no entry
        for chunk in pool:
            hashed.update(chunk)
            lines += chunk.count(b"\n")  # UTF-8: no other byte is 0x0A
        digest = hashed.hexdigest()
    checks.append(Check("pool-digest", digest == draw.pool_sha256, digest))
    checks.append(Check("pool-size", lines == draw.pool_size, str(lines)))
    if draw.is_local:
        numbers = draw.numbers
        checks.append(Check("local-fallback", False))
    else:
        random = json.loads(draw.random_json or "{}")
        user = random.get("userData") or {}
        signed = user_data(draw.id, draw.period.key, digest, draw.pool_size, plan)
        if not draw.prize_plan_json:  # a draw made before issue 19 signed no prizes
            del signed["prizes"]
        checks.append(Check("user-data", user == signed))
        checks.append(
            Check(
                "request",
                random.get("method") == "generateSignedIntegers"
                and random.get("min") == 1
                and random.get("max") == draw.pool_size
                and random.get("replacement") is False
                and random.get("n") == draw.prizes_drawn,
            )
        )
        checks.append(
            Check(
                "signature",
                verify_signature(draw.random_json, draw.signature, draw.public_key_pem),
            )
        )
        fingerprint = key_fingerprint(draw.public_key_pem) if draw.public_key_pem else ""
        checks.append(Check("random-org-key", is_random_org_key(draw.public_key_pem), fingerprint))
        checks.append(ledger_check(draw, random))
        numbers = random.get("data") or []
    checks.append(
        Check(
            "winners",
            numbers == draw.numbers == [w.position for w in draw.winners]
            and all(_entry_matches(draw, w) for w in draw.winners),
        )
    )
    checks.append(prizes_check(draw, plan))
    for lang in LANGUAGES:
        stored = draw_file(draw, protocol_name(lang))
        ok = stored is not None and hashlib.sha256(stored.content).hexdigest() == stored.sha256
        checks.append(Check("protocol", ok, lang))
    for code, ok, detail in protocol_signatures.checks(draw, eds_settings):
        checks.append(Check(code, ok, detail))
    return checks


def prizes_check(draw: Draw, plan: list[dict[str, int]]) -> Check:
    """The numbers went to the prizes in order (module docstring, 5): each winner's prize
    is its slot's under the draw's plan, and the plan is what the draw was to give: the
    period's prizes in their published order, or, for a redraw, the prizes of the
    winners it replaces, each fallen away (rules 8, 9 and 12)."""
    winners = draw.winners
    taken = [w.prize_id for w in winners]
    ok = taken == expected_prizes(plan, len(winners)) and len(winners) == draw.prizes_drawn
    if draw.replaces_id is None:
        due = plan_of(month_slots(draw.period)) if draw.prize_plan_json else plan
    else:
        replaced = [db.session.get(DrawWinner, w.replaces_winner_id) for w in winners]
        ok = ok and all(
            r is not None and r.prize_id == w.prize_id and winner_rules.fell_away(r)
            for r, w in zip(replaced, winners, strict=True)
        )
        due = plan
    ok = ok and [(i["prize"], i["count"]) for i in plan] == [(i["prize"], i["count"]) for i in due]
    return Check("prizes", ok, " ".join(f"{i['position']}x{i['count']}" for i in plan))


def ledger_check(draw: Draw, random: dict) -> Check:
    """The ledger check (docs/DESIGN.md): the key's answer before the draw's came before
    the pool was announced. "Not applicable" (a draw made before announcements) passes
    without proving anything: its detail says so, and the verdict does not rest on it."""
    found = ledger.check(
        random, ledger.previous_answer(draw), draw.announced_at, draw.public_key_pem
    )
    return Check("ledger", found not in ledger.FAILS, found)


def _entry_matches(draw: Draw, winner: DrawWinner) -> bool:
    return (
        db.session.scalar(
            sa.select(DrawEntry.participant_id).filter_by(draw_id=draw.id, position=winner.position)
        )
        == winner.participant_id
    )


# Said on its own on every page, but not a failure of the record: a draw signed by
# another key (the stand-in's, in the demo and the tests) verifies against that key.
INFORMATIVE = ("random-org-key",)


def verified(checks: list[Check]) -> bool:
    """Whether a draw's record holds together (its ``verdict`` holds), whoever signed it."""
    return verdict(checks).holds


# What a draw's verification comes to, the one verdict the public record, the staff's
# draw page and ``flask draw verify`` all give (``portal.wording.messages.describe_verdict``):
VERDICTS = (
    "verified-random-org",  # holds together, signed by random.org's own key
    "verified-other-key",  # holds together, but signed by another key: proves nothing
    "local-fallback",  # drawn locally: no signed randomness, nothing to verify
    "broken",  # the record does not hold together
)


@dataclass(frozen=True)
class Verdict:
    """What a draw's checks come to; ``key_sha256`` is the signing key's fingerprint."""

    code: str  # one of VERDICTS
    key_sha256: str = ""

    @property
    def proven(self) -> bool:
        """Only random.org's own signature proves the numbers were not chosen."""
        return self.code == "verified-random-org"

    @property
    def holds(self) -> bool:
        """The record holds together (``flask draw verify`` exits 0), whoever signed it."""
        return self.code in ("verified-random-org", "verified-other-key")


def verdict(checks: list[Check]) -> Verdict:
    """The verdict on a draw from its checks (``verify``), the signing key included."""
    key = next((c for c in checks if c.code == "random-org-key"), None)
    fingerprint = key.detail if key is not None else ""
    failed = {c.code for c in checks if not c.ok and c.code not in INFORMATIVE}
    if failed - {"local-fallback"}:
        return Verdict("broken", fingerprint)
    if "local-fallback" in failed:
        return Verdict("local-fallback")
    if key is not None and key.ok:
        return Verdict("verified-random-org", fingerprint)
    return Verdict("verified-other-key", fingerprint)


# --- the stored verdict -------------------------------------------------------------

# Who verified a draw, when no one of the staff did (``wording.history.actor_name``):
DRAW_ITSELF = "draw"  # as the draw was recorded, in its own transaction
FIRST_VIEW = "first-view"  # a draw stored before verdicts were kept, at its record's first view


def store_verdict(
    draw: Draw, checks: list[Check], *, by: str, now: datetime | None = None
) -> tuple[DrawVerdict, Verdict | None]:
    """Keep ``checks``' verdict as ``draw``'s (replacing the one kept), in the caller's
    transaction; the row kept and the verdict it replaced (None when there was none)."""
    found = verdict(checks)
    row = db.session.get(DrawVerdict, draw.id)
    previous = stored_as_verdict(row) if row is not None else None
    if row is None:
        row = DrawVerdict(draw_id=draw.id)
        db.session.add(row)
    row.code = found.code
    row.key_sha256 = found.key_sha256
    row.checks_json = json.dumps(
        [{"code": c.code, "ok": c.ok, "detail": c.detail} for c in checks], ensure_ascii=False
    )
    row.verified_at = now or utcnow()
    row.verified_by = by[:254]
    db.session.flush()
    return row, previous


def stored_as_verdict(row: DrawVerdict) -> Verdict:
    return Verdict(row.code, row.key_sha256)


def stored_checks(row: DrawVerdict) -> list[Check]:
    return [
        Check(c["code"], bool(c["ok"]), c.get("detail", "")) for c in json.loads(row.checks_json)
    ]


def stored_verdict(
    draw: Draw, by: str = FIRST_VIEW, eds_settings: dict | None = None
) -> DrawVerdict:
    """The verdict kept for ``draw``: what its pages show, read without touching its files.

    A draw stored before verdicts were kept (or whose verdict was lost) is verified here
    once, under its month's lock so that simultaneous first views verify it once, and
    its verdict kept; commits then.
    """
    row = db.session.get(DrawVerdict, draw.id)
    if row is not None:
        return row
    draw_id = draw.id
    _lock_month(draw.period)
    row = db.session.get(DrawVerdict, draw_id, populate_existing=True)
    if row is None:  # nobody verified it while this view waited for the lock
        row, _ = store_verdict(draw, verify(draw, eds_settings), by=by)
    db.session.commit()
    return db.session.get(DrawVerdict, draw_id)


@dataclass(frozen=True)
class Reverification:
    """A draw verified again on demand: its checks now, the verdict now and the one kept before."""

    checks: list[Check]
    verdict: Verdict
    previous: Verdict | None
    stored: DrawVerdict

    @property
    def changed(self) -> bool:
        """The new verdict disagrees with the one kept: something of the record changed."""
        return self.previous is not None and self.previous != self.verdict


def reverify_for_the_ledger(actor: audit.Actor, eds_settings: dict | None = None) -> list[int]:
    """Verify again each draw whose kept verdict lacked the key's answer before its own
    (``no-previous-answer``: random.org out of reach at the draw, say) once the ledger
    holds that answer, so that its verdict says what the ledger now shows; the draws'
    ids. After every sync of the ledger. The caller commits."""
    found = []
    for row in db.session.scalars(sa.select(DrawVerdict).order_by(DrawVerdict.draw_id)):
        waiting = any(
            c.code == "ledger" and c.detail == "no-previous-answer" for c in stored_checks(row)
        )
        draw = db.session.get(Draw, row.draw_id) if waiting else None
        if draw is None or ledger.previous_answer(draw) is None:
            continue
        reverify(draw, actor, eds_settings=eds_settings)
        found.append(draw.id)
    return found


def reverify(
    draw: Draw,
    actor: audit.Actor,
    now: datetime | None = None,
    eds_settings: dict | None = None,
) -> Reverification:
    """Verify ``draw`` again from its stored files and keep the new verdict and time, on the
    audit trail (``draw.verify``; a verdict that differs from the one kept is said there
    loudly, ``changed``); in the caller's transaction, which commits."""
    checks = verify(draw, eds_settings)
    row, previous = store_verdict(draw, checks, by=actor.name or "cli", now=now)
    found = stored_as_verdict(row)
    result = Reverification(checks, found, previous, row)
    audit.record(
        "draw.verify",
        draw,
        {
            "verdict": found.code,
            "previous": previous.code if previous is not None else None,
            "changed": result.changed,
            "failed": [c.code for c in checks if not c.ok and c.code not in INFORMATIVE],
        },
        actor=actor,
    )
    return result


def verify_missing(by: str = "cli", eds_settings: dict | None = None) -> list[int]:
    """Verify, once, every draw with no verdict kept (stored before verdicts were), keeping
    each verdict as its record's first view would; commits after each; their ids."""
    missing = db.session.scalars(
        sa.select(Draw.id)
        .outerjoin(DrawVerdict, DrawVerdict.draw_id == Draw.id)
        .where(DrawVerdict.draw_id.is_(None))
        .order_by(Draw.id)
    ).all()
    for draw_id in missing:
        stored_verdict(db.session.get(Draw, draw_id), by=by, eds_settings=eds_settings)
    return list(missing)
