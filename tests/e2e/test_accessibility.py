"""Every public page of the demo, in Kazakh and Russian, on a 360 px phone and a 1280 px
screen, and the main staff pages at both widths, checked by axe-core: any violation
fails the page, and the failure lists them all.

axe-core comes from the ``axe-selenium-python`` package (its own ``axe.min.js``, no
network). That copy is axe-core 3.1; checks of later versions that the portal's pages
once failed run beside it, in ``HOUSE_CHECKS``: a scrollable region a keyboard can
reach, landmarks of one kind told apart by their names, no empty table header (and
"dlitem" as later versions hold it).

The demo is loaded once for the module, one browser visits every page, once per width.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from axe_selenium_python import Axe
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.helpers import PASSWORD, DemoSite, click

pytestmark = pytest.mark.browser

WIDTHS = (360, 1280)

# axe-core 3.1's "dlitem" refuses the <div> that groups a <dt> with its <dd> inside a
# <dl>, which HTML allows and later versions accept: the house check "dlitem" below
# holds the rule as they do.
AXE_OPTIONS = {"rules": {"dlitem": {"enabled": False}}}
AXE_SCRIPT = Path(Axe(None).script_url).read_text(encoding="utf-8")  # the package's axe.min.js
LANGUAGES = ("kk", "ru")
# The staff pages' markup is the same in both languages: each width in one of them.
STAFF_VIEWS = ((360, "kk"), (1280, "ru"))

# What later axe-core versions check and 3.1 does not (or not as they do):
# scrollable-region-focusable, landmark-unique, empty-table-header, dlitem.
# Returns [[rule, the element], …].
HOUSE_CHECKS = r"""
const found = [];
const name = (el) => {
  if (el.getAttribute('aria-label')) return el.getAttribute('aria-label').trim();
  const ids = (el.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
  return ids.map((id) => (document.getElementById(id) || {}).textContent || '').join(' ').trim();
};
const where = (el) => el.outerHTML.slice(0, 160);
const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
const focusable = 'a[href],button,input,select,textarea,[tabindex]:not([tabindex^="-"])';
for (const el of document.querySelectorAll('body *')) {
  const style = getComputedStyle(el);
  const across = ['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1;
  const down = ['auto', 'scroll'].includes(style.overflowY) && el.scrollHeight > el.clientHeight + 1;
  if ((across || down) && !el.matches(focusable) && !el.querySelector(focusable)) {
    found.push(['scrollable-region-focusable', where(el)]);
  }
}
const ROLES = {NAV: 'navigation', ASIDE: 'complementary', MAIN: 'main', SECTION: 'region', FORM: 'form'};
const seen = {};
for (const el of document.querySelectorAll('nav,aside,main,section,form,[role]')) {
  const role = el.getAttribute('role') || ROLES[el.tagName];
  if (!role || !visible(el)) continue;
  if (!['navigation', 'complementary', 'main', 'region', 'form', 'search', 'banner', 'contentinfo'].includes(role)) continue;
  const label = name(el);
  if ((role === 'region' || role === 'form') && !label) continue;  // not a landmark then
  const key = role + '|' + label.toLowerCase();
  if (seen[key]) found.push(['landmark-unique', role + ' "' + label + '": ' + where(el)]);
  seen[key] = true;
}
for (const item of document.querySelectorAll('dt,dd')) {
  const parent = item.parentElement;
  const ok = parent.tagName === 'DL' || (parent.tagName === 'DIV' && parent.parentElement.tagName === 'DL');
  if (!ok) found.push(['dlitem', where(item)]);
}
for (const th of document.querySelectorAll('th')) {
  if (!th.textContent.trim() && !name(th)) found.push(['empty-table-header', where(th)]);
}
return found;
"""


def check_with_result(browser, site: DemoSite, lang: str) -> None:
    browser.get(f"{site.url}/{lang}/ismet-2022/check")
    browser.find_element(By.ID, "account_number").send_keys(site.account)
    browser.find_element(By.ID, "bin_iin").send_keys(site.bin_iin)
    submit(browser, "main form")
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "result-heading")))


def check_without_anything(browser, site: DemoSite, lang: str) -> None:
    browser.get(f"{site.url}/{lang}/ismet-2022/check")
    submit(browser, "main form")
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "error-summary")))


def subscribe_with_a_bad_address(browser, site: DemoSite, lang: str) -> None:
    browser.get(f"{site.url}/{lang}/subscribe")
    browser.find_element(By.ID, "email").send_keys("not an address")
    submit(browser, "main form")
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "error-summary")))


def manual_signing_without_a_reason(browser, site: DemoSite, lang: str) -> None:
    browser.get(f"{site.url}/{lang}/winner/{site.token}")
    submit(browser, "#manual-form")
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "error-summary")))


def ncalayer_not_running(browser, site: DemoSite, lang: str) -> None:
    """The winner presses "Sign with NCALayer" where nothing listens at NCALayer's address
    (the demo's, wss://127.0.0.1:13579): the advice to install it and the QR path show."""
    browser.get(f"{site.url}/{lang}/winner/{site.token}")
    click(browser, browser.find_element(By.ID, "ncalayer-sign"))
    WebDriverWait(browser, 20).until(EC.visibility_of_element_located((By.ID, "ncalayer-missing")))


def submit(browser, form: str) -> None:
    click(browser, browser.find_element(By.CSS_SELECTOR, f"{form} [type=submit]"))


# Each public page: a path, or the steps that reach it in the browser.
PUBLIC_PAGES = {
    "index": "/{lang}/",
    "campaign": "/{lang}/ismet-2022/",
    "rules": "/{lang}/ismet-2022/rules",
    "rules-history": "/{lang}/ismet-2022/rules/history",
    "rules-version": "/{lang}/ismet-2022/rules/v1",
    "rules-diff": "/{lang}/ismet-2022/rules/diff?from=1&to=2",
    "winners": "/{lang}/ismet-2022/winners",
    "winners-2022-09": "/{lang}/ismet-2022/winners/2022-09",
    "winners-2022-10": "/{lang}/ismet-2022/winners/2022-10",
    "winners-2022-11": "/{lang}/ismet-2022/winners/2022-11",
    "draws": "/{lang}/ismet-2022/draws",
    "draw": "/{lang}/draws/1",
    "draw-replaced": "/{lang}/draws/2",
    "draw-redraw": "/{lang}/draws/3",
    "news": "/{lang}/ismet-2022/news",
    "news-item": "/{lang}/ismet-2022/news/1",
    "check": "/{lang}/ismet-2022/check",
    "check-result": check_with_result,
    "check-errors": check_without_anything,
    "subscribe": "/{lang}/subscribe",
    "subscribe-errors": subscribe_with_a_bad_address,
    "winner": "/{lang}/winner/{token}",
    "winner-manual-errors": manual_signing_without_a_reason,
    "winner-ncalayer-missing": ncalayer_not_running,
}

STAFF_PAGES = {
    "login": "/admin/login",
    "dashboard": "/admin/ismet-2022/",
    "participants": "/admin/ismet-2022/participants",
    "participant": "/admin/ismet-2022/participants/{participant}",
    "import": "/admin/ismet-2022/participants/import",
    "draws": "/admin/ismet-2022/draws",
    "draw": "/admin/ismet-2022/draws/3",
    "draw-replaced": "/admin/ismet-2022/draws/2",
    "winners": "/admin/ismet-2022/winners",
    "winner": "/admin/ismet-2022/winners/{winner}",
    "winner-published": "/admin/ismet-2022/winners/1",
    "rules": "/admin/ismet-2022/rules",
    "rules-version": "/admin/ismet-2022/rules/2",
    "rules-edit": "/admin/ismet-2022/rules/{draft}/edit",
    "news": "/admin/ismet-2022/news",
    "news-edit": "/admin/ismet-2022/news/{notice}",
    "mail": "/admin/mail",
    "audit": "/admin/audit",
    "calendar": "/admin/calendar",
    "users": "/admin/users",
    "user-new": "/admin/users/new",
}


def violations(browser) -> list[str]:
    """Every violation on the page: axe-core's, then the house checks'."""
    browser.execute_script(AXE_SCRIPT)
    results = Axe(browser).run(options=json.dumps(AXE_OPTIONS))
    found = [
        f"{v['id']} ({v['impact']}): {v['help']}\n      "
        + "\n      ".join(
            f"{', '.join(map(str, node['target']))}: {node.get('failureSummary', '')}".replace(
                "\n", " "
            )
            for node in v["nodes"]
        )
        for v in results["violations"]
    ]
    found += [f"{rule}: {element}" for rule, element in browser.execute_script(HOUSE_CHECKS)]
    return found


def at_width(browser, width: int) -> None:
    if browser.get_window_size()["width"] != width:
        browser.set_window_size(width, 900)


@pytest.fixture(scope="module")
def site(demo_site, shared_browser) -> DemoSite:
    shared_browser.set_script_timeout(60)
    return demo_site


@pytest.fixture(scope="module")
def signed_in(shared_browser, site):
    """Sign the shared browser in as the administrator reading ``lang`` (once per language)."""
    state = {"lang": None}

    def sign_in(lang: str | None) -> None:
        if state["lang"] == lang:
            return
        shared_browser.delete_all_cookies()
        state["lang"] = None
        if lang is None:
            return
        shared_browser.get(site.url + "/admin/login")
        shared_browser.find_element(By.NAME, "email").send_keys(f"admin-{lang}@ismet.kz")
        shared_browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        submit(shared_browser, "main form")
        WebDriverWait(shared_browser, 10).until(EC.url_matches(r".*/admin/[a-z0-9-]+/$"))
        state["lang"] = lang

    return sign_in


def report(page: str, found: list[str]) -> str:
    return f"{len(found)} accessibility violation(s) on {page}:\n  - " + "\n  - ".join(found)


@pytest.mark.parametrize(
    ("width", "lang", "page"),
    [(w, lang, p) for w in WIDTHS for lang in LANGUAGES for p in PUBLIC_PAGES],
)
def test_public_page_has_no_accessibility_violation(
    site, shared_browser, signed_in, width, lang, page
):
    signed_in(None)
    at_width(shared_browser, width)
    visit = PUBLIC_PAGES[page]
    if isinstance(visit, str):
        shared_browser.get(site.url + visit.format(lang=lang, token=site.token))
    else:
        visit(shared_browser, site, lang)
    assert shared_browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    found = violations(shared_browser)
    assert not found, report(f"{page} ({lang}, {width} px): {shared_browser.current_url}", found)


@pytest.mark.parametrize(
    ("width", "lang", "page"),
    [(w, lang, p) for w, lang in STAFF_VIEWS for p in STAFF_PAGES],
)
def test_staff_page_has_no_accessibility_violation(
    site, shared_browser, signed_in, width, lang, page
):
    at_width(shared_browser, width)
    path = STAFF_PAGES[page].format(
        participant=site.participant_id,
        winner=site.winner_id,
        draft=site.draft,
        notice=site.notice_id,
    )
    if page == "login":
        signed_in(None)
        shared_browser.delete_all_cookies()  # the language chosen last is remembered
        shared_browser.get(site.url + path)
        if shared_browser.find_element(By.TAG_NAME, "html").get_attribute("lang") != lang:
            switch = f".language-switch button[data-lang='{lang}']"
            click(shared_browser, shared_browser.find_element(By.CSS_SELECTOR, switch))
            # the page is replaced under the wait: its old <html> may go stale between
            # being found and being read
            WebDriverWait(
                shared_browser, 10, ignored_exceptions=(StaleElementReferenceException,)
            ).until(lambda b: b.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang)
    else:
        signed_in(lang)
        shared_browser.get(site.url + path)
    assert shared_browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    assert "/admin/login" not in shared_browser.current_url or page == "login"
    found = violations(shared_browser)
    assert not found, report(
        f"staff {page} ({lang}, {width} px): {shared_browser.current_url}", found
    )


def test_the_house_checks_find_what_they_look_for(site, shared_browser, signed_in):
    """The checks beside axe-core each catch their fault on a page made to have it."""
    signed_in(None)
    at_width(shared_browser, 360)
    shared_browser.get(site.url + "/kk/ismet-2022/rules")
    assert shared_browser.execute_script(HOUSE_CHECKS) == []
    shared_browser.execute_script(
        """
        const label = document.querySelector('nav.language-switch').getAttribute('aria-label');
        document.querySelector('main').insertAdjacentHTML('beforeend',
          '<pre class="commands"><code>' + 'x'.repeat(400) + '</code></pre>' +
          '<nav aria-label="' + label + '"></nav>' +
          '<table><tr><th></th></tr><tr><td>1</td></tr></table>' +
          '<div><dt>term</dt></div>');
        """
    )
    rules = sorted({rule for rule, _element in shared_browser.execute_script(HOUSE_CHECKS)})
    assert rules == [
        "dlitem",
        "empty-table-header",
        "landmark-unique",
        "scrollable-region-focusable",
    ]
