"""EDS timestamp benchmark: what proving NCA's RFC 3161 timestamp adds to a verification,
and what the trust-anchor check adds to the app's start and to ``/readyz``.

    .venv/bin/python benchmarks/eds_timestamp_bench.py [--repeat 5] [--database-url URL]

The signature is NCA's real Kalkan 2026 one (GOST 34.10-2015 512, pure Python:
``gostcrypto``), verified with its timestamp (the authority's signature over the token
is checked too: one more GOST verification; the link from the authority's certificate to
NCA's CA, checked once, is kept by ``_link_verified``); the floor is the same CMS without
its unsigned attributes (no timestamp). Both after one warm-up call. The anchors' check (reading and dating NCA's four
production CAs) is timed against ``/readyz``'s other checks (the floor: the database's
``SELECT 1``, the storage, the jobs). No database table is read by either: the database
only serves ``/readyz``'s floor.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    add_database_argument,
    database_url,
    dialect,
    make_app,
    median_ms,
    migrated,
    peak_mb,
)
from tests.eds_pki import without_timestamp  # the same CMS, its timestamp taken away

KALKAN = Path(__file__).resolve().parent.parent / "tests" / "data" / "eds" / "kalkan-2026"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    add_database_argument(parser)
    args = parser.parse_args()

    from portal.services import eds
    from portal.services.eds import anchors

    document = (KALKAN / "individual_document.txt").read_bytes()
    stamped = (KALKAN / "individual_detached.der").read_bytes()
    plain = without_timestamp(stamped)
    trust = eds.load_trust_anchors(KALKAN / "anchors") + eds.load_trust_anchors(None)
    with_stamp = eds.verify(document, stamped, trust_anchors=trust)
    without = eds.verify(document, plain, trust_anchors=trust)
    assert with_stamp.ok and with_stamp.signer.proven_time is not None
    assert without.ok and without.signer.proven_time is None

    timed = median_ms(lambda: eds.verify(document, stamped, trust_anchors=trust), args.repeat)
    floor = median_ms(lambda: eds.verify(document, plain, trust_anchors=trust), args.repeat)
    print(f"verify, with NCA's timestamp proven:   {timed:9.1f} ms")
    print(f"verify, no timestamp (floor):          {floor:9.1f} ms")
    print(f"ratio:                                 {timed / floor:9.2f}")

    check = median_ms(lambda: anchors.check(None), max(args.repeat, 20))
    with tempfile.TemporaryDirectory() as workdir:
        url = database_url(args.database_url, Path(workdir))
        app = make_app(url, Path(workdir) / "instance")
        with app.app_context():
            migrated(app)
        client = app.test_client()
        probes = max(args.repeat, 50)
        client.get("/readyz")  # the database's connection opened, the storage's folder made
        checks = app.extensions["portal.readiness"]
        own = checks.pop("eds-anchors")
        ready_floor = median_ms(lambda: client.get("/readyz"), probes)
        checks["eds-anchors"] = own
        ready = median_ms(lambda: client.get("/readyz"), probes)
    print(f"anchors' check (4 production CAs):     {check:9.2f} ms")
    print(f"/readyz with it ({dialect(url)}):{'':<{16 - len(dialect(url))}}{ready:9.2f} ms")
    print(f"/readyz without it (floor):            {ready_floor:9.2f} ms")
    print(f"ratio:                                 {ready / ready_floor:9.2f}")
    print(f"peak memory:                           {peak_mb():9.1f} MB")


if __name__ == "__main__":
    main()
