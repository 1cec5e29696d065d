"""The record page's "Check this draw here": its own script only (the CSP allows nothing
else), its texts in the page's language as data attributes, the prefetch bound, and
``/verify.py`` linked from every record page (the browser runs it: tests/e2e/test_draw_check.py)."""

from __future__ import annotations

import html
import re

from portal.campaign.periods import find_period
from portal.models import Campaign, db
from portal.public import draws as draw_views
from tests.helpers import conduct, draw_on, load_september, translated
from tests.languages import VisibleText, offending_words
from tests.verifier_draws import VERIFY

TEXTS = {
    "ok": "holds",
    "failed": "FAILED",
    "not-applicable": "not applicable",
    "other-key": "another key",
    "ready": "The draw's files are loaded: the check works now even with this site cut off.",
    "broken": "Checked by your browser: the draw does NOT verify, see the steps marked FAILED.",
}


def _drawn(app, demo, local: bool = False) -> int:
    load_september(app, demo)
    with app.app_context():
        september = find_period(db.session.get(Campaign, demo), "2022-09")
        draw = draw_on(september) if local else conduct(september)
        db.session.commit()
        return draw.id


def test_the_record_page_runs_only_its_own_script_with_its_texts_in_its_language(
    app, client, demo, standin
):
    draw_id = _drawn(app, demo)
    for lang in ("kk", "ru"):
        response = client.get(f"/{lang}/draws/{draw_id}")
        assert response.status_code == 200
        policy = dict(
            part.strip().split(" ", 1)
            for part in response.headers["Content-Security-Policy"].split(";")
        )
        assert policy["script-src"] == "'self'"
        assert policy["default-src"] == "'self'"
        page = response.get_data(as_text=True)
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.S)
        assert scripts and all(body.strip() == "" for _, body in scripts)  # no inline script
        sources = [re.search(r'src="([^"]+)"', attributes).group(1) for attributes, _ in scripts]
        assert all(src.startswith("/static/js/") for src in sources)
        assert "/static/js/draw-check.js" in {src.split("?")[0] for src in sources}
        assert not re.search(r"\son[a-z]+=", page)  # no inline event handler
        script = client.get("/static/js/draw-check.js")
        assert script.status_code == 200
        script.close()

        box = re.search(r'<section class="draw-check" id="draw-check"(.*?)>', page, re.S).group(1)
        attributes = {
            name: html.unescape(value) for name, value in re.findall(r'([\w-]+)="([^"]*)"', box)
        }
        for name, message in TEXTS.items():
            assert attributes[f"data-text-{name}"] == translated(lang, message)
        assert attributes["data-text-fetch-failed"] == translated(
            lang, "Could not fetch %(name)s: the check cannot be made.", name="{name}"
        )
        assert attributes["data-prefetch"] == "yes"
        assert attributes["data-url-pool"] == f"/{lang}/draws/{draw_id}/pool.csv"
        assert attributes["data-url-key"] == f"/{lang}/draws/{draw_id}/public-key.pem"
        assert translated(lang, "Check this draw here") in page
        assert 'href="/verify.py"' in page
        assert f"python3 verify.py http://localhost/{lang}/draws/{draw_id}" in page


def test_the_check_s_texts_are_worded_in_the_page_s_language_with_code_as_code(
    app, client, demo, standin
):
    """The texts the script shows (``data-text-*``) and the section's own: no English word,
    no "пул" (the participants' list), no Kazakh letter on a Russian page; the fields,
    options, package and file names they name are code (``<code>`` in the page, a
    ``{name}`` the script fills with a ``<code>`` element)."""
    draw_id = _drawn(app, demo)
    for lang in ("kk", "ru"):
        page = client.get(f"/{lang}/draws/{draw_id}").get_data(as_text=True)
        box = re.search(r'<section class="draw-check".*?</section>', page, re.S).group(0)
        texts = {
            name: html.unescape(value)
            for name, value in re.findall(r'data-text-([\w-]+)="([^"]*)"', box)
        }
        assert "no-crypto" in texts and "no-announcement" in texts
        texts["section"] = VisibleText.of(box, lang)
        texts["check it yourself"] = VisibleText.of(
            re.search(
                r'<section aria-labelledby="yourself-heading">.*?</section>', page, re.S
            ).group(0),
            lang,
        )
        for name, text in texts.items():
            text = re.sub(r"\{[a-z]+\}", " ", text)
            assert offending_words(text, lang, []) == [], (lang, name, text)
            assert not re.search(r"(?i)\bпул", text), (lang, name, text)
        for token in ("userData", "n", "min", "max", "RSASSA-PKCS1-v1_5"):
            assert f"<code>{token}</code>" in box, (lang, token)
        for token in ("cryptography", "--key", "verify.py"):
            assert f"<code>{token}</code>" in page, (lang, token)


def test_a_local_draw_has_no_check_to_make_but_links_verify_py(app, client, demo):
    draw_id = _drawn(app, demo, local=True)
    page = client.get(f"/ru/draws/{draw_id}").get_data(as_text=True)
    assert 'id="draw-check"' not in page and "draw-check.js" not in page
    assert 'href="/verify.py"' in page
    served = client.get("/verify.py")
    assert served.status_code == 200 and served.mimetype == "text/x-python"
    assert served.data == VERIFY.read_bytes()
    assert 'filename="verify.py"' in served.headers["Content-Disposition"]


def test_the_files_are_fetched_as_the_page_loads_up_to_about_5_mb_of_pool():
    limit = draw_views.PREFETCH_MAX_BYTES // draw_views.POOL_LINE_MAX_BYTES
    assert limit == 26_214
    assert draw_views.prefetches(1) and draw_views.prefetches(limit)
    assert not draw_views.prefetches(limit + 1)
    assert not draw_views.prefetches(1_000_000)


def test_a_large_pool_is_fetched_on_click(app, client, demo, standin, monkeypatch):
    draw_id = _drawn(app, demo)
    monkeypatch.setattr(draw_views, "PREFETCH_MAX_BYTES", 0)
    page = client.get(f"/kk/draws/{draw_id}").get_data(as_text=True)
    assert 'data-prefetch="no"' in page
    assert (
        html.escape(
            translated(
                "kk", "The pool file is large: the files are fetched when you press the button."
            ),
            quote=False,
        )
        in page
    )
