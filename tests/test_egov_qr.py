"""eGov Mobile's QR signing of the act: the session, API 1 and API 2, the page, SIGEX.

A "phone" (``tests.egov_standins.Phone``) reads the QR text off the winner's page and
talks to the portal over real HTTP, as eGov Mobile does; the signature it PUTs is made
with a test key (RSA or GOST 34.10-2015) and verified by ``acts.sign_with_eds``.
"""

from __future__ import annotations

import html
import re
import threading
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa

from portal.campaign import acts, egov_signing
from portal.jobs.egov_qr import collect_sigex
from portal.models import AuditEntry, Winner, db, utcnow
from portal.models.acts import ActSignature
from portal.models.signing import SigningSession
from portal.public import egov
from portal.services import egov_qr
from portal.services.redaction import redact_links
from portal.web.urls import SiteLinks
from tests.eds_pki import sign_cms
from tests.egov_standins import Phone, SigexStandIn
from tests.helpers import csrf_from, pki_for, serving

W, S = Winner, SigningSession
BIN = "123456789012"
QR_TEXT = re.compile(r'data-qr-text="([^"]+)"')


@pytest.fixture
def site(app, issued):
    """The portal served on a free port (the phone's side), its address the site's own."""
    with serving(app) as url:
        app.config.update(PUBLIC_BASE_URL=url, ORGANIZER_BIN=BIN)
        yield url


def open_qr(app, client, winner, lang="kk") -> tuple[str, str, str]:
    """The winner's page asks for a QR code; the page's token, the QR text and the page."""
    token = acts.issue_link(winner)
    db.session.commit()
    page = client.get(f"/{lang}/winner/{token}").get_data(as_text=True)
    assert 'id="egov-start"' in page  # hidden while a QR code waits
    response = client.post(f"/{lang}/winner/{token}/egov", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302 and response.location.endswith("#egov-qr")
    page = client.get(f"/{lang}/winner/{token}").get_data(as_text=True)
    text = html.unescape(QR_TEXT.search(page).group(1))
    return token, text, page


def the_session() -> SigningSession:
    db.session.expire_all()
    return db.session.scalar(sa.select(SigningSession).order_by(SigningSession.id.desc()))


def as_llp(winner: Winner) -> None:
    winner.participant.legal_form = "LLP"


def scanned(app, client, act) -> tuple[str, str, Phone, object]:
    """An LLP's director's phone that has read API 1 and fetched the act from API 2:
    the page's token, the QR text, the phone and the test PKI."""
    as_llp(act.winner)
    pki = pki_for(app, act.winner)
    token, text, _page = open_qr(app, client, act.winner)
    phone = Phone(pki.head)
    phone.scan(text)
    return token, text, phone, pki


def test_an_llp_director_signs_with_the_phone(app, issued, site, client):
    as_llp(issued.winner)
    pki = pki_for(app, issued.winner)
    token, text, page = open_qr(app, client, issued.winner)
    assert text.startswith(f"mobileSign:{site}/egov-sign/")
    # the page draws the QR code of that very text, inline, and the same-device links
    assert egov_qr.qr_svg(text) in page
    link = egov_qr.launch_links(text.removeprefix("mobileSign:"))
    assert html.escape(link["egov_mobile"]) in page and html.escape(link["egov_business"]) in page
    assert "https://m.egov.kz/mobileSign?link=" in link["egov_mobile"]
    key = text.rsplit("/", 1)[1]
    row = db.session.execute(sa.select(SigningSession.__table__)).one()._asdict()
    assert key not in str(row) and key[:16] not in str(row)  # only digests are kept

    phone = Phone(pki.head)
    api1 = phone.scan(text)
    assert api1["organisation"]["bin"] == BIN
    assert api1["organisation"]["nameKz"] == app.config["ORGANIZER_NAME_KK"]
    assert api1["organisation"]["nameRu"] == app.config["ORGANIZER_NAME_RU"]
    assert api1["organisation"]["nameEn"] == app.config["ORGANIZER_NAME_EN"]
    assert issued.number in api1["description"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\d\+0[56]00", api1["expiry_date"])
    assert api1["document"]["uri"].startswith(f"{site}/egov-sign/")
    assert phone.document() == issued.pdf  # the act's exact bytes
    assert phone.api2["documentsToSign"][0]["meta"] == [{"name": "SHA-256", "value": issued.sha256}]

    answer = phone.put(sign_cms(issued.pdf, pki.head))
    assert answer.status_code == 200 and answer.json() == {"code": "200", "message": "success"}
    session = the_session()
    assert session.status == S.SIGNED and session.finished_at
    signature = db.session.scalar(sa.select(ActSignature))
    assert signature.received_via == "egov-qr" and signature.signer_name == "PETROV AIDAR"
    assert db.session.get(Winner, issued.winner_id).status == W.ACT_SIGNED
    status = client.get(f"/kk/winner/{token}/egov/{session.id}").get_json()
    assert status["status"] == "signed" and status["winner_status"] == W.ACT_SIGNED
    # used once: the same QR code and token are gone
    assert phone.put(sign_cms(issued.pdf, pki.head)).status_code == 410
    assert requests.get(text.removeprefix("mobileSign:"), timeout=10).status_code == 410
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActSignature)) == 1


def test_an_ie_signs_with_a_gost_2015_key_and_the_page_follows(app, issued, site, client):
    issued.winner.participant.legal_form = "IE"
    pki = pki_for(app, issued.winner)
    token, text, page = open_qr(app, client, issued.winner, lang="ru")
    session = the_session()
    state = client.get(f"/ru/winner/{token}/egov/{session.id}").get_json()
    assert state["status"] == "waiting" and state["message"]
    assert f'href="/ru/winner/{token}#egov-qr"' in page  # "check again", without JavaScript
    assert Phone(pki.gost_ie).sign(text).status_code == 200
    db.session.expire_all()  # the test's own session saw the winner before
    page = client.get(f"/ru/winner/{token}").get_data(as_text=True)
    assert "status-act_signed" in page and 'id="egov-qr' not in page


@pytest.mark.parametrize(
    ("signer", "alter", "code", "words"),
    [
        ("head", True, "digest-mismatch", "The signature does not match this document"),
        ("other", False, "wrong-bin", "The certificate is not issued to BIN"),
        ("auth", False, "not-signing-key", "The certificate is not a signing key"),
    ],
)
def test_a_wrong_signature_is_refused_with_the_reason(
    app, issued, site, client, signer, alter, code, words
):
    as_llp(issued.winner)
    pki = pki_for(app, issued.winner)
    token, text, _page = open_qr(app, client, issued.winner, lang="ru")
    phone = Phone(getattr(pki, signer))
    answer = phone.sign(text, alter=alter)
    assert answer.status_code == 403 and answer.json()["code"] == "403"
    session = the_session()
    assert session.status == S.REFUSED and [f["code"] for f in session.failures] == [code]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActSignature)) == 0
    assert db.session.get(Winner, issued.winner_id).status == W.ACT_ISSUED
    attempt = db.session.scalar(sa.select(AuditEntry).filter_by(action="act.eds_attempt"))
    assert "egov-qr" in attempt.details and code in attempt.details
    # the page says why, in the winner's language, and offers a new QR code
    state = client.get(f"/ru/winner/{token}/egov/{session.id}").get_json()
    assert state["status"] == "refused" and len(state["reasons"]) == 1
    assert state["reasons"][0] in answer.json()["message"]  # the app is told the same, in Russian
    assert not state["reasons"][0].startswith(words)  # in Russian, not the English msgid
    page = client.get(f"/ru/winner/{token}").get_data(as_text=True)
    assert html.escape(state["reasons"][0]) in page and 'id="egov-start"' in page
    # the session was used: a second try with the same QR code is gone
    assert phone.put(b"anything").status_code == 410
    # a new QR code, and the right key, sign
    _token, text, _page = open_qr(app, client, issued.winner, lang="ru")
    assert Phone(pki.head).sign(text).status_code == 200


def test_an_expired_session_and_a_wrong_token(app, issued, site, client):
    token, text, phone, pki = scanned(app, client, issued)
    assert phone.fetch(token="not-the-token").status_code == 403
    right = phone.api1["document"]["auth_token"]
    wrong = right[:-1] + ("1" if right[-1] == "0" else "0")  # hex: "0" when it ends in "0"
    assert phone.fetch(token=wrong).status_code == 403
    phone.document()
    session = the_session()
    assert session.status == S.WAITING  # a wrong token uses nothing up
    session.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    answer = phone.put(sign_cms(issued.pdf, pki.head))
    assert answer.status_code == 410 and answer.json()["code"] == "410"
    assert the_session().status == S.EXPIRED
    assert requests.get(text.removeprefix("mobileSign:"), timeout=10).status_code == 410
    state = client.get(f"/kk/winner/{token}/egov/{session.id}").get_json()
    assert state["status"] == "expired"
    assert db.session.get(Winner, issued.winner_id).status == W.ACT_ISSUED


def test_a_corrected_act_or_a_new_code_ends_the_earlier_session(app, issued, site, client):
    as_llp(issued.winner)
    pki = pki_for(app, issued.winner)
    _token, first, _page = open_qr(app, client, issued.winner)
    _token, second, _page = open_qr(app, client, issued.winner)
    assert first != second
    assert requests.get(first.removeprefix("mobileSign:"), timeout=10).status_code == 410
    phone = Phone(pki.head)
    phone.scan(second)
    phone.document()
    with app.test_request_context("/ru/"):
        acts.issue_act(issued.winner, links=SiteLinks(), correction_reason="A typo.")
    db.session.commit()
    assert phone.put(sign_cms(issued.pdf, pki.head)).status_code == 410


def test_a_put_that_is_not_the_protocol_is_refused(app, issued, site, client):
    _token, _text, phone, _pki = scanned(app, client, issued)
    phone.document()
    url, headers = phone.api1["document"]["uri"], phone._headers()
    big = requests.put(url, data=b"x" * (2 * 1024 * 1024), headers=headers, timeout=10)
    assert big.status_code == 413  # refused before it is read
    answer = requests.put(url, json={"documentsToSign": []}, headers=headers, timeout=10)
    assert answer.status_code == 403
    assert the_session().status == S.REFUSED


def test_no_qr_code_for_an_act_that_may_not_be_signed(app, issued, client):
    token = acts.issue_link(issued.winner)
    issued.winner.status = W.ACT_SIGNED
    db.session.commit()
    with pytest.raises(acts.ActRefused):
        egov_signing.open_session(issued, secret="s", minutes=10)
    page = client.get(f"/kk/winner/{token}").get_data(as_text=True)
    assert 'id="egov-start"' not in page
    assert client.post(f"/kk/winner/{token}/egov").status_code == 400  # no CSRF token


def test_the_key_and_token_are_kept_only_as_digests(app, issued):
    session = egov_signing.open_session(issued, secret=app.config["SECRET_KEY"], minutes=10)
    db.session.commit()
    key = egov_signing.session_key(session, app.config["SECRET_KEY"])
    token = egov_signing.session_token(session, app.config["SECRET_KEY"])
    row = db.session.execute(sa.select(SigningSession.__table__)).one()._asdict()
    assert key not in str(row) and token not in str(row)
    assert egov_signing.session_for_key(key) is session
    assert egov_signing.session_for_key(egov_signing.session_key(session, "other")) is None
    assert redact_links(f"GET /egov-sign/{key}/document HTTP/1.1") == (
        "GET /egov-sign/…/document HTTP/1.1"
    )


def test_the_same_flow_through_sigex(app, issued, client):
    as_llp(issued.winner)
    pki = pki_for(app, issued.winner)
    with SigexStandIn() as sigex, serving(app) as url:
        app.config.update(EDS_QR_PROVIDER="sigex", SIGEX_URL=sigex.url, SIGEX_WAIT_SECONDS=20)
        token = acts.issue_link(issued.winner)
        db.session.commit()
        web = requests.Session()
        page = web.get(f"{url}/kk/winner/{token}", timeout=10).text
        # the job waits for SIGEX (the tests run jobs in the request that enqueues them)
        posted: dict = {}

        def start() -> None:
            posted["answer"] = web.post(
                f"{url}/kk/winner/{token}/egov",
                data={"csrf_token": csrf_from(page)},
                allow_redirects=False,
                timeout=60,
            )

        thread = threading.Thread(target=start)
        thread.start()
        text = None
        for _ in range(100):
            match = QR_TEXT.search(requests.get(f"{url}/kk/winner/{token}", timeout=10).text)
            if match:
                text = html.unescape(match.group(1))
                break
            threading.Event().wait(0.1)
        assert text and text.startswith(f"mobileSign:{sigex.url}/phone/")
        assert Phone(pki.head).sign(text).status_code == 200
        thread.join(timeout=60)
        assert posted["answer"].status_code == 302
    assert {"method": "POST", "path": "/api/egovQr"} in sigex.requests
    session = the_session()
    assert session.provider == "sigex" and session.status == S.SIGNED
    assert db.session.scalar(sa.select(ActSignature.received_via)) == "egov-qr"
    assert db.session.get(Winner, issued.winner_id).status == W.ACT_SIGNED


def test_sigex_gives_no_signature_in_time(app, issued):
    as_llp(issued.winner)
    with SigexStandIn(wait=0.2) as sigex:
        app.config.update(EDS_QR_PROVIDER="sigex", SIGEX_URL=sigex.url, SIGEX_WAIT_SECONDS=5)
        provider = egov_qr.provider_for(app.config)
        session = egov_signing.open_session(issued, secret="s", minutes=10, provider="sigex")
        start = provider.start(api1_url="", description="act")
        egov_signing.started(session, start.data, start.expires_at)
        db.session.commit()
        collect_sigex(session.id)
    assert the_session().status == S.EXPIRED
    with pytest.raises(egov_qr.ProviderError):
        egov_qr.SigexProvider("http://127.0.0.1:9", (0.5, 0.5)).start(api1_url="", description="")


def test_the_bodies_follow_the_protocol():
    body = {"documentsToSign": [{"document": {"file": {"data": "TUlJ"}}}]}
    assert egov_qr.cms_from_body(body) == b"MII"
    for bad in (None, {}, {"documentsToSign": [{}]}, {"documentsToSign": [1, 2]}):
        with pytest.raises(egov_qr.ProtocolError):
            egov_qr.cms_from_body(bad)
    with pytest.raises(egov_qr.ProtocolError):
        egov_qr.cms_from_body({"documentsToSign": [{"document": {"file": {"data": "%%"}}}]})
    with pytest.raises(ValueError):
        egov_qr.provider_for({"EDS_QR_PROVIDER": "other"})


def test_qr_codes_are_rate_limited_per_address(app, issued, client, monkeypatch):
    monkeypatch.setattr(egov, "STARTS_PER_HOUR", 2)
    token = acts.issue_link(issued.winner)
    db.session.commit()
    page = client.get(f"/kk/winner/{token}").get_data(as_text=True)
    statuses = [
        client.post(f"/kk/winner/{token}/egov", data={"csrf_token": csrf_from(page)}).status_code
        for _ in range(3)
    ]
    assert statuses == [302, 302, 429]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SigningSession)) == 2


def test_two_signatures_sent_at_once_are_verified_once(app, issued, site, client):
    _token, _text, phone, pki = scanned(app, client, issued)
    phone.document()
    cms = sign_cms(issued.pdf, pki.head)
    statuses: list[int] = []
    threads = [
        threading.Thread(target=lambda: statuses.append(phone.put(cms).status_code))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 410]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActSignature)) == 1
    assert the_session().status == S.SIGNED


def test_a_copy_read_before_the_signature_never_expires_the_signed_session(
    app, issued, site, client
):
    """A request that read the session while it waited, and looks again once another
    request has signed the act, finds the act no longer signable: it must not write
    "expired" over "signed" (the loser of two PUTs sent at once is such a request)."""
    _token, _text, phone, pki = scanned(app, client, issued)
    phone.document()
    stale = the_session()
    assert stale.status == S.WAITING and stale.act.winner.status == W.ACT_ISSUED
    assert phone.put(sign_cms(issued.pdf, pki.head)).status_code == 200  # another request
    db.session.expire(stale.act.winner)  # this copy sees the act signed, its session waiting
    assert stale.status == S.WAITING
    assert egov_signing.refresh(stale) == S.SIGNED
    db.session.commit()
    assert the_session().status == S.SIGNED
