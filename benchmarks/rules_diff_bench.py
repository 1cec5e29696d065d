"""Rules diff benchmark: the public comparison of two large versions, computed once.

    .venv/bin/python benchmarks/rules_diff_bench.py [--kb 200]

Times the comparison (`portal.campaign.rules.diff_rules`) of texts of `--kb` KB a
language (the bound, `RULES_MAX_BYTES`, by default) made to cost it most: one huge
clause with scattered edits, one huge clause rewritten, many clauses renumbered and
rewritten, many tiny clauses. Then, in a fresh SQLite database (migrated as in
production), publishes the worst pair as versions 2 and 3 and times
`/kk/rules/diff?from=2&to=3`: the first request (computed and kept), the second (read
from `rules_diff`). The floor is the page of version 3 alone (`/kk/rules/v3`), which
every reader may ask for; the ratio is the diff page's time over the floor's.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent


def texts(limit: int) -> dict[str, tuple[str, str]]:
    """Pairs of rules texts of at most ``limit`` bytes, by what makes them costly."""
    from portal.campaign.rules import parse_rules

    base = (ROOT / "portal" / "demo" / "rules" / "v1.kk.md").read_text(encoding="utf-8")
    words = base.split()
    clauses = [c.text for c in parse_rules(base).clauses]

    def fill(make) -> str:
        out, size, i = [], 0, 0
        while True:
            piece = make(i)
            if size + len(piece.encode()) + 2 > limit:
                return "\n\n".join(out)
            out.append(piece)
            size += len(piece.encode()) + 2
            i += 1

    def prose(seed: int, size: int) -> str:
        rng, out, total = random.Random(seed), [], 0
        while total < size - 64:
            word = rng.choice(words)
            out.append(word)
            total += len(word.encode()) + 1
        return " ".join(out)

    one = "1. " + prose(1, limit)
    edited = one.split()
    rng = random.Random(2)
    for _ in range(50):
        edited[rng.randrange(1, len(edited))] = "жаңа"

    def numbered(prefix: str, i: int) -> str:
        return f"{prefix}.{i % 999 + 1}.{i // 999 + 1}."

    return {
        "one clause, 50 words changed": (one, " ".join(edited)),
        "one clause rewritten": (one, "1. " + prose(3, limit)),
        "clauses renumbered and rewritten": (
            fill(lambda i: f"{numbered('9', i)} {clauses[i % len(clauses)]} ({i})"),
            fill(lambda i: f"{numbered('8', i)} {clauses[i % len(clauses)][::-1]} ({i})"),
        ),
        "tiny clauses, all changed": (
            fill(lambda i: f"{numbered('9', i)} a"),
            fill(lambda i: f"{numbered('9', i)} b"),
        ),
    }


def timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kb", type=int, default=None, help="KB a language (the bound)")
    args = parser.parse_args()

    import flask_migrate

    from portal import create_app
    from portal.campaign.rules import RULES_MAX_BYTES, diff_rules
    from portal.demo import load_campaign
    from portal.models import RulesVersion, db

    limit = args.kb * 1024 if args.kb else RULES_MAX_BYTES
    pairs = texts(limit)
    print(f"texts of at most {limit // 1024} KB a language")
    worst, worst_s = None, -1.0
    for name, (old, new) in pairs.items():
        seconds, _ = timed(lambda old=old, new=new: diff_rules(old, new))
        print(f"  diff_rules, {name}: {seconds:.2f} s")
        if seconds > worst_s:
            worst, worst_s = name, seconds

    old, new = pairs[worst]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'portal.sqlite3'}",
                "SECRET_KEY": "b",
            },
            instance_path=str(workdir),
        )
        with app.app_context():
            flask_migrate.upgrade()
            campaign, _ = load_campaign()
            for number, body in ((2, old), (3, new)):
                db.session.add(
                    RulesVersion(
                        campaign_id=campaign.id,
                        number=number,
                        body_kk=body,
                        body_ru=body,
                        summary_kk="бенчмарк",
                        summary_ru="бенчмарк",
                        effective_on=date(2022, 10, number),
                        published=True,
                        published_at=datetime(2022, 9, 20 + number, tzinfo=UTC),
                    )
                )
            db.session.commit()
        client = app.test_client()
        floor_s, page = timed(lambda: client.get("/kk/ismet-2022/rules/v3"))
        assert page.status_code == 200
        first_s, first = timed(lambda: client.get("/kk/ismet-2022/rules/diff?from=2&to=3"))
        second_s, second = timed(lambda: client.get("/kk/ismet-2022/rules/diff?from=2&to=3"))
        assert first.status_code == second.status_code == 200 and first.data == second.data
    print(f"the page of version 3 alone (floor): {floor_s:.2f} s")
    print(
        f"/kk/rules/diff?from=2&to=3 ({worst}): first request {first_s:.2f} s "
        f"({first_s / floor_s:.1f} x the floor), second {second_s:.2f} s "
        f"({second_s / floor_s:.1f} x the floor)"
    )


if __name__ == "__main__":
    main()
