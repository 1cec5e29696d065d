"""NCALayer: the page's address of it (a setting the CSP follows), the page's words when
it is missing, and the stand-in the browser tests sign with, talked to as a real client."""

from __future__ import annotations

import base64
import copy
import json

import pytest
import sqlalchemy as sa
from flask_babel import refresh
from markupsafe import escape
from websockets.sync.client import connect

from portal.campaign import acts
from portal.models import Winner, db
from portal.models.acts import ActSignature
from portal.services import eds
from portal.web.http import BadNcaLayerUrl
from tests.eds_pki import Key, issue, issue_tsa, name, timestamp_time, without_timestamp
from tests.helpers import Pki, csrf_from, make_app, pki_for, translated
from tests.ncalayer_standin import (
    GREETING,
    NOT_KAZTOKEN,
    PROBE,
    SIGNING_PARAMS,
    NcaLayerStandIn,
    closed_port_url,
)

ACT = b"%PDF-1.7 the act's exact bytes \x00\xff"


def sign_request(data: bytes = ACT, **changes) -> dict:
    """The request ncalayer-sign.js sends (SIGNING.md), with ``changes`` to its args."""
    args = {
        "allowedStorages": None,
        "format": "cms",
        "data": base64.b64encode(data).decode("ascii"),
        "signingParams": dict(SIGNING_PARAMS),
        "signerParams": {"extKeyUsageOids": ["1.3.6.1.5.5.7.3.4"]},
        "locale": "kk",
    }
    args.update(changes)
    return {"module": "kz.gov.pki.knca.basics", "method": "sign", "args": args}


def talk(standin: NcaLayerStandIn, *requests: dict) -> list[dict]:
    """Connect as a page does: the greeting, then each request and its answer in turn."""
    with connect(standin.url) as socket:
        answers = [json.loads(socket.recv(timeout=10))]
        for request in requests:
            socket.send(json.dumps(request))
            answers.append(json.loads(socket.recv(timeout=10)))
    return answers


BIN = "180240012345"


@pytest.fixture(scope="module")
def pki():
    return Pki(BIN, "ТОО «Тест»")


def test_the_standin_greets_says_it_is_no_kaztoken_and_signs_the_act_with_a_test_key(pki):
    standin = NcaLayerStandIn(ACT, pki.head, tsa=pki.tsa)
    with standin.running():
        greeting, probe, signed = talk(standin, PROBE, sign_request())
    assert greeting == GREETING and probe == NOT_KAZTOKEN and probe["code"] != "200"
    assert signed["status"] is True and standin.problems == []
    cms = base64.b64decode(signed["body"]["result"])
    assert standin.signed == [cms]
    # asked with tsaProfile, the CMS carries the test TSA's RFC 3161 token, whose time the
    # verifier proves (the TSA chains to the same anchor as the signer)
    gen_time = timestamp_time(cms)
    assert gen_time is not None
    report = eds.verify(ACT, cms, expected_bin=BIN, trust_anchors=[pki.ca.cert])
    assert report.ok, report
    assert report.signer.proven_time == gen_time
    (stamp,) = (check for check in report.checks if check.name == "timestamp")
    assert stamp.ok and stamp.params["state"] == "proven"
    assert report.signer.timestamp_authority == "TIME-STAMPING AUTHORITY"
    assert not eds.verify(ACT + b" ", cms, trust_anchors=[pki.ca.cert]).ok
    # the TSA is trusted through the anchors, not taken on its word
    elsewhere = issue_tsa(issue(name("ANOTHER CA"), Key.rsa(), ca=True))
    foreign = NcaLayerStandIn(ACT, pki.head, tsa=elsewhere)
    with foreign.running():
        signed = talk(foreign, sign_request())[1]
    report = eds.verify(
        ACT, base64.b64decode(signed["body"]["result"]), trust_anchors=[pki.ca.cert]
    )
    assert [check.code for check in report.checks if not check.ok] == ["timestamp-untrusted"]


def test_the_standin_will_not_sign_without_a_key_and_ncas_timestamp(pki):
    for answer in ("sign", "sign-pem"):
        with pytest.raises(ValueError, match="tsa"):
            NcaLayerStandIn(ACT, pki.head, answer=answer)
        with pytest.raises(ValueError, match="signer"):
            NcaLayerStandIn(ACT, None, answer=answer, tsa=pki.tsa)
    NcaLayerStandIn(ACT, answer="cancel")  # no key needed to be cancelled


def test_the_standin_answers_pem_in_an_array_cancelled_and_an_error(pki):
    answers = {}
    for answer in ("sign-pem", "cancel", "error"):
        standin = NcaLayerStandIn(ACT, pki.gost_ie, answer=answer, tsa=pki.gost_tsa)
        with standin.running():
            answers[answer] = talk(standin, sign_request())[1]
        assert standin.problems == []
    (pem,) = answers["sign-pem"]["body"]["result"]
    assert pem.startswith("-----BEGIN CMS-----\n") and pem.endswith("-----END CMS-----\n")
    der = base64.b64decode("".join(pem.splitlines()[1:-1]))
    report = eds.verify(ACT, der, trust_anchors=[pki.gost_ca.cert])  # GOST 2015, GOST TSA
    assert report.ok, report
    assert report.signer.proven_time == timestamp_time(der) is not None
    assert answers["cancel"] == {"status": True, "body": {}}
    assert answers["error"]["status"] is False
    assert answers["error"]["code"] == "INVOCATION_ERROR"


@pytest.mark.parametrize(
    "request_, problem",
    [
        (sign_request(ACT[:-1] + b"\xfe"), "data is not the act's exact bytes"),
        (sign_request(signingParams={**SIGNING_PARAMS, "tsaProfile": None}), "signingParams"),
        (
            sign_request(signingParams={"decode": True, "encapsulate": False, "digested": False}),
            "signingParams",
        ),
        (sign_request(signingParams={**SIGNING_PARAMS, "encapsulate": True}), "signingParams"),
        (sign_request(format="xml"), "format"),
        (sign_request(signerParams={"extKeyUsageOids": ["1.3.6.1.5.5.7.3.2"]}), "signerParams"),
        (sign_request(locale="en"), "locale"),
        ({**sign_request(), "module": "kz.gov.pki.knca.commonUtils"}, "not basics.sign"),
        ({"method": "sign", "module": "kz.gov.pki.knca.basics", "args": {}}, "request's keys"),
    ],
)
def test_the_standin_refuses_a_request_of_another_shape(pki, request_, problem):
    standin = NcaLayerStandIn(ACT, pki.head, tsa=pki.tsa)
    with standin.running():
        answer = talk(standin, request_)[1]
    assert answer["status"] is False and answer["code"] == "INVOCATION_ERROR"
    assert any(problem in found for found in standin.problems), standin.problems
    assert standin.signed == []


def test_the_standin_refuses_args_in_another_order(pki):
    shuffled = sign_request()
    shuffled["args"] = dict(reversed(list(copy.deepcopy(shuffled["args"]).items())))
    standin = NcaLayerStandIn(ACT, pki.head, tsa=pki.tsa)
    with standin.running():
        assert talk(standin, shuffled)[1]["status"] is False
    assert standin.problems == ["args' keys are not " + str(list(sign_request()["args"]))]


def test_the_pages_policy_lets_them_reach_ncalayer_where_the_setting_says(
    app, client, other_app, demo
):
    policy = client.get("/kk/").headers["Content-Security-Policy"]
    assert "connect-src 'self' wss://127.0.0.1:13579;" in policy
    elsewhere = other_app(EDS_NCALAYER_URL="ws://127.0.0.1:40123/")
    policy = elsewhere.test_client().get("/kk/").headers["Content-Security-Policy"]
    assert "connect-src 'self' ws://127.0.0.1:40123;" in policy
    assert "13579" not in policy


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:13579",
        "127.0.0.1:13579",
        "wss://",
        "wss://127.0.0.1:port",
        "wss://127.0.0.1:13579; script-src *",
        "wss://user@127.0.0.1:13579",
        None,
    ],
)
def test_the_portal_refuses_to_start_with_ncalayer_at_no_websocket_address(tmp_path, url):
    with pytest.raises(BadNcaLayerUrl, match="EDS_NCALAYER_URL"):
        make_app("sqlite://", tmp_path, EDS_NCALAYER_URL=url)


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_winners_page_names_ncalayer_and_what_to_do_without_it(
    app, client, issued, other_app, lang
):
    token = acts.issue_link(issued.winner)
    db.session.commit()
    elsewhere = other_app(EDS_NCALAYER_URL=closed_port_url())
    html = elsewhere.test_client().get(f"/{lang}/winner/{token}").get_data(as_text=True)
    assert f'data-url="{elsewhere.config["EDS_NCALAYER_URL"]}"' in html
    assert 'href="https://ncl.pki.gov.kz/"' in html and 'href="#egov-qr"' in html
    for message in (
        "NCALayer is not running on this computer.",
        "Sign with a QR code",
        "Download NCALayer from the NCA RK's site",
    ):
        words = translated(lang, message)
        assert words != message and words.replace("'", "&#39;") in html, message
    assert "detached" not in html.lower() and "CMS" not in html.replace(".cms", "")


# --- with a timestamp required: NCALayer's signature in, one without it out ----------


NO_TIMESTAMP = (
    "The signature has no timestamp from NCA RK's time-stamping service, which the "
    "portal requires: sign with NCALayer or eGov Mobile, which add it."
)


def send_signature(client, lang: str, token: str, cms: bytes):
    """Send ``cms`` from the winner's page in ``lang`` as ncalayer-sign.js does."""
    refresh()  # earlier requests left their language in the test's app context
    page = client.get(f"/{lang}/winner/{token}").get_data(as_text=True)
    return client.post(
        f"/{lang}/winner/{token}/signature",
        data={"csrf_token": csrf_from(page), "cms_base64": base64.b64encode(cms).decode()},
    )


def test_with_a_timestamp_required_ncalayers_signature_is_accepted_and_one_without_refused(
    app, client, issued
):
    winner = issued.winner
    winner.participant.legal_form = "LLP"
    signers = pki_for(app, winner)  # the CAs that issued the signer and the TSA: the anchors
    app.config["EDS_REQUIRE_TIMESTAMP"] = True
    token = acts.issue_link(winner)
    db.session.commit()
    standin = NcaLayerStandIn(issued.pdf, signers.head, tsa=signers.tsa)
    with standin.running():
        answer = talk(standin, PROBE, sign_request(issued.pdf, locale="ru"))[2]
    assert standin.problems == []
    stamped = base64.b64decode(answer["body"]["result"])
    gen_time = timestamp_time(stamped)
    assert gen_time is not None

    # the same signature without its timestamp (as a tool that adds none gives it) is
    # refused, the reason in the page's language, and nothing is stored
    bare = without_timestamp(stamped)
    assert timestamp_time(bare) is None
    for lang in ("kk", "ru"):
        response = send_signature(client, lang, token, bare)
        assert response.status_code == 400
        words = translated(lang, NO_TIMESTAMP)
        assert words != NO_TIMESTAMP, f"the reason is not translated into {lang}"
        page = response.get_data(as_text=True)
        assert f'<li class="not-ok">✗ {escape(words)}</li>' in page, lang
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActSignature)) == 0
    assert db.session.get(Winner, winner.id).status == Winner.ACT_ISSUED

    # NCALayer's, timestamped by the test TSA, is accepted with its token's time as proven
    response = send_signature(client, "kk", token, stamped)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    signature = db.session.scalar(sa.select(ActSignature))
    assert signature.cms == stamped and signature.received_via == "ncalayer"
    assert signature.proven_time == gen_time
    assert db.session.get(Winner, winner.id).status == Winner.ACT_SIGNED
