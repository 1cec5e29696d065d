"""Staff see what the public sees: one verdict on a draw, its key included, from
portal/campaign, on the public record, the staff's draw page and ``flask draw verify``."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.campaign import draws
from portal.campaign.draws import Check
from portal.campaign.periods import find_period
from portal.models import Campaign, DrawFile, db
from portal.services.randomorg import key_fingerprint
from portal.wording.messages import describe_verdict
from tests.helpers import (
    COMMISSION,
    PLACE,
    announced,
    both,
    draw_on,
    load_september,
    page_text,
    prepare,
    site,
    translated,
)

OTHER_KEY = (
    "Not verified by random.org: the record holds together, but it was signed by another key"
    " (SHA-256 %(fingerprint)s), not random.org's. It proves nothing about the randomness of"
    " the numbers: a demonstration or test draw."
)
RANDOM_ORG = "Verified: the winners come from this pool and from numbers random.org signed for it."


def standin_draw(app, demo) -> tuple[int, str]:
    """September drawn through the stand-in random.org: the draw's id and its key's SHA-256."""
    load_september(app, demo)
    with app.app_context():
        period = find_period(db.session.get(Campaign, demo), "2022-09")
        draw = draws.conduct(
            announced(prepare(period)),
            **site(),
            commission=COMMISSION,
            place=PLACE,
            late_reason=both("test"),
        )
        return draw.id, key_fingerprint(draw.public_key_pem)


def verdict_on(html: str) -> tuple[str, str]:
    """The verdict sentence a page gives (the element that carries ``data-verdict``)."""
    match = re.search(r'data-verdict="([a-z-]+)"[^>]*>(.*?)</p>', html, re.S)
    assert match, "no verdict on the page"
    return page_text_of(match.group(2)), match.group(1)


def page_text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", fragment)).strip()


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_a_standin_draw_has_the_same_verdict_for_staff_and_public(
    app, client, auth, demo, standin, lang
):
    draw_id, fingerprint = standin_draw(app, demo)
    sentence = translated(lang, OTHER_KEY, fingerprint=fingerprint)
    public, public_code = verdict_on(client.get(f"/{lang}/draws/{draw_id}").get_data(as_text=True))
    auth.create("commission", language=lang)
    auth.login("commission", create=False)
    staff_html = client.get(f"/admin/ismet-2022/draws/{draw_id}").get_data(as_text=True)
    staff, staff_code = verdict_on(staff_html)
    assert public == staff == sentence
    assert public_code == staff_code == "verified-other-key"
    # not the green "verifies" of a draw random.org signed
    assert translated(lang, RANDOM_ORG) not in page_text(client.get(f"/{lang}/draws/{draw_id}"))
    assert 'class="flash success verdict-text"' not in staff_html
    assert translated(lang, RANDOM_ORG) not in page_text(
        client.get(f"/admin/ismet-2022/draws/{draw_id}")
    )


def test_flask_draw_verify_gives_the_same_verdict(app, runner, demo, standin):
    draw_id, fingerprint = standin_draw(app, demo)
    for lang in ("kk", "ru"):
        result = runner.invoke(args=["draw", "verify", str(draw_id), "--lang", lang])
        assert result.exit_code == 0, result.output
        assert translated(lang, OTHER_KEY, fingerprint=fingerprint) in result.output
        assert f"draw {draw_id}: verified-other-key" in result.output
    with app.app_context():
        db.session.execute(
            sa.update(DrawFile).where(DrawFile.name == "pool.csv").values(content=b"x")
        )
        db.session.commit()
    broken = runner.invoke(args=["draw", "verify", str(draw_id), "--lang", "ru"])
    assert broken.exit_code == 1
    sentence = translated("ru", "Verification FAILED: this record does not hold together.")
    assert sentence in broken.output
    assert f"draw {draw_id}: broken" in broken.output


def test_a_local_draw_is_not_verifiable_for_staff_and_public(app, client, auth, runner, demo):
    load_september(app, demo)
    with app.app_context():
        draw_id = draw_on(find_period(db.session.get(Campaign, demo), "2022-09")).id
    sentence = translated(
        "ru",
        "Cannot be verified: this draw was made without random.org, with the local fallback, and has no signed randomness to check.",
    )
    public, code = verdict_on(client.get(f"/ru/draws/{draw_id}").get_data(as_text=True))
    auth.login("auditor")  # Russian
    staff, _ = verdict_on(client.get(f"/admin/ismet-2022/draws/{draw_id}").get_data(as_text=True))
    assert public == staff == sentence and code == "local-fallback"
    result = runner.invoke(args=["draw", "verify", str(draw_id), "--lang", "ru"])
    assert result.exit_code == 1 and sentence in result.output


def test_the_verdict_from_the_checks():
    holds = [Check("pool-digest", True), Check("signature", True), Check("winners", True)]
    ours = Check("random-org-key", True, "aaf4")
    theirs = Check("random-org-key", False, "e50f")
    assert draws.verdict([*holds, ours]) == draws.Verdict("verified-random-org", "aaf4")
    assert draws.verdict([*holds, theirs]) == draws.Verdict("verified-other-key", "e50f")
    assert draws.verdict([*holds, Check("local-fallback", False, "down")]).code == (
        "local-fallback"
    )
    broken = [Check("pool-digest", False), Check("local-fallback", False), ours]
    assert draws.verdict(broken).code == "broken"
    assert draws.verdict([Check("signature", False), ours]).code == "broken"
    assert [v for v in draws.VERDICTS if draws.Verdict(v).proven] == ["verified-random-org"]
    assert {v for v in draws.VERDICTS if draws.Verdict(v).holds} == {
        "verified-random-org",
        "verified-other-key",
    }


def test_every_verdict_has_its_own_sentence(app):
    for lang in ("kk", "ru"):
        with app.test_request_context(f"/{lang}/"):
            sentences = {describe_verdict(draws.Verdict(v, "e50f")) for v in draws.VERDICTS}
        assert len(sentences) == len(draws.VERDICTS)
