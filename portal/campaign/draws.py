"""The monthly draw (rules 5-7), made so that anyone can check it (docs/DESIGN.md, "The draw").

1. The pool: the month's eligible participants (for a redraw: the pool of the month's
   draw minus everyone excluded since), sorted by account number as Python orders
   text, position 1 first.
2. The pool file: ``position,entry_code,account_masked``; the entry code is the HMAC-SHA256
   of the account number under a key made for that draw and never published. Its
   SHA-256 is the pool digest.
3. One signed request to random.org for ``n`` distinct numbers in 1..pool size, whose
   ``userData`` names the draw, the month, the pool digest and the pool size.
4. Number ``i`` is position ``data[i]`` of the pool file.

Everything is stored in the caller's transaction, which the functions here end: a
draw is committed whole, or rolled back whole when anything fails.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import secrets
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from portal.campaign import LANGUAGES, audit
from portal.campaign import winners as winner_rules
from portal.campaign.eligibility import latest_run
from portal.campaign.links import Links
from portal.campaign.periods import CAMPAIGN_TZ, local_today
from portal.campaign.staff import ADMIN
from portal.models import (
    Activity,
    CommissionMember,
    Draw,
    DrawEntry,
    DrawFile,
    DrawWinner,
    Participant,
    Prize,
    ReportingPeriod,
    db,
)
from portal.models.base import insert_rows, utcnow
from portal.models.participants import mask_account
from portal.services import documents
from portal.services.randomorg import (
    RandomOrgClient,
    is_random_org_key,
    key_fingerprint,
    verify_signature,
)

POOL_HEADER = "position,entry_code,account_masked\n"


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
    prize: Prize
    replaces: Draw | None
    nonce: str
    entry_key: bytes
    participant_ids: Sequence[int]  # in pool order: position n is index n - 1
    content: bytes
    sha256: str

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
    prize: Prize | None = None,
    *,
    secret: str | bytes,
    replaces: Draw | None = None,
    nonce: str | None = None,
) -> Pool:
    """Build the pool and its file for the month's next draw (or for the redraw of ``replaces``).

    ``secret`` is the site's secret key, from which each draw's entry key is made.
    """
    if replaces is not None:
        period, prize = replaces.period, replaces.prize
    prize = prize or month_prize(period)
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
        prize=prize,
        replaces=replaces,
        nonce=nonce,
        entry_key=key,
        participant_ids=participant_ids,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def month_prize(period: ReportingPeriod) -> Prize:
    """The prize drawn each month (rule 6: one Chocomart certificate a month)."""
    return period.campaign.prizes[0]


def refusals(
    period: ReportingPeriod,
    prize: Prize,
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
        if current_draw(period, prize) is not None:
            problems.append(DrawRefused("already-drawn", month=period.key))
    elif replaces.replaced_by is not None:
        problems.append(DrawRefused("already-replaced", draw=replaces.id))
    elif not winner_rules.draw_awaits_redraw(replaces):
        # rules 8, 9 and 12: a prize is drawn again only when its winner has fallen away
        problems.append(DrawRefused("winner-standing", draw=replaces.id))
    return problems


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
) -> Draw:
    """Make the draw over ``pool`` and store its whole record; commit, or roll back and raise.

    ``client`` asks random.org (it may be None only with a ``fallback_reason``); ``links``
    gives the public record's address that the protocol prints. ``place`` and the reasons
    are ``Texts``: one text per language of the campaign.

    Raises ``DrawRefused`` when the draw may not be made, and ``RandomOrgError`` when
    random.org gave no valid signed answer; in both cases nothing is stored.
    """
    if client is None and not written(fallback_reason):
        raise ValueError("a draw on random.org needs a random.org client")
    now = now or utcnow()
    try:
        draw = _conduct(
            pool,
            commission=commission,
            place=texts(place),
            actor=audit.as_actor(actor, actor_label),
            late_reason=texts(late_reason),
            reason=texts(reason),
            fallback_reason=texts(fallback_reason),
            expected_sha256=expected_sha256,
            client=client,
            links=links,
            now=now,
            progress=progress or (lambda step: None),
        )
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise DrawRefused("already-drawn", month=pool.period.key) from None
    except BaseException:
        db.session.rollback()
        raise
    return draw


def _conduct(
    pool: Pool,
    *,
    commission: list[Member],
    place: dict[str, str],
    actor: audit.Actor,
    late_reason: dict[str, str],
    reason: dict[str, str],
    fallback_reason: dict[str, str],
    expected_sha256,
    client: RandomOrgClient | None,
    links: Links,
    now,
    progress,
) -> Draw:
    period, prize, replaces = pool.period, pool.prize, pool.replaces
    fallback = written(fallback_reason)
    problems = refusals(period, prize, replaces, now, actor=actor, fallback=fallback)
    if problems:
        raise problems[0]
    if fallback and not complete(fallback_reason):
        raise DrawRefused("fallback-reason-required")
    if replaces is not None and not complete(reason):
        raise DrawRefused("redraw-reason-required")
    minimum = period.campaign.commission_min_members
    if len(commission) < minimum or any(
        not (m.name.strip() and m.position_kk.strip() and m.position_ru.strip()) for m in commission
    ):
        raise DrawRefused("commission-too-small", minimum=minimum)
    if not complete(place):
        raise DrawRefused("place-required")
    late = replaces is None and is_late(period, now)
    if late and not complete(late_reason):
        raise DrawRefused("late-reason-required", deadline=period.draw_deadline)
    if expected_sha256 is not None and expected_sha256 != pool.sha256:
        raise DrawRefused("pool-changed")
    if pool.size == 0:
        raise DrawRefused("empty-pool", month=period.key)

    n = min(prize.count_per_period, pool.size)
    draw = Draw(
        period_id=period.id,
        prize_id=prize.id,
        sequence=0 if replaces is None else replaces.sequence + 1,
        replaces_id=getattr(replaces, "id", None),
        reason_kk=reason["kk"],
        reason_ru=reason["ru"],
        late=late,
        late_reason_kk=late_reason["kk"] if late else "",
        late_reason_ru=late_reason["ru"] if late else "",
        source=Draw.LOCAL if fallback else Draw.RANDOM_ORG,
        fallback_reason_kk=fallback_reason["kk"],
        fallback_reason_ru=fallback_reason["ru"],
        conducted_at=now,
        conducted_by_id=getattr(actor.user, "id", None),
        conducted_by=actor.name,
        place_kk=place["kk"][:200],
        place_ru=place["ru"][:200],
        commission_json=json.dumps(
            [
                Member(m.name.strip(), m.position_kk.strip(), m.position_ru.strip()).as_json()
                for m in commission
            ],
            ensure_ascii=False,
        ),
        pool_size=pool.size,
        pool_sha256=pool.sha256,
        entry_key=pool.entry_key,
        prizes_drawn=n,
    )
    db.session.add(draw)
    db.session.flush()  # the draw's place in the chain is taken here, or IntegrityError

    if fallback:
        numbers = secrets.SystemRandom().sample(range(1, pool.size + 1), n)
    else:
        progress("random.org")
        user_data = {
            "draw": draw.id,
            "period": period.key,
            "pool_sha256": pool.sha256,
            "pool_size": pool.size,
        }
        result = client.generate_signed_integers(
            n, 1, pool.size, replacement=False, user_data=user_data
        )
        numbers = list(result.data)
        draw.request_json = json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "generateSignedIntegers",
                "params": {
                    "apiKey": "(not published)",
                    "n": n,
                    "min": 1,
                    "max": pool.size,
                    "replacement": False,
                    "base": 10,
                    "userData": user_data,
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

    progress("pool")
    insert_rows(
        DrawEntry.__table__,
        ("draw_id", "position", "participant_id"),
        ((draw.id, position, pid) for position, pid in enumerate(pool.participant_ids, start=1)),
    )
    for rank, position in enumerate(numbers, start=1):
        db.session.add(
            DrawWinner(
                draw=draw,
                rank=rank,
                position=position,
                participant_id=pool.participant_ids[position - 1],
            )
        )
    db.session.add(
        DrawFile(draw_id=draw.id, name=DrawFile.POOL, content=pool.content, sha256=pool.sha256)
    )
    db.session.flush()
    winner_rules.start(draw, now)  # the winners' deadlines run from here (rules 8 and 9)
    progress("protocol")
    winners = winners_of(draw)
    for lang in LANGUAGES:
        pdf = documents.protocol_pdf(
            draw,
            lang,
            record_url=links.draw_record(draw.id, lang),
            winners=winners,
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
    pool = prepare(draw.period, draw.prize, secret=secret, replaces=draw)
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


def current_draw(period: ReportingPeriod, prize: Prize | None = None) -> Draw | None:
    """The month's draw that stands (the last of its chain), or None before the draw."""
    query = sa.select(Draw).filter_by(period_id=period.id)
    if prize is not None:
        query = query.filter_by(prize_id=prize.id)
    return db.session.scalar(query.order_by(Draw.sequence.desc(), Draw.id.desc()))


def draws_of(period: ReportingPeriod) -> list[Draw]:
    return list(
        db.session.scalars(sa.select(Draw).filter_by(period_id=period.id).order_by(Draw.id))
    )


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


def entries_of(participant: Participant, period: ReportingPeriod) -> list[Entry]:
    """Every draw of the month whose pool held ``participant``, oldest first."""
    found = []
    for draw in draws_of(period):
        entry = entry_of(draw, participant)
        if entry is None:
            continue
        winner = winner_rules.winner_in(draw, participant.id)
        standing = winner_rules.public_standing(winner) if winner is not None else None
        found.append(Entry(draw, *entry, standing))
    return found


def record(draw: Draw) -> dict:
    """The machine-readable public record (``record.json``): nothing personal."""
    return {
        "draw": draw.id,
        "campaign": draw.period.campaign.slug,
        "period": draw.period.key,
        "prize": {
            "supplier": draw.prize.supplier,
            "name_kk": draw.prize.name_kk,
            "name_ru": draw.prize.name_ru,
            "nominal_kzt": draw.prize.nominal_kzt,
            "vat_included": draw.prize.vat_included,
        },
        "conducted_at": draw.conducted_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "source": draw.source,
        **_texts_of(draw, "fallback_reason"),
        "late": draw.late,
        **_texts_of(draw, "late_reason"),
        **_texts_of(draw, "place"),
        "commission": [m.as_json() for m in draw.commission],
        "pool": {"size": draw.pool_size, "sha256": draw.pool_sha256, "file": "pool.csv"},
        "random": json.loads(draw.random_json) if draw.random_json else None,
        "signature": draw.signature or None,
        "public_key_sha256": key_fingerprint(draw.public_key_pem) if draw.public_key_pem else None,
        "positions": draw.numbers,
        "winners": [
            {
                "rank": w.rank,
                "position": w.position,
                "account_masked": mask_account(p.account_number),
            }
            for w, p in winners_of(draw)
        ],
        "replaces": draw.replaces_id,
        "replaced_by": draw.replaced_by.id if draw.replaced_by is not None else None,
        **_texts_of(draw, "reason"),
    }


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


def verify(draw: Draw) -> list[Check]:
    """Re-check a stored draw offline, as an outsider would with its public files."""
    checks: list[Check] = []
    pool = draw_file(draw, DrawFile.POOL)
    digest = hashlib.sha256(pool.content).hexdigest() if pool else ""
    checks.append(Check("pool-digest", digest == draw.pool_sha256, digest))
    lines = pool.content.decode("utf-8").count("\n") - 1 if pool else -1
    checks.append(Check("pool-size", lines == draw.pool_size, str(lines)))
    if draw.is_local:
        numbers = draw.numbers
        checks.append(Check("local-fallback", False))
    else:
        random = json.loads(draw.random_json or "{}")
        user = random.get("userData") or {}
        checks.append(
            Check(
                "user-data",
                user
                == {
                    "draw": draw.id,
                    "period": draw.period.key,
                    "pool_sha256": digest,
                    "pool_size": draw.pool_size,
                },
            )
        )
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
        numbers = random.get("data") or []
    checks.append(
        Check(
            "winners",
            numbers == draw.numbers == [w.position for w in draw.winners]
            and all(_entry_matches(draw, w) for w in draw.winners),
        )
    )
    for lang in LANGUAGES:
        stored = draw_file(draw, protocol_name(lang))
        ok = stored is not None and hashlib.sha256(stored.content).hexdigest() == stored.sha256
        checks.append(Check("protocol", ok, lang))
    return checks


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
