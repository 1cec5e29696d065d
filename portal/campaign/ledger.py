"""The ledger: every signed random.org answer of the portal's key, and the run of its serials.

random.org numbers a key's signed answers (``serialNumber``, with the key's
``hashedApiKey`` in every signed ``random``) and keeps each for at least a year, to be
fetched again by its number (``getResult``). The portal:

1. keeps every signed answer its client receives (``asked``), in a transaction of its
   own, before anything is made of it: whether the draw is then recorded, refused or
   fails, the answer stays on the record (``keep``);
2. after each answer, outside any transaction, fetches with ``getResult`` every serial
   of the key it does not hold between the lowest it holds (or 1) and the new one, and
   the serial just before each draw's (``sync``); what it fetches is ``fetched``: not
   received by the portal as an answer. ``flask draw ledger`` and the hourly job do the
   same and also look past the highest serial held, so that a call made behind the
   portal's back after its last draw shows before the next one;
3. publishes, per key, the whole run of serials from the lowest held to the highest,
   each with its use (``runs``): a draw, a failed attempt, "not asked by the portal",
   or missing (a serial random.org would not give back);
4. checks for each draw that the key's answer just before the draw's own came before
   the pool was announced (``check``; docs/DESIGN.md, "The ledger check"): no other
   answer of the key lies between the announcement and the draw.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from portal.models import Draw, DrawAttempt, RandomAnswer, db
from portal.services.randomorg import (
    RandomOrgClient,
    RandomOrgError,
    SignedAnswer,
    canonical_random,
    verify_signature,
)

log = logging.getLogger(__name__)

# the uses of a serial, as /<lang>/draws and ledger.json name them
DRAW, ATTEMPT, NOT_ASKED, MISSING = "draw", "attempt", "not-asked", "missing"
USES = (DRAW, ATTEMPT, NOT_ASKED, MISSING)
# a run fetches at most this many serials (the next run goes on)
MAX_FETCHES = 500
# random.org errors after which asking again in the same run is pointless
_GIVE_UP = ("no-key", "offline", "timeout", "key-unknown", "key-not-running", "key-not-permitted")
_COMPLETION = re.compile(r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)?Z")


# --- keeping answers ---------------------------------------------------------------


def keep(
    answer: SignedAnswer,
    how: str,
    *,
    attempt_id: int | None = None,
    draw_id: int | None = None,
) -> RandomAnswer:
    """Store a signed answer on the ledger, in a transaction of its own; commits.

    Call it with no transaction open (the caller's pending changes would be committed
    with it). An answer already held for its key and serial is left as it is (and said
    in the log when it differs: random.org never numbers two answers alike).
    """
    key = (answer.hashed_api_key, answer.serial_number)
    held = _held(*key)
    if held is not None:
        if held.random_json != answer.random_text:
            log.error("random.org serial %s: another answer is already held", answer.serial_number)
        db.session.commit()
        return held
    user_data = answer.user_data
    row = RandomAnswer(
        hashed_api_key=answer.hashed_api_key,
        serial_number=answer.serial_number,
        completion_time=answer.completion_time,
        random_json=answer.random_text,
        signature=answer.signature,
        user_data_json=json.dumps(user_data, ensure_ascii=False) if user_data is not None else None,
        how=how,
        attempt_id=attempt_id,
        draw_id=draw_id,
    )
    db.session.add(row)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # kept at the same moment by another process
        db.session.rollback()
        row = _held(*key)
        db.session.commit()
    return row


def _held(hashed_api_key: str, serial: int) -> RandomAnswer | None:
    return db.session.scalar(
        sa.select(RandomAnswer).filter_by(hashed_api_key=hashed_api_key, serial_number=serial)
    )


def attempt_for(user_data: object) -> DrawAttempt | None:
    """The portal's draw attempt a signed ``userData`` names exactly (draw, month, pool),
    if any: an answer random.org made for the portal that never reached it (a timeout)."""
    if not isinstance(user_data, dict) or not isinstance(user_data.get("draw"), int):
        return None
    attempt = db.session.scalar(sa.select(DrawAttempt).filter_by(draw_id=user_data["draw"]))
    if attempt is None:
        return None
    same = (
        user_data.get("period") == attempt.period.key
        and user_data.get("pool_sha256") == attempt.pool_sha256
        and user_data.get("pool_size") == attempt.pool_size
    )
    return attempt if same else None


def backfill() -> list[int]:
    """Put on the ledger the answers the portal received before it kept one (a database
    from before migration 0025): each random.org draw's, and each attempt's answer as
    received (``draw_attempt.response_text``), as ``asked``; commits each. Their serials."""
    found: list[tuple[SignedAnswer, int | None, int | None]] = []
    attempts = {
        a.draw_id: a
        for a in db.session.scalars(
            sa.select(DrawAttempt).where(DrawAttempt.source == Draw.RANDOM_ORG)
        )
    }
    rows = db.session.execute(
        sa.select(Draw.id, Draw.random_json, Draw.signature).where(
            Draw.source == Draw.RANDOM_ORG, Draw.random_json != ""
        )
    )
    for draw_id, random_json, signature in rows:
        answer = _answer_of(_loads(random_json), signature)
        if answer is not None:
            attempt = attempts.get(draw_id)
            found.append((answer, attempt.id if attempt is not None else None, draw_id))
    for attempt in attempts.values():
        if not attempt.response_text:
            continue
        result = _loads(attempt.response_text).get("result")
        if isinstance(result, dict):
            answer = _answer_of(result.get("random"), result.get("signature"))
            if answer is not None:
                found.append((answer, attempt.id, attempt.draw_id))
    missing = [
        item for item in found if _held(item[0].hashed_api_key, item[0].serial_number) is None
    ]
    db.session.rollback()
    kept = []
    for answer, attempt_id, draw_id in missing:
        keep(answer, RandomAnswer.ASKED, attempt_id=attempt_id, draw_id=draw_id)
        kept.append(answer.serial_number)
    return kept


def _loads(text: str) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _answer_of(random: object, signature: object) -> SignedAnswer | None:
    """A stored signed answer (as received and checked then) as the ledger keeps it."""
    if not isinstance(random, dict) or not isinstance(signature, str) or not signature:
        return None
    serial, hashed = random.get("serialNumber"), random.get("hashedApiKey")
    completed = random.get("completionTime")
    if not isinstance(serial, int) or not isinstance(hashed, str) or not isinstance(completed, str):
        return None
    return SignedAnswer(
        random_text=canonical_random(random),
        random=random,
        signature=signature,
        serial_number=serial,
        completion_time=completed,
        hashed_api_key=hashed,
    )


# --- fetching what the portal does not hold ----------------------------------------


@dataclass
class SyncReport:
    """What one ``sync`` did: the serials fetched, and those random.org did not give."""

    hashed_api_key: str | None = None
    fetched: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    error: str = ""  # the random.org error that stopped the run early, if one did


def _serials_held(hashed_api_key: str) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(RandomAnswer.serial_number).filter_by(hashed_api_key=hashed_api_key)
        )
    )


def _draw_serials(hashed_api_key: str) -> dict[int, int]:
    """The key's serial numbers that are draws', with each draw's id."""
    rows = db.session.execute(
        sa.select(Draw.id, Draw.serial_number, Draw.random_json).where(
            Draw.source == Draw.RANDOM_ORG, Draw.serial_number.is_not(None)
        )
    )
    found = {}
    for draw_id, serial, random_json in rows:
        if _hashed_key_of(random_json) == hashed_api_key:
            found[serial] = draw_id
    return found


def _hashed_key_of(random_json: str) -> str | None:
    try:
        random = json.loads(random_json or "{}")
    except ValueError:
        return None
    return random.get("hashedApiKey") if isinstance(random, dict) else None


def highest_serial(hashed_api_key: str | None) -> int:
    """The highest serial of the key the ledger holds (0: none)."""
    if not hashed_api_key:
        return 0
    return max(_serials_held(hashed_api_key), default=0)


def wanted(hashed_api_key: str, upto: int | None = None) -> list[int]:
    """The serials of the key the portal should hold and does not: every one between the
    lowest held (or 1) and the highest held (or ``upto``), and each draw's previous one."""
    held = _serials_held(hashed_api_key)
    tops = [*held, *([upto] if upto is not None else [])]
    if not tops:
        return []
    low = min(held) if held else 1
    want = {s for s in range(low, max(tops) + 1) if s not in held}
    want |= {s - 1 for s in _draw_serials(hashed_api_key) if s > 1 and s - 1 not in held}
    return sorted(want)


def sync(client: RandomOrgClient, *, upto: int | None = None, beyond: bool = False) -> SyncReport:
    """Fetch with ``getResult`` the key's serials the portal does not hold (``wanted``) and
    keep each as ``fetched``; with ``beyond``, also the serials past the highest held,
    one after another until random.org has no more. Each answer in its own transaction;
    no transaction is open while random.org is asked. Never raises for random.org's
    trouble: the serials it did not give stay missing (``SyncReport``).
    """
    report = SyncReport(client.hashed_api_key)
    hashed = client.hashed_api_key
    if hashed is None:
        report.error = "no-key"
        return report
    backfill()  # what the portal received before it kept answers: no need to fetch it
    todo = wanted(hashed, upto)
    held = _serials_held(hashed)
    db.session.rollback()  # the reads are done: nothing waits on the network in a transaction
    for serial in todo[:MAX_FETCHES]:
        if not _fetch(client, serial, report):
            break
    else:
        if beyond and not report.error:
            # past the highest serial held (from 1 when none is): until random.org has no more
            serial = max([0, *held, *report.fetched, *([upto] if upto else [])]) + 1
            while len(report.fetched) < MAX_FETCHES and _fetch(client, serial, report, probe=True):
                serial += 1
    return report


def fetch_previous(client: RandomOrgClient, answer: SignedAnswer) -> SyncReport:
    """Fetch the key's answer just before ``answer`` when the ledger lacks it (what the
    draw's ledger check needs), outside any transaction; one ``getResult`` at most."""
    report = SyncReport(answer.hashed_api_key)
    serial = answer.serial_number - 1
    if serial < 1 or answer.hashed_api_key != client.hashed_api_key:
        return report
    held = _held(answer.hashed_api_key, serial) is not None
    db.session.rollback()
    if not held:
        _fetch(client, serial, report)
    return report


def _fetch(client: RandomOrgClient, serial: int, report: SyncReport, probe: bool = False) -> bool:
    """Fetch and keep one serial; whether the run may go on."""
    try:
        answer = client.get_result(serial)
    except RandomOrgError as error:
        if error.code in _GIVE_UP:
            report.error = error.code
            if not probe:
                report.missing.append(serial)
            return False
        if not probe:  # random.org does not give it: missing (a probe past the end stops)
            report.missing.append(serial)
        return not probe
    attempt = attempt_for(answer.user_data)
    keep(
        answer,
        RandomAnswer.FETCHED,
        attempt_id=attempt.id if attempt is not None else None,
        draw_id=attempt.draw_id if attempt is not None else None,
    )
    report.fetched.append(serial)
    return True


# --- the public run of serials -----------------------------------------------------


@dataclass(frozen=True)
class Serial:
    """One serial number of a key, and what it was used for."""

    serial: int
    use: str  # one of USES
    draw_id: int | None = None  # the draw it was, or the attempt's reserved draw id
    answer: RandomAnswer | None = None

    @property
    def completion_time(self) -> str | None:
        return self.answer.completion_time if self.answer is not None else None

    @property
    def user_data(self) -> dict | None:
        return self.answer.user_data if self.answer is not None else None

    @property
    def flagged(self) -> bool:
        """Shown in red: an answer the portal did not ask for, or a serial missing."""
        return self.use in (NOT_ASKED, MISSING)

    def as_json(self) -> dict:
        """The serial as ``ledger.json`` gives it (docs/DESIGN.md)."""
        answer = self.answer
        return {
            "serial": self.serial,
            "completion_time": self.completion_time,
            "use": self.use,
            "draw": self.draw_id if self.use == DRAW else None,
            "user_data": self.user_data,
            "random": json.loads(answer.random_json) if answer is not None else None,
            "signature": answer.signature if answer is not None else None,
        }


@dataclass(frozen=True)
class KeyRun:
    """A key's run of serials, from the lowest held to the highest, each with its use."""

    hashed_api_key: str
    serials: list[Serial]

    @property
    def flagged(self) -> int:
        return sum(1 for s in self.serials if s.flagged)


def runs() -> list[KeyRun]:
    """Every key's run of serials (the key the portal used first, first)."""
    answers = db.session.scalars(
        sa.select(RandomAnswer).order_by(RandomAnswer.hashed_api_key, RandomAnswer.serial_number)
    ).all()
    by_key: dict[str, dict[int, RandomAnswer]] = {}
    for answer in answers:
        by_key.setdefault(answer.hashed_api_key, {})[answer.serial_number] = answer
    found = []
    for hashed, held in by_key.items():
        draws = _draw_serials(hashed)
        serials = [_use(s, held.get(s), draws) for s in range(min(held), max(held) + 1)]
        first = min(a.received_at for a in held.values())
        found.append((first, KeyRun(hashed, serials)))
    return [run for _, run in sorted(found, key=lambda item: item[0])]


def _use(serial: int, answer: RandomAnswer | None, draws: dict[int, int]) -> Serial:
    if answer is None:
        return Serial(serial, MISSING)
    if serial in draws:
        return Serial(serial, DRAW, draws[serial], answer)
    if answer.how == RandomAnswer.ASKED or answer.attempt_id is not None:
        return Serial(serial, ATTEMPT, answer.draw_id, answer)
    return Serial(serial, NOT_ASKED, None, answer)


def ledger_json(key_runs: Iterable[KeyRun]) -> dict:
    """``/<lang>/draws/ledger.json``: every key's run of serials (nothing personal)."""
    return {
        "keys": [
            {"hashed_api_key": run.hashed_api_key, "serials": [s.as_json() for s in run.serials]}
            for run in key_runs
        ]
    }


# --- the ledger check ----------------------------------------------------------------


def previous_answer(draw: Draw) -> dict | None:
    """The key's signed answer just before the draw's own (``record.json``'s
    ``previous_answer``), or None: a local draw, the key's first answer, or not held."""
    if draw.is_local or not draw.serial_number or draw.serial_number <= 1:
        return None
    hashed = _hashed_key_of(draw.random_json)
    if hashed is None:
        return None
    answer = _held(hashed, draw.serial_number - 1)
    if answer is None:
        return None
    return {
        "serial": answer.serial_number,
        "random": json.loads(answer.random_json),
        "signature": answer.signature,
        "completion_time": answer.completion_time,
    }


# what ``check`` finds: it holds, it does not apply, or why it fails
HOLDS = ("first-answer", "previous-before-announcement")
NOT_APPLICABLE = "not-applicable"
FAILS = (
    "answer-before-announcement",
    "no-previous-answer",
    "other-key",
    "not-consecutive",
    "bad-signature",
    "bad-time",
    "previous-after-announcement",
)


def completion_instant(text: object) -> datetime | None:
    """random.org's ``completionTime`` ("YYYY-MM-DD HH:MM:SSZ", fractions allowed) as a
    UTC instant; None when it is not one."""
    if not isinstance(text, str):
        return None
    match = _COMPLETION.fullmatch(text)
    if match is None:
        return None
    day, clock, fraction = match.groups()
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=UTC)
    except ValueError:
        return None
    if fraction:
        moment = moment.replace(microsecond=int((fraction[1:] + "000000")[:6]))
    return moment


def check(
    random: dict,
    previous: dict | None,
    announced_at: datetime | None,
    public_key_pem: str | bytes,
) -> str:
    """The ledger check of a draw (docs/DESIGN.md, "The ledger check"), from its signed
    ``random``, the key's previous answer (``previous_answer``), the time its pool was
    announced and the key its signatures are checked with: one of ``HOLDS``,
    ``NOT_APPLICABLE`` or ``FAILS``. A pure function: the same for every verifier."""
    serial = random.get("serialNumber")
    if announced_at is None:  # made before pools were announced
        return "first-answer" if serial == 1 else NOT_APPLICABLE
    if announced_at.tzinfo is None:
        announced_at = announced_at.replace(tzinfo=UTC)
    # compared in whole seconds, as random.org dates its answers and the record publishes
    # the announcement (``YYYY-MM-DDTHH:MM:SSZ``): within one second, in order
    announced_at = announced_at.replace(microsecond=0)
    # the draw's own answer came after the announcement: its numbers were not known
    # when the pool was published (an answer asked for before, then announced, would be)
    own = completion_instant(random.get("completionTime"))
    if own is None:
        return "bad-time"
    if own < announced_at:
        return "answer-before-announcement"
    if serial == 1:
        return "first-answer"  # nothing can precede the key's first answer
    if not previous or not isinstance(previous.get("random"), dict):
        return "no-previous-answer"
    before = previous["random"]
    if before.get("hashedApiKey") != random.get("hashedApiKey"):
        return "other-key"
    if not isinstance(serial, int) or before.get("serialNumber") != serial - 1:
        return "not-consecutive"
    signature = previous.get("signature")
    if not isinstance(signature, str) or not verify_signature(
        canonical_random(before), signature, public_key_pem
    ):
        return "bad-signature"
    completed = completion_instant(before.get("completionTime"))
    if completed is None:
        return "bad-time"
    if completed > announced_at:
        return "previous-after-announcement"
    return "previous-before-announcement"
