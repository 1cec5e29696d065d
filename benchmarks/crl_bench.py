"""CRL benchmark: a CA's revocation list of a million entries, fetched, checked, looked up.

    .venv/bin/python benchmarks/crl_bench.py [--entries 1000000] [--gost-entries 20000]

When OCSP fails, ``portal.services.eds.crl`` decides from the CA's CRL, which for a
national CA may list very many certificates. An RSA CA's CRL of ``--entries`` entries
(20-byte serials, as NCA's) is served by a real HTTP server on 127.0.0.1 and timed:

- the floor: SHA-256 of its bytes, the least any use of the list costs (reading it once);
- the serial's lookup before (walking asn1crypto's entries, the first version) and after
  (``crl.entry``: cryptography's Rust parser), for a serial the list does not hold;
- the first fetch (download, parse, signature, freshness, written to the cache), and a
  fetch from the cache (its signature known to be checked), and a whole ``crl.check``
  then (full list from the cache, lookup).

Then a GOST 34.10-2015 CA's list of ``--gost-entries`` entries: its signature check
(Streebog-512 in pure Python, ``gostcrypto``), per megabyte. No database is involved.
Prints each time and its ratio to the floor, and the peak memory.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import median_ms, peak_mb

CRL_NUMBER_OID = b"\x55\x1d\x14"  # 2.5.29.20


def tlv(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def utc_time(moment: datetime) -> bytes:
    return tlv(0x17, moment.strftime("%y%m%d%H%M%SZ").encode())


def big_crl(ca, entries: int, *, first_serial: int = 1 << 150) -> bytes:
    """A DER CRL by ``ca`` (tests.eds_pki.Issued) listing ``entries`` serials, written
    directly (asn1crypto would take minutes to build a million entries)."""
    now = datetime.now(UTC).replace(microsecond=0)
    revoked_at = utc_time(now - timedelta(days=30))
    items = []
    for offset in range(entries):
        value = first_serial + offset * 7919
        serial = value.to_bytes(value.bit_length() // 8 + 1, "big")  # minimal DER, positive
        items.append(tlv(0x30, tlv(0x02, serial) + revoked_at))
    from asn1crypto import algos

    algorithm = algos.SignedDigestAlgorithm(ca.key.signature_algorithm).dump()
    extension = tlv(0x30, tlv(0x06, CRL_NUMBER_OID) + tlv(0x04, tlv(0x02, b"\x2a")))
    tbs = tlv(
        0x30,
        tlv(0x02, b"\x01")
        + algorithm
        + ca.cert.subject.dump()
        + utc_time(now - timedelta(hours=1))
        + utc_time(now + timedelta(days=1))
        + tlv(0x30, b"".join(items))
        + tlv(0xA0, tlv(0x30, extension)),
    )
    signature = ca.key.sign(tbs)
    return tlv(0x30, tbs + algorithm + tlv(0x03, b"\x00" + signature))


def walk(certificate_list, serial: int):
    """The first version's lookup: every entry read by asn1crypto."""
    for item in certificate_list["tbs_cert_list"]["revoked_certificates"] or []:
        if item["user_certificate"].native == serial:
            return item
    return None


def once_ms(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--gost-entries", type=int, default=20_000)
    args = parser.parse_args()

    from portal.services.eds import crl
    from tests.eds_pki import CrlServer, Key, issue, name

    rsa_ca = issue(name("BENCH CA (RSA)"), Key.rsa(), ca=True)
    started = time.perf_counter()
    der = big_crl(rsa_ca, args.entries)
    built = time.perf_counter() - started
    size_mb = len(der) / 1e6
    print(f"RSA CRL: {args.entries:,} entries, {size_mb:.1f} MB (built in {built:.1f} s)")
    absent = 12345  # a serial the list does not hold: the lookup's worst case
    certificate_list = crl.load(der)

    floor = median_ms(lambda: hashlib.sha256(der).digest(), 5)
    before = once_ms(lambda: walk(crl.load(der), absent))
    after = median_ms(lambda: crl.entry(crl.load(der), absent), 3)
    assert crl.entry(certificate_list, absent) is None
    assert crl.entry(certificate_list, 1 << 150) is not None
    print(f"floor (SHA-256 of the list)         {floor:10.1f} ms")
    print(f"lookup before (asn1crypto walk)      {before:10.1f} ms  x{before / floor:.1f}")
    print(f"lookup after (crl.entry)             {after:10.1f} ms  x{after / floor:.1f}")

    with tempfile.TemporaryDirectory() as folder, CrlServer() as server:
        server.lists["/big.crl"] = der
        url = server.url_of("/big.crl")
        now = datetime.now(UTC)

        def first() -> None:
            cache = crl.Cache(Path(folder) / f"c{time.perf_counter_ns()}")
            crl.fetch(url, rsa_ca.cert, now, cache=cache, timeout=60)

        cache = crl.Cache(Path(folder) / "warm")
        crl.fetch(url, rsa_ca.cert, now, cache=cache, timeout=60)
        server.gets.clear()
        fetch_first = median_ms(first, 3)
        server.gets.clear()
        fetch_cached = median_ms(
            lambda: crl.fetch(url, rsa_ca.cert, now, cache=cache, timeout=60), 3
        )
        assert server.gets == []  # from the cache
        print(
            f"first fetch (HTTP, parse, signature) {fetch_first:10.1f} ms  x{fetch_first / floor:.1f}"
        )
        print(
            f"fetch from the cache                 {fetch_cached:10.1f} ms  x{fetch_cached / floor:.1f}"
        )
        full = median_ms(
            lambda: crl.entry(crl.fetch(url, rsa_ca.cert, now, cache=cache)[0], absent), 3
        )
        print(f"cached fetch + lookup (a check)      {full:10.1f} ms  x{full / floor:.1f}")

    gost_ca = issue(name("BENCH CA (GOST)"), Key.gost(), ca=True)
    gost_der = big_crl(gost_ca, args.gost_entries)
    gost_list = crl.load(gost_der)
    gost_floor = median_ms(lambda: hashlib.sha256(gost_der).digest(), 5)
    gost_check = once_ms(lambda: crl.verify_list(gost_list, gost_ca.cert, datetime.now(UTC)))
    gost_mb = len(gost_der) / 1e6
    print(
        f"GOST CRL: {args.gost_entries:,} entries, {gost_mb:.2f} MB: signature checked in "
        f"{gost_check:.0f} ms ({gost_check / 1000 / gost_mb:.1f} s a MB), "
        f"x{gost_check / gost_floor:.0f} the floor ({gost_floor:.2f} ms)"
    )
    print(f"peak memory {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
