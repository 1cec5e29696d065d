#!/usr/bin/env python3
"""Check a draw of the Ismet.kz promotion portal yourself, from its public files alone.

    python verify.py https://<site>/<lang>/draws/<id>
    python verify.py FOLDER
    python verify.py --key stand-in.pem https://<site>/<lang>/draws/<id>

Needs Python 3.9 or later and the ``cryptography`` package, nothing else (no part of the
portal). A draw page's address ``…/draws/<id>`` gives its files at ``…/draws/<id>/record.json``,
``pool.csv``, ``random.json`` and ``signature.base64`` (an address of one of those files
is taken for its page). A folder holds the same files, named so or as the page downloads
them (``draw-<id>-pool.csv``, …). The key the signature is checked with is random.org's,
written in this file below, or the PEM given with ``--key`` (a public key or a
certificate); the key the site offers is never trusted.

Each step is printed with its outcome; the exit status is 0 only when every step holds,
1 when one fails, 2 when the draw's files could not be read.

1. pool: the SHA-256 of pool.csv is the record's pool digest, and the file has the
   record's number of entries;
2. userData: the signed result names this draw, its month, the pool digest and size,
   and the prizes (``[[position, count], ...]``, the record's ``prizes`` in order; a draw
   made before several prizes a month signed none, and had one prize);
3. request: n numbers (as many as the record's positions), min 1, max the pool size,
   without replacement, base 10;
4. signature: RSA PKCS#1 v1.5 with SHA-512 over random.json's exact bytes;
5. key: whose key it is (random.org's, or another one, named by its SPKI SHA-256);
6. winners: random.org's numbers are the record's positions, and the line of each
   winner's position in pool.csv holds that winner's masked account;
7. prizes: the numbers go to the record's prizes in their order: the first ``count``
   numbers to the first prize, the next to the second, and so on; each winner's
   ``prize`` (the prize's position) is its number's (a record without ``prizes``, saved
   before they were listed, is not applicable);
8. ledger: the draw's own answer was completed after the pool's announcement
   (``pool.announced_at``: its numbers were not known when the pool was published), and
   the signed random.org answer just before the draw's (``previous_answer``),
   by the same API key, serial number one less, signed by the same key, was completed
   no later than the pool's announcement (``pool.announced_at``): so no answer came
   between the announcement and the draw. A draw whose serial number is 1 has nothing
   before it; a draw without ``pool.announced_at`` (made before announcements) is not
   applicable, neither holding nor failing.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# random.org's signing key (the portal's portal/services/random-org-public-key.pem).
RANDOM_ORG_KEY_PEM = """\
-----BEGIN PUBLIC KEY-----
MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEA7O3HQWLnTzCCj/qwoI4v
j/T9237we74rwcJW2w4SuzIKVlAn5yhaJcaeQpdpmHwmQt3aU8G1ba7n3xl7hdeP
kh+aEkYM3iVOhJZdkCKjzw2x7lUSQInZksgns8R4iGklJPInX6fmBjErt1YrjI8B
5Hqz3koibkqIZgVuZ1QfJogbmsrT64imgiDdeG3XDcOY4yDzS734bNqRUNYha3aD
nwvxrubyMhfWtBl2y6nXKDbeMKJ9NWu723V7L+BGFeEvYMPq8ieRVJ7ycavKeSXE
oi9GvgzCjuy2GBJOXs41O5f07VnqGxci6uqyblEgr0SoNETYFnJsSVkryyTPtO7l
h5jdFg4QmHBUEfzfcWQMkxj4LbDvRHMn5UIrofkA7g+97Wf/IQnZzhlZh+DgIb3j
jXD50GqJsd7cd0ojJZuzGf6BLSZ8g2KZOJ3KtB1u/nZ4HVQUdP6ZNop3mEx7Miar
7wSDjRzGg4ayfxHa8pOtE6o8pe0d7lVu3XTHC9kL5qZ3Xqld6Sx9tJ2ZQ2oDjTPl
PIhYGMLdeEhXmYUrhnDChpOJrWvsb/eh4M38sWUccBQTl9sBvWRkrbSCazlxZA+Y
5KOPEJ3NIR8GjKFNwbd8Bk9Yk3LnbocSp3E82BVD1gi4zRd9MtBhClGc//xi8S5W
rFho8l+sZ+dCq/iuVYLTkGUCAwEAAQ==
-----END PUBLIC KEY-----
"""
# its SPKI SHA-256: `openssl pkey -pubin -in KEY.pem -outform DER | sha256sum`
RANDOM_ORG_KEY_SHA256 = "aaf4b5b58167ce015ed8badb7ad060813642eb695f25fa668339b0760d048ba3"

FILES = ("record.json", "pool.csv", "random.json", "signature.base64")
STEPS = ("pool", "user-data", "request", "signature", "key", "winners", "prizes", "ledger")
OK, FAILED, NOT_APPLICABLE, OTHER_KEY = "ok", "failed", "not-applicable", "other-key"
TIMEOUT = 60  # seconds, for each file fetched

# What is printed, in English, Kazakh and Russian (--lang; an address's /kk/ or /ru/).
TEXTS = {
    "pool": {
        "en": "Pool file: its SHA-256 is the record's pool digest, with the record's number of entries",
        "kk": "Пул файлы: оның SHA-256 мәні жазбадағы пул дайджестіне тең, жолдар саны жазбадағыдай",
        "ru": "Файл пула: его SHA-256 равен дайджесту пула в записи, число строк как в записи",
    },
    "user-data": {
        "en": "userData: the signed result names this draw, its month, the pool digest and size, and the prizes in order",
        "kk": "userData: қол қойылған нәтиже осы ұтыс ойынын, айын, пул дайджесі мен көлемін және жүлделерді ретімен атайды",
        "ru": "userData: подписанный результат называет этот розыгрыш, его месяц, дайджест и размер пула, а также призы по порядку",
    },
    "request": {
        "en": "Request: n numbers, min 1, max the pool size, without replacement",
        "kk": "Сұрау: n сан, min 1, max пул көлеміне тең, қайталаусыз",
        "ru": "Запрос: n чисел, min 1, max равен размеру пула, без повторений",
    },
    "signature": {
        "en": "Signature: RSA PKCS#1 v1.5, SHA-512 over the bytes of random.json",
        "kk": "Қолтаңба: random.json байттары бойынша RSA PKCS#1 v1.5, SHA-512",
        "ru": "Подпись: RSA PKCS#1 v1.5, SHA-512 по байтам random.json",
    },
    "key": {
        "en": "Key: whose key signed it",
        "kk": "Кілт: қолтаңба кімнің кілтімен қойылған",
        "ru": "Ключ: чьим ключом подписано",
    },
    "winners": {
        "en": "Winners: the numbers are the record's positions, each winner on its line of pool.csv",
        "kk": "Жеңімпаздар: сандар жазбадағы позициялар, әр жеңімпаз pool.csv файлының өз жолында",
        "ru": "Победители: числа равны позициям записи, каждый победитель на своей строке pool.csv",
    },
    "prizes": {
        "en": "Prizes: the numbers go to the prizes in the record's order, the first numbers to the first prize, as many as it counts",
        "kk": "Жүлделер: сандар жүлделерге жазбадағы ретпен беріледі, алғашқы сандар бірінші жүлдеге, оның санынша",
        "ru": "Призы: числа достаются призам в порядке записи, первые числа первому призу, сколько его штук",
    },
    "no-prizes": {
        "en": "the record lists no prizes: a record saved before prizes were listed",
        "kk": "жазбада жүлделер тізімі жоқ: жүлделер тізілмей тұрған кезде сақталған жазба",
        "ru": "в записи нет списка призов: запись сохранена до того, как призы стали перечислять",
    },
    "ledger": {
        "en": "Ledger: no other random.org answer between the pool's announcement and the draw",
        "kk": "Тізілім: пул жарияланғаннан ұтыс ойынына дейін random.org-тың басқа жауабы жоқ",
        "ru": "Реестр: между объявлением пула и розыгрышем нет другого ответа random.org",
    },
    OK: {"en": "holds", "kk": "орындалды", "ru": "выполнено"},
    FAILED: {"en": "FAILED", "kk": "ОРЫНДАЛМАДЫ", "ru": "НЕ ВЫПОЛНЕНО"},
    NOT_APPLICABLE: {"en": "not applicable", "kk": "қолданылмайды", "ru": "неприменимо"},
    OTHER_KEY: {"en": "another key", "kk": "басқа кілт", "ru": "другой ключ"},
    "random-org-key": {
        "en": "random.org's key, SPKI SHA-256 {sha}",
        "kk": "random.org кілті, SPKI SHA-256 {sha}",
        "ru": "ключ random.org, SPKI SHA-256 {sha}",
    },
    "not-random-org-key": {
        "en": "NOT random.org's key: SPKI SHA-256 {sha}; such a signature proves nothing about random.org",
        "kk": "Бұл random.org кілті ЕМЕС: SPKI SHA-256 {sha}; мұндай қолтаңба random.org туралы ештеңе дәлелдемейді",
        "ru": "Это НЕ ключ random.org: SPKI SHA-256 {sha}; такая подпись ничего не доказывает о random.org",
    },
    "no-announcement": {
        "en": "the record has no pool.announced_at: a draw made before pools were announced",
        "kk": "жазбада pool.announced_at жоқ: пулдар жарияланбай тұрған кездегі ұтыс ойыны",
        "ru": "в записи нет pool.announced_at: розыгрыш проведён до того, как пулы стали объявлять",
    },
    "first-serial": {
        "en": "serial number 1: the key's first answer, nothing before it",
        "kk": "сериялық нөмір 1: кілттің алғашқы жауабы, одан бұрын ештеңе жоқ",
        "ru": "серийный номер 1: первый ответ ключа, до него ничего нет",
    },
    "no-previous": {
        "en": "the record has no previous_answer for serial {serial}",
        "kk": "жазбада {serial} сериялық нөміріне previous_answer жоқ",
        "ru": "в записи нет previous_answer для серийного номера {serial}",
    },
    "previous-other-api-key": {
        "en": "previous_answer was given to another API key",
        "kk": "previous_answer басқа API кілтіне берілген",
        "ru": "previous_answer выдан другому API-ключу",
    },
    "previous-serial": {
        "en": "previous_answer has serial {got}, not {want}",
        "kk": "previous_answer сериялық нөмірі {got}, ал {want} болуы керек",
        "ru": "у previous_answer серийный номер {got}, а не {want}",
    },
    "previous-signature": {
        "en": "previous_answer's signature does not verify with the key",
        "kk": "previous_answer қолтаңбасы кілтпен расталмайды",
        "ru": "подпись previous_answer не проверяется ключом",
    },
    "previous-later": {
        "en": "serial {serial} was completed at {completed}, after the announcement at {announced}: another answer came between",
        "kk": "{serial} сериялық нөмірі {completed} уақытта, яғни {announced} хабарландырудан кейін алынған: арада басқа жауап болған",
        "ru": "серийный номер {serial} получен в {completed}, после объявления в {announced}: между ними был другой ответ",
    },
    "answer-earlier": {
        "en": "the draw's own answer (serial {serial}) was completed at {completed}, before the announcement at {announced}: its numbers were known before the list was published",
        "kk": "ұтыс ойынының өз жауабы ({serial} сериялық нөмірі) {completed} уақытта, {announced} хабарландыруға дейін алынған: сандар тізім жарияланбай тұрып белгілі болған",
        "ru": "собственный ответ розыгрыша (серийный номер {serial}) получен в {completed}, до объявления в {announced}: числа были известны до публикации списка",
    },
    "previous-in-time": {
        "en": "serial {serial} completed at {completed}, before the announcement at {announced}",
        "kk": "{serial} сериялық нөмірі {completed} уақытта, {announced} хабарландыруға дейін алынған",
        "ru": "серийный номер {serial} получен в {completed}, до объявления в {announced}",
    },
    "bad-time": {
        "en": "a time that cannot be read: {value}",
        "kk": "оқылмайтын уақыт: {value}",
        "ru": "время не читается: {value}",
    },
    "all-hold": {
        "en": "Every step holds.",
        "kk": "Барлық қадам орындалды.",
        "ru": "Все шаги выполнены.",
    },
    "some-fail": {
        "en": "The draw does NOT verify: {steps}.",
        "kk": "Ұтыс ойыны расталмады: {steps}.",
        "ru": "Розыгрыш НЕ подтверждён: {steps}.",
    },
    "unreadable": {
        "en": "The draw's files could not be read: {error}",
        "kk": "Ұтыс ойынының файлдары оқылмады: {error}",
        "ru": "Не удалось прочитать файлы розыгрыша: {error}",
    },
    "from": {"en": "Draw files from", "kk": "Ұтыс ойыны файлдары:", "ru": "Файлы розыгрыша из"},
    "draw": {
        "en": "Draw No. {id}, {period}",
        "kk": "№ {id} ұтыс ойыны, {period}",
        "ru": "Розыгрыш № {id}, {period}",
    },
}
LANGUAGES = ("en", "kk", "ru")


class Unreadable(Exception):
    """A file of the draw is missing or cannot be read."""


# --- the files ---------------------------------------------------------------------


class Source:
    """Where a draw's files are: a page's address or a folder."""

    def __init__(self, where: str):
        self.where = where
        self.url: str | None = None
        self.folder: Path | None = None
        if re.match(r"https?://", where, re.IGNORECASE):
            self.url = page_address(where)
        else:
            self.folder = Path(where)
            if not self.folder.is_dir():
                raise Unreadable(f"{where}: not a folder nor an http(s) address")

    @property
    def language(self) -> str | None:
        """The language of the page's address (``/kk/…``, ``/ru/…``), if any."""
        if self.url is None:
            return None
        parts = urllib.parse.urlsplit(self.url).path.split("/")
        return next((p for p in parts if p in ("kk", "ru")), None)

    def describe(self) -> str:
        return self.url if self.url is not None else str(self.folder)

    def read(self, name: str) -> bytes:
        """The whole file ``name`` (a draw file's usual name)."""
        with self.open(name) as stream:
            return stream.read()

    def open(self, name: str):
        """A binary stream of the file ``name``."""
        if self.url is not None:
            address = f"{self.url}/{name}"
            request = urllib.request.Request(address, headers={"User-Agent": "verify.py"})  # noqa: S310 - http(s) only, checked above
            try:
                return urllib.request.urlopen(request, timeout=TIMEOUT)  # noqa: S310
            except OSError as error:
                raise Unreadable(f"{address}: {error}") from error
        assert self.folder is not None
        candidates = [self.folder / name, *sorted(self.folder.glob(f"draw-*-{name}"))]
        for path in candidates:
            if path.is_file():
                return path.open("rb")
        raise Unreadable(f"{self.folder / name}: no such file")


def page_address(url: str) -> str:
    """The draw page's address, from its own or one of its files': no query, no fragment,
    no trailing slash, no file name."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/")
    last = path.rsplit("/", 1)[-1]
    if last in (*FILES, "public-key.pem", "protocol.pdf"):
        path = path.rsplit("/", 1)[0]
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def load_key(pem: bytes):
    """The public key in a PEM public key or a PEM certificate."""
    if b"-----BEGIN CERTIFICATE-----" in pem:
        return x509.load_pem_x509_certificate(pem).public_key()
    return serialization.load_pem_public_key(pem)


def spki_sha256(key) -> str:
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def signature_holds(data: bytes, signature_b64: object, key) -> bool:
    """Whether ``signature_b64`` is ``key``'s RSA PKCS#1 v1.5 SHA-512 signature of ``data``."""
    if not isinstance(signature_b64, str) or not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        signature = base64.b64decode("".join(signature_b64.split()), validate=True)
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA512())
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def canonical(random: dict) -> bytes:
    """The bytes random.org signs: compact JSON of ``random``, keys in the order received."""
    return json.dumps(random, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z")


def utc_instant(text: object) -> datetime | None:
    """``YYYY-MM-DD HH:MM:SS[.fff]Z`` (random.org) or ``YYYY-MM-DDTHH:MM:SSZ`` as a UTC
    instant (fractions kept to the microsecond); None when it is neither."""
    match = _TIME.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    *fields, fraction = match.groups()
    try:
        moment = datetime(*map(int, fields), tzinfo=timezone.utc)  # noqa: UP017 - Python 3.9
    except ValueError:
        return None
    if fraction:
        moment += timedelta(microseconds=int(fraction[:6].ljust(6, "0")))
    return moment


# --- the steps ---------------------------------------------------------------------


class Draw:
    """A draw's files, read once; the pool file read as a stream."""

    def __init__(self, source: Source):
        self.source = source
        try:
            self.record = json.loads(source.read("record.json").decode("utf-8"))
            self.random_bytes = source.read("random.json")
            self.random = json.loads(self.random_bytes.decode("utf-8"))
            self.signature = source.read("signature.base64").decode("ascii").strip()
        except (UnicodeDecodeError, ValueError) as error:
            raise Unreadable(str(error)) from error
        if not isinstance(self.record, dict) or not isinstance(self.random, dict):
            raise Unreadable("record.json or random.json is not a JSON object")
        self.pool = self.record.get("pool") if isinstance(self.record.get("pool"), dict) else {}
        positions = self.record.get("positions")
        self.positions = positions if isinstance(positions, list) else []
        self._read_pool()

    def _read_pool(self) -> None:
        """The pool file's digest and number of entries, and the lines of the positions
        drawn, in one pass (a pool may be a million lines)."""
        wanted = {p for p in self.positions if isinstance(p, int)}
        wanted |= {p for p in (self.random.get("data") or []) if isinstance(p, int)}
        digest = hashlib.sha256()
        self.lines: dict[int, bytes] = {}
        count = 0
        with self.source.open("pool.csv") as stream:
            for line in stream:
                digest.update(line)
                if count in wanted:  # line N+1 is position N (the header is line 1)
                    self.lines[count] = line.rstrip(b"\n")
                count += 1
        self.pool_sha256 = digest.hexdigest()
        self.pool_entries = count - 1


def check_pool(draw: Draw, key, say) -> tuple[str, str]:
    want, size = draw.pool.get("sha256"), draw.pool.get("size")
    ok = draw.pool_sha256 == want and draw.pool_entries == size
    return (
        OK if ok else FAILED,
        f"pool.csv {draw.pool_sha256}, {draw.pool_entries}; record.json {want}, {size}",
    )


def record_prizes(draw: Draw) -> list | None:
    """The record's ``prizes`` as ``[[position, count], ...]``, or None when it lists none."""
    prizes = draw.record.get("prizes")
    if not isinstance(prizes, list):
        return None
    return [[p.get("position"), p.get("count")] if isinstance(p, dict) else p for p in prizes]


def check_user_data(draw: Draw, key, say) -> tuple[str, str]:
    user = draw.random.get("userData")
    want = {
        "draw": draw.record.get("draw"),
        "period": draw.record.get("period"),
        "pool_sha256": draw.pool.get("sha256"),
        "pool_size": draw.pool.get("size"),
    }
    prizes = record_prizes(draw)
    # several prizes: their order is signed (one prize: signed, or not before issue 19)
    if (isinstance(user, dict) and "prizes" in user) or (prizes is not None and len(prizes) > 1):
        want["prizes"] = prizes
    ok = isinstance(user, dict) and json.dumps(user, sort_keys=True) == json.dumps(
        want, sort_keys=True
    )
    return OK if ok else FAILED, f"userData {json.dumps(user, ensure_ascii=False)}"


def check_request(draw: Draw, key, say) -> tuple[str, str]:
    r = draw.random
    asked = {
        "method": "generateSignedIntegers",
        "n": len(draw.positions),
        "min": 1,
        "max": draw.pool.get("size"),
        "replacement": False,
        "base": 10,
    }
    ok = all(
        json.dumps(r.get(name)) == json.dumps(value) for name, value in asked.items()
    ) and bool(draw.positions)
    got = ", ".join(f"{name} {json.dumps(r.get(name))}" for name in asked)
    return OK if ok else FAILED, got


def check_signature(draw: Draw, key, say) -> tuple[str, str]:
    ok = signature_holds(draw.random_bytes, draw.signature, key)
    return OK if ok else FAILED, f"random.json {hashlib.sha256(draw.random_bytes).hexdigest()}"


def check_key(draw: Draw, key, say) -> tuple[str, str]:
    sha = spki_sha256(key)
    if sha == RANDOM_ORG_KEY_SHA256:
        return OK, say("random-org-key", sha=sha)
    return OTHER_KEY, say("not-random-org-key", sha=sha)


def check_winners(draw: Draw, key, say) -> tuple[str, str]:
    data = draw.random.get("data")
    winners = draw.record.get("winners") if isinstance(draw.record.get("winners"), list) else []
    ok = data == draw.positions and len(winners) == len(draw.positions) and bool(winners)
    found = []
    for rank, winner in enumerate(winners, 1):
        if not isinstance(winner, dict):
            ok = False
            continue
        position = winner.get("position")
        line = draw.lines.get(position, b"") if isinstance(position, int) else b""
        cells = line.decode("utf-8", "replace").split(",")
        ok = (
            ok
            and winner.get("rank") == rank
            and rank <= len(draw.positions)
            and position == draw.positions[rank - 1]
            and len(cells) == 3
            and cells[0] == str(position)
            and cells[2] == winner.get("account_masked")
        )
        found.append(f"{position}: {cells[-1] if line else '-'}")
    return OK if ok else FAILED, f"data {json.dumps(data)}; " + "; ".join(found)


def check_prizes(draw: Draw, key, say) -> tuple[str, str]:
    prizes = record_prizes(draw)
    if prizes is None:
        return NOT_APPLICABLE, say("no-prizes")
    slots = []
    for position, count in prizes:
        if not isinstance(position, int) or not isinstance(count, int) or count < 1:
            return FAILED, f"prizes {json.dumps(prizes)}"
        slots.extend([position] * count)
    winners = draw.record.get("winners") if isinstance(draw.record.get("winners"), list) else []
    taken = [w.get("prize") if isinstance(w, dict) else None for w in winners]
    size = draw.pool.get("size")
    n = min(len(slots), size) if isinstance(size, int) else len(slots)
    ok = bool(taken) and len(taken) == n and taken == slots[: len(taken)]
    found = "; ".join(
        f"{w.get('position')} -> {taken[i]}" for i, w in enumerate(winners) if isinstance(w, dict)
    )
    return OK if ok else FAILED, f"prizes {json.dumps(prizes)}; {found}"


def check_ledger(draw: Draw, key, say) -> tuple[str, str]:
    if "announced_at" not in draw.pool or draw.pool.get("announced_at") is None:
        return NOT_APPLICABLE, say("no-announcement")
    announced = utc_instant(draw.pool["announced_at"])
    if announced is None:
        return FAILED, say("bad-time", value=draw.pool["announced_at"])
    serial = draw.random.get("serialNumber")
    own = utc_instant(draw.random.get("completionTime"))
    if own is None:
        return FAILED, say("bad-time", value=draw.random.get("completionTime"))
    if own < announced:  # its numbers were known before the pool was published
        return FAILED, say(
            "answer-earlier",
            serial=serial,
            completed=draw.random.get("completionTime"),
            announced=draw.pool["announced_at"],
        )
    if serial == 1:
        return OK, say("first-serial")
    previous = draw.record.get("previous_answer")
    if not isinstance(previous, dict) or not isinstance(previous.get("random"), dict):
        return FAILED, say("no-previous", serial=serial)
    earlier = previous["random"]
    if earlier.get("hashedApiKey") != draw.random.get("hashedApiKey"):
        return FAILED, say("previous-other-api-key")
    want = serial - 1 if isinstance(serial, int) else None
    if earlier.get("serialNumber") != want or previous.get("serial", want) != want:
        return FAILED, say("previous-serial", got=earlier.get("serialNumber"), want=want)
    if not signature_holds(canonical(earlier), previous.get("signature"), key):
        return FAILED, say("previous-signature")
    completed = utc_instant(earlier.get("completionTime"))
    if completed is None:
        return FAILED, say("bad-time", value=earlier.get("completionTime"))
    values = {
        "serial": want,
        "completed": earlier.get("completionTime"),
        "announced": draw.pool["announced_at"],
    }
    if completed > announced:
        return FAILED, say("previous-later", **values)
    return OK, say("previous-in-time", **values)


CHECKS = {
    "pool": check_pool,
    "user-data": check_user_data,
    "request": check_request,
    "signature": check_signature,
    "key": check_key,
    "winners": check_winners,
    "prizes": check_prizes,
    "ledger": check_ledger,
}


def verify(draw: Draw, key, lang: str = "en") -> list[tuple[str, str, str]]:
    """Every step: (its code, its outcome, what was found)."""

    def say(code: str, **values) -> str:
        return TEXTS[code][lang].format(**values)

    results = []
    for step in STEPS:
        try:
            outcome, detail = CHECKS[step](draw, key, say)
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            outcome, detail = FAILED, f"{type(error).__name__}: {error}"
        results.append((step, outcome, detail))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Check a draw of the Ismet.kz portal from its public files.",
    )
    parser.add_argument("source", help="the draw page's address, or a folder of its files")
    parser.add_argument(
        "--key",
        metavar="PEM",
        help="check the signature with this key (a PEM public key or certificate) instead of random.org's",
    )
    parser.add_argument("--lang", choices=LANGUAGES, help="the language of the report")
    args = parser.parse_args(argv)

    try:
        key = load_key(Path(args.key).read_bytes() if args.key else RANDOM_ORG_KEY_PEM.encode())
    except (OSError, ValueError) as error:
        print(f"--key {args.key}: {error}", file=sys.stderr)
        return 2
    try:
        source = Source(args.source)
    except Unreadable as error:
        print(TEXTS["unreadable"]["en"].format(error=error), file=sys.stderr)
        return 2
    lang = args.lang or source.language or "en"
    try:
        draw = Draw(source)
    except (Unreadable, OSError) as error:
        print(TEXTS["unreadable"][lang].format(error=error), file=sys.stderr)
        return 2

    print(f"{TEXTS['from'][lang]} {source.describe()}")
    print(TEXTS["draw"][lang].format(id=draw.record.get("draw"), period=draw.record.get("period")))
    results = verify(draw, key, lang)
    for number, (step, outcome, detail) in enumerate(results, 1):
        print(f"{number}. [{step}] {TEXTS[step][lang]}: {TEXTS[outcome][lang]}")
        print(f"   {detail}")
    failed = [step for step, outcome, _ in results if outcome == FAILED]
    if failed:
        print(TEXTS["some-fail"][lang].format(steps=", ".join(failed)))
        return 1
    print(TEXTS["all-hold"][lang])
    return 0


if __name__ == "__main__":
    sys.exit(main())
