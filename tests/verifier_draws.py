"""Draws to verify, made of real parts, for the tests of both verifiers (verify.py and the
record page's own check): folders of a draw's files, a REAL random.org result among them,
records with the ledger's fields (``pool.announced_at``, ``previous_answer``) whose
previous answers are real signed answers of the stand-in random.org."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from portal.demo.randomorg_standin import TEST_KEY_FILE, StandIn
from portal.services.randomorg import PINNED_KEY_FILE, RandomOrgClient

ROOT = Path(__file__).resolve().parent.parent
VERIFY = ROOT / "portal" / "verifier" / "verify.py"
REAL = Path(__file__).resolve().parent / "data" / "randomorg"
REAL_RANDOM = (REAL / "2021-08-04-serial-16675.random.json").read_bytes()
REAL_SIGNATURE = (REAL / "2021-08-04-serial-16675.signature.base64").read_text().strip()
RANDOM_ORG_PEM = PINNED_KEY_FILE.read_text(encoding="ascii")
STEPS = ("pool", "user-data", "request", "signature", "key", "winners", "ledger")
OUTCOMES = {"holds": "ok", "FAILED": "failed", "not applicable": "n/a", "another key": "other"}
STEP_LINE = re.compile(r"^\d\. \[([a-z-]+)\] .*: (holds|FAILED|not applicable|another key)$")


def pool_file(size: int, salt: str = "") -> bytes:
    """A pool file as the portal writes it: header, then position, entry code, masked account."""
    lines = ["position,entry_code,account_masked"]
    for position in range(1, size + 1):
        code = hashlib.sha256(f"{salt}{position}".encode()).hexdigest()
        lines.append(f"{position},{code},••••{1000 + position}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def masked(position: int) -> str:
    return f"••••{1000 + position}"


def write_draw(
    folder: Path,
    *,
    record: dict,
    pool: bytes,
    random_bytes: bytes,
    signature: str,
    public_key_pem: str | None = None,
) -> Path:
    """A folder holding a draw's files, as an auditor downloads them."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "record.json").write_text(json.dumps(record, ensure_ascii=False, indent=2))
    (folder / "pool.csv").write_bytes(pool)
    (folder / "random.json").write_bytes(random_bytes)
    (folder / "signature.base64").write_text(signature)
    if public_key_pem:
        (folder / "public-key.pem").write_text(public_key_pem)
    return folder


def record_for(
    draw_id: int, period: str, pool: bytes, size: int, random: dict, signature: str
) -> dict:
    """record.json's fields that the verifiers read, as ``draws.record`` makes them."""
    return {
        "draw": draw_id,
        "period": period,
        "pool": {
            "size": size,
            "sha256": hashlib.sha256(pool).hexdigest(),
            "file": "pool.csv",
        },
        "random": random,
        "signature": signature,
        "positions": random["data"],
        # one prize, as a draw signed before several prizes a month (its userData names
        # none) lists it: every number to the prize at position 1
        "prizes": [{"position": 1, "count": len(random["data"])}],
        "winners": [
            {"rank": rank, "position": p, "account_masked": masked(p), "prize": 1}
            for rank, p in enumerate(random["data"], 1)
        ],
    }


def real_draw(folder: Path) -> Path:
    """A draw whose signed files are a REAL random.org result (serial 16675: five numbers
    in 0..10, no replacement, userData null) over a pool of 10 in which its numbers are
    the winners' positions."""
    random = json.loads(REAL_RANDOM)
    pool = pool_file(10)
    return write_draw(
        folder,
        record=record_for(7, "2022-09", pool, 10, random, REAL_SIGNATURE),
        pool=pool,
        random_bytes=REAL_RANDOM,
        signature=REAL_SIGNATURE,
        public_key_pem=RANDOM_ORG_PEM,
    )


# A signed answer of the stand-in: ``random`` (as received), ``text`` (the signed bytes),
# ``signature``.
Answer = dict


def ask(standin: StandIn, n: int, maximum: int, user_data: dict | None, when) -> Answer:
    """One real signed answer of the stand-in, completed at ``when`` (its clock)."""
    standin.clock = lambda: when
    client = RandomOrgClient(standin.url, standin.api_key, standin.public_key_pem, retries=0)
    result = client.generate_signed_integers(n, 1, maximum, user_data=user_data)
    return {
        "random": result.random,
        "text": result.random_text.encode("utf-8"),
        "signature": result.signature,
    }


def previous_answer(answer: Answer) -> dict:
    """``record.previous_answer`` as the ledger writes it (docs/DESIGN.md, contract)."""
    return {
        "serial": answer["random"]["serialNumber"],
        "random": answer["random"],
        "signature": answer["signature"],
        "completion_time": answer["random"]["completionTime"],
    }


def standin_draw(
    folder: Path, standin: StandIn, when, draw_id: int = 41, size: int = 12, salt: str = ""
) -> tuple[Path, dict, Answer]:
    """A draw signed by the stand-in: its folder, record and signed answer."""
    pool = pool_file(size, salt)
    user = {
        "draw": draw_id,
        "period": "2022-10",
        "pool_sha256": hashlib.sha256(pool).hexdigest(),
        "pool_size": size,
    }
    answer = ask(standin, 1, size, user, when)
    record = record_for(draw_id, "2022-10", pool, size, answer["random"], answer["signature"])
    write_draw(
        folder,
        record=record,
        pool=pool,
        random_bytes=answer["text"],
        signature=answer["signature"],
        public_key_pem=standin.public_key_pem,
    )
    return folder, record, answer


def rewrite_record(folder: Path, change) -> None:
    path = folder / "record.json"
    record = json.loads(path.read_text())
    change(record)
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2))


def changed_pool_byte(pool: bytes, position: int) -> bytes:
    """The pool file with one byte of an entry code changed (the line of ``position``)."""
    lines = pool.split(b"\n")
    line = bytearray(lines[position])
    at = line.index(b",") + 5
    line[at] = ord("0") if line[at] != ord("0") else ord("1")
    lines[position] = bytes(line)
    return b"\n".join(lines)


def changed_signature_byte(signature: str) -> str:
    """The signature with one of its bytes changed, in base64 again."""
    raw = bytearray(base64.b64decode(signature))
    raw[len(raw) // 2] ^= 0x01
    return base64.b64encode(bytes(raw)).decode("ascii")


def run_verify(*args: str | Path) -> tuple[int, dict[str, str], str]:
    """verify.py as an auditor runs it, in English: exit status, each step's outcome
    (``ok``, ``failed``, ``n/a``, ``other``), the whole output."""
    result = subprocess.run(
        [sys.executable, str(VERIFY), "--lang", "en", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    outcomes = {}
    for line in result.stdout.splitlines():
        found = STEP_LINE.match(line)
        if found:
            outcomes[found.group(1)] = OUTCOMES[found.group(2)]
    return result.returncode, outcomes, result.stdout + result.stderr


def standin_certificate() -> str:
    """A self-signed certificate of the stand-in's test key, as random.org publishes its
    key (a PEM certificate): the verifiers take the key out of it."""
    key = serialization.load_pem_private_key(TEST_KEY_FILE.read_bytes(), password=None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stand-in random.org (TEST)")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
