"""A commission member conducts a draw in the browser; a visitor verifies it with the page's own commands."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.helpers import PASSWORD, answer_confirmation, click, load_september, translated

pytestmark = pytest.mark.browser


def test_commission_draws_and_a_visitor_verifies(
    app, demo, auth, standin, live_server, browser, tmp_path
):
    load_september(app, demo)
    auth.create("commission", language="ru")
    wait = WebDriverWait(browser, 15)

    browser.get(live_server + "/admin/ismet-2022/draws/new/2022-09")
    wait.until(EC.url_contains("/admin/login"))
    browser.find_element(By.NAME, "email").send_keys("commission@ismet.kz")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit].button").click()
    wait.until(EC.url_contains("/admin/ismet-2022/draws/new/2022-09"))

    commission = browser.find_element(By.ID, "commission")
    commission.clear()
    commission.send_keys(
        "Aigul Sarsenova, маркетинг бөлімінің басшысы | руководитель отдела маркетинга\n"
        "Erlan Zhumabayev, заңгер | юрист\n"
        "Dinara Akhmetova, менеджер | менеджер"
    )
    for lang, place in (("kk", "Алматы қ., Абай даңғылы, 100"), ("ru", "г. Алматы, пр. Абая, 100")):
        field = browser.find_element(By.ID, f"place_{lang}")
        field.clear()
        field.send_keys(place)
    browser.find_element(By.ID, "late_reason_kk").send_keys("Бұл сынақта ай әлдеқашан өтті.")
    browser.find_element(By.ID, "late_reason_ru").send_keys("В этом тесте месяц давно прошел.")
    click(browser, browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))

    digest = wait.until(EC.presence_of_element_located((By.ID, "pool-digest"))).text
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    size = browser.find_element(By.ID, "pool-size").text.split()[0]
    # the commission's first step: the pool announced (published), then drawn
    click(browser, browser.find_element(By.CSS_SELECTOR, "button[name=announce]"))
    answer_confirmation(browser)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "button[name=confirm]")))
    assert browser.find_element(By.CSS_SELECTOR, ".announced-sha256").text == digest
    assert browser.find_element(By.ID, "pool-digest").text == digest
    click(browser, browser.find_element(By.CSS_SELECTOR, "button[name=confirm]"))
    question = answer_confirmation(browser)  # it names the pool drawn from
    assert "random.org" in question and f" {size} " in question
    wait.until(EC.url_matches(r".*/admin/ismet-2022/draws/\d+$"))
    draw_id = int(browser.current_url.rsplit("/", 1)[1])
    assert browser.find_element(By.CSS_SELECTOR, ".flash.success")

    # a visitor, in Kazakh
    browser.delete_all_cookies()
    browser.get(f"{live_server}/kk/draws/{draw_id}")
    page = browser.find_element(By.TAG_NAME, "main").text
    assert digest in page
    assert translated("kk", "The signature verifies (RSA, SHA-512)") in page

    # the page's own commands, run on the files it offers, as a sceptic would
    if not (shutil.which("openssl") and shutil.which("sha256sum")):
        pytest.skip("openssl and sha256sum are needed to run the page's commands")
    for name in ("pool.csv", "random.json", "signature.base64", "public-key.pem"):
        response = requests.get(f"{live_server}/kk/draws/{draw_id}/{name}", timeout=10)
        assert response.status_code == 200
        (tmp_path / f"draw-{draw_id}-{name}").write_bytes(response.content)
    outputs = []
    for block in browser.find_elements(By.CSS_SELECTOR, "pre.commands code"):
        script = block.get_attribute("textContent")
        result = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0, (script, result.stderr)
        outputs.append(result.stdout)
    everything = "\n".join(outputs)
    assert f"{digest}  draw-{draw_id}-pool.csv" in everything
    assert f'"pool_sha256":"{digest}"' in everything
    assert "Verified OK" in everything
    pool_digest = hashlib.sha256((tmp_path / f"draw-{draw_id}-pool.csv").read_bytes()).hexdigest()
    assert pool_digest == digest
