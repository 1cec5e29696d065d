"""Rules versions: the demo text, clause structure, comparison, immutability."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from portal.campaign.rules import diff_rules, parse_rules, rules_problems, version_in_force
from portal.demo import rules_text
from portal.models import Campaign, RulesVersion, db
from portal.models.rules import PublishedRulesAreImmutable
from tests.helpers import DATA_DIR

EXPECTED_CLAUSES = [str(n) for n in range(1, 5)] + ["4.1", "4.2"] + [str(n) for n in range(5, 19)]


def test_kazakh_v1_is_the_official_text_word_for_word():
    official = (DATA_DIR / "seed-rules-kk.txt").read_text(encoding="utf-8").split()
    ours = rules_text(1, "kk").replace("# ", "", 1).replace("\n---\n", "\n").split()
    assert ours == official


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_v1_has_all_clauses_title_and_note(lang):
    document = parse_rules(rules_text(1, lang))
    assert [c.number for c in document.clauses] == EXPECTED_CLAUSES
    assert document.title
    assert "Chocomart" in document.note and "chocomart.kz" in document.note
    assert rules_problems(rules_text(1, lang)) == []


def test_russian_v1_says_what_the_kazakh_says():
    ru = parse_rules(rules_text(1, "ru"))
    assert "200 000 тенге" in ru.clause("6").text
    assert "random.org" in ru.clause("5").text
    assert "20-го числа" in ru.clause("5").text
    assert "двух рабочих дней" in ru.clause("8").text
    assert "10 дней" in ru.clause("9").text
    assert "ЭЦП" in ru.clause("11").text


def test_parse_keeps_multi_paragraph_clauses_and_anchor_names():
    document = parse_rules(
        "# T\n\nIntro.\n\n1. First.\n\nStill first.\n\n2.1. Sub.\n\n---\n\nNote."
    )
    assert document.title == "T"
    assert document.preamble == "Intro."
    assert document.clauses[0].text == "First.\n\nStill first."
    assert document.clauses[1].anchor == "clause-2-1"
    assert document.clauses[1].depth == 1
    assert document.note == "Note."


def test_rules_problems_reports_duplicates_and_empty_bodies():
    assert [str(p) for p in rules_problems("1. A\n\n1. B")] == ["clause 1 appears twice"]
    assert [str(p) for p in rules_problems("just prose")] == ["no numbered clauses"]


BASE = "# Rules\n\n1. Period: September.\n\n2. Territory: Kazakhstan.\n\n3. Prize: one certificate.\n\n---\n\nNote."


def test_diff_of_identical_texts_has_no_changes():
    diff = diff_rules(BASE, BASE)
    assert not diff.has_changes
    assert [kind for kind, _ in diff.blocks()] == ["unchanged"]


def test_diff_finds_a_changed_clause_with_word_level_segments():
    new = BASE.replace("one certificate", "two certificates")
    diff = diff_rules(BASE, new)
    changed = [c for c in diff.clauses if c.status == "changed"]
    assert [c.new.number for c in changed] == ["3"]
    ops = {(s.op, s.text) for s in changed[0].segments}
    assert ("delete", "one") in ops and ("insert", "two") in ops
    assert ("delete", "certificate") in ops and ("insert", "certificates") in ops
    assert diff.count("changed") == 1 and diff.count("added") == 0


def test_diff_finds_an_inserted_clause_and_the_renumbering_after_it():
    new = BASE.replace("2. Territory", "2. Participants: IE and LLP.\n\n3. Territory").replace(
        "3. Prize", "4. Prize"
    )
    diff = diff_rules(BASE, new)
    statuses = [(c.status, c.old and c.old.number, c.new and c.new.number) for c in diff.clauses]
    assert statuses == [
        ("unchanged", "1", "1"),
        ("added", None, "2"),
        ("unchanged", "2", "3"),
        ("unchanged", "3", "4"),
    ]
    assert diff.clauses[2].renumbered
    assert diff.has_changes


def test_diff_finds_a_removed_clause_and_a_changed_note():
    new = BASE.replace("2. Territory: Kazakhstan.\n\n", "").replace("Note.", "Another note.")
    diff = diff_rules(BASE, new)
    assert [c.status for c in diff.clauses if c.status != "unchanged"] == ["removed"]
    assert diff.note.changed
    assert diff.count("removed") == 1


def test_a_rewritten_clause_keeping_its_number_is_shown_as_changed():
    new = BASE.replace("Territory: Kazakhstan.", "Winners are published monthly on the portal.")
    diff = diff_rules(BASE, new)
    assert [c.status for c in diff.clauses] == ["unchanged", "changed", "unchanged"]


def test_a_different_clause_in_another_place_is_removed_plus_added():
    new = BASE.replace(
        "2. Territory: Kazakhstan.\n\n3. Prize: one certificate.",
        "2. Prize: one certificate.\n\n3. Winners are published monthly on the portal.",
    )
    diff = diff_rules(BASE, new)
    summary = [(c.status, c.old and c.old.number, c.new and c.new.number) for c in diff.clauses]
    assert summary == [
        ("unchanged", "1", "1"),
        ("removed", "2", None),
        ("unchanged", "3", "2"),
        ("added", None, "3"),
    ]


def test_published_version_cannot_be_edited_or_deleted(demo, ctx):
    version = db.session.scalar(sa.select(RulesVersion).filter_by(number=1))
    version.body_ru = "1. Something else."
    with pytest.raises(PublishedRulesAreImmutable):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalar(sa.select(RulesVersion).filter_by(number=1)))
    with pytest.raises(PublishedRulesAreImmutable):
        db.session.flush()
    db.session.rollback()


def test_draft_can_be_edited_and_then_published(demo, ctx):
    campaign = db.session.get(Campaign, demo)
    draft = RulesVersion(
        campaign=campaign, number=2, body_kk=BASE, body_ru=BASE, effective_on=date(2022, 10, 1)
    )
    db.session.add(draft)
    db.session.commit()
    draft.body_kk = BASE + "\n\nmore"
    draft.published = True
    db.session.commit()
    assert version_in_force(campaign, date(2022, 10, 1)).number == 2
    assert version_in_force(campaign, date(2022, 9, 30)).number == 1
    assert version_in_force(campaign, date(2022, 8, 31)) is None
