"""Finding 14: a public page that cost 20 s.

The rules diff (``/<lang>/rules/diff?from=N&to=M``) was computed on every request.
Published versions never change, so their comparison is computed once (when a
version is published, or on the first request for a pair) and kept in ``rules_diff``;
later requests read it. A version's text is bounded (``RULES_MAX_BYTES``, 200 KB a
language), refused at save, and a comparison's own work is bounded too.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from portal.campaign import rules
from portal.campaign.periods import local_today
from portal.models import Campaign, RulesVersion, db, utcnow
from tests.helpers import csrf_from, publish_v2, translated

MARKER = "kept-comparison-marker"


def kept_rows() -> list:
    table = sa.table(
        "rules_diff",
        sa.column("older_id"),
        sa.column("newer_id"),
        sa.column("language"),
        sa.column("diff_json"),
    )
    return db.session.execute(
        sa.select(table.c.older_id, table.c.newer_id, table.c.language, table.c.diff_json)
    ).all()


def mark_kept(language: str) -> None:
    """Write a marker into the kept comparison: a page that shows it did not compute."""
    data_table = sa.table("rules_diff", sa.column("language"), sa.column("diff_json"))
    text = db.session.scalar(
        sa.select(data_table.c.diff_json).where(data_table.c.language == language)
    )
    data = json.loads(text)
    data["title"][2] = [["insert", MARKER]]
    data["title"][1] = data["title"][0] + MARKER  # the title shows as changed
    for clause in data["clauses"]:  # and every clause shown as changed, added or removed
        _status, old, new, segments = clause
        segments.append(["insert", MARKER])
        for side in (old, new):
            if side is not None:
                side[1] += " " + MARKER
    db.session.execute(
        data_table.update()
        .where(data_table.c.language == language)
        .values(diff_json=json.dumps(data, ensure_ascii=False))
    )
    db.session.commit()


def test_a_second_request_for_the_same_diff_reads_it_and_does_not_compute_it(app, client, demo):
    publish_v2(app, demo)  # stored as published, without the editor: nothing kept yet
    with app.app_context():
        assert kept_rows() == []
    first = client.get("/kk/ismet-2022/rules/diff?from=1&to=2")
    assert first.status_code == 200 and "3" in first.get_data(as_text=True)
    with app.app_context():
        assert [(o, n, lang) for o, n, lang, _ in kept_rows()] == [(1, 2, "kk")]
        mark_kept("kk")
    second = client.get("/kk/ismet-2022/rules/diff?from=1&to=2").get_data(as_text=True)
    assert MARKER in second  # read from what was kept, not computed again
    assert MARKER not in client.get("/ru/ismet-2022/rules/diff?from=1&to=2").get_data(as_text=True)
    with app.app_context():
        assert sorted(lang for *_, lang, _ in kept_rows()) == ["kk", "ru"]


def test_publishing_a_version_compares_it_at_once_with_every_earlier_one(app, client, auth, demo):
    auth.login("marketing")
    client.post(
        "/admin/ismet-2022/rules/new", data={"csrf_token": auth.token("/admin/ismet-2022/rules")}
    )
    form = {
        "body_kk": "1. Бірінші тармақ.\n\n2. Екінші тармақ, жаңа.",
        "body_ru": "1. Первый пункт.\n\n2. Второй пункт, новый.",
        "summary_kk": "2-тармақ өзгертілді.",
        "summary_ru": "Изменен пункт 2.",
        "effective_on": local_today().isoformat(),
        "csrf_token": auth.token("/admin/ismet-2022/rules/2/edit"),
    }
    assert client.post("/admin/ismet-2022/rules/2/publish", data=form).status_code == 302
    with app.app_context():
        kept = sorted((o, n, lang) for o, n, lang, _ in kept_rows())
        v1, v2 = (db.session.scalar(sa.select(RulesVersion.id).filter_by(number=n)) for n in (1, 2))
        assert kept == [(v1, v2, "kk"), (v1, v2, "ru")]
        mark_kept("ru")
    assert MARKER in client.get("/ru/ismet-2022/rules/diff").get_data(as_text=True)  # none computed
    assert MARKER in client.get("/admin/ismet-2022/rules/2").get_data(as_text=True)  # staff's too


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_a_version_over_the_size_bound_is_refused_at_save(app, client, auth, demo, lang):
    auth.login("marketing")  # the account's language is Russian
    client.post(
        "/admin/ismet-2022/rules/new", data={"csrf_token": auth.token("/admin/ismet-2022/rules")}
    )
    clause = "1. " + "Ұтыс ойыны " * 20 + "\n\n"
    huge = clause * (rules.RULES_MAX_BYTES // len(clause.encode()) + 1)
    assert len(huge.encode()) > rules.RULES_MAX_BYTES
    form = {
        "body_kk": "1. Бірінші тармақ.",
        "body_ru": "1. Первый пункт.",
        f"body_{lang}": huge,
        "summary_kk": "Өзгерді.",
        "summary_ru": "Изменено.",
        "effective_on": local_today().isoformat(),
        "csrf_token": auth.token("/admin/ismet-2022/rules/2/edit"),
    }
    page = client.post("/admin/ismet-2022/rules/2/edit", data=form)
    assert page.status_code == 200  # the editor again, with the error
    sentence = translated(
        "ru",
        "The text is larger than %(limit)s KB (it has %(size)s KB): shorten it.",
        limit=rules.RULES_MAX_BYTES // 1024,
        size=-(-len(huge.encode()) // 1024),
    )
    assert sentence in page.get_data(as_text=True)
    refused = client.post("/admin/ismet-2022/rules/2/publish", data=form)
    assert refused.status_code == 400 and sentence in refused.get_data(as_text=True)
    with app.app_context():
        draft = db.session.scalar(sa.select(RulesVersion).filter_by(number=2))
        assert not draft.published and draft.tr("body", lang) != huge  # nothing saved


def test_a_draft_over_the_bound_is_refused_on_publication_however_it_was_saved(ctx, demo):
    campaign = db.session.get(Campaign, demo)
    draft = rules.start_draft(campaign, local_today())
    draft.body_ru = "1. " + "я" * rules.RULES_MAX_BYTES  # 2 bytes a letter
    draft.summary_kk = draft.summary_ru = "x"
    with pytest.raises(rules.RulesChangeRefused) as refused:
        rules.publish(draft, utcnow(), local_today())
    assert (refused.value.code, refused.value.lang) == ("too-large", "ru")
    assert rules.rules_problems(draft.body_ru)[0].kind == "too-large"


def test_the_editors_preview_says_a_text_is_too_large_without_rendering_it(client, auth, demo):
    auth.login("marketing")
    client.post(
        "/admin/ismet-2022/rules/new", data={"csrf_token": auth.token("/admin/ismet-2022/rules")}
    )
    token = csrf_from(client.get("/admin/ismet-2022/rules/2/edit").get_data(as_text=True))
    body = "1. " + "x" * rules.RULES_MAX_BYTES
    preview = client.post(
        "/admin/rules/preview", json={"body": body}, headers={"X-CSRFToken": token}
    )
    assert preview.status_code == 200
    assert preview.json["html"] == ""
    assert preview.json["problems"] == [
        translated(
            "ru",
            "The text is larger than %(limit)s KB (it has %(size)s KB): shorten it.",
            limit=rules.RULES_MAX_BYTES // 1024,
            size=-(-len(body.encode()) // 1024),
        )
    ]


def test_a_comparison_within_the_bound_ends_whatever_the_texts(ctx):
    # One clause of 200 KB of words against another: its work is bounded (DIFF_BUDGET),
    # so it ends and still says what changed.
    words = [f"w{n % 997}" for n in range(40_000)]
    old = "1. " + " ".join(words)
    new = "1. " + " ".join(reversed(words))
    assert len(new.encode()) <= rules.RULES_MAX_BYTES
    diff = rules.diff_rules(old, new)
    [change] = diff.clauses
    assert change.status == "changed"
    assert "".join(s.text for s in change.segments if s.op != "insert") == old[3:]
    assert "".join(s.text for s in change.segments if s.op != "delete") == new[3:]
    assert rules.diff_from_json(rules.diff_to_json(diff)) == diff
