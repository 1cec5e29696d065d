"""NCALayer: the page's address of it (a setting the CSP follows), the page's words when
it is missing, and the stand-in the browser tests sign with, talked to as a real client."""

from __future__ import annotations

import base64
import copy
import json

import pytest
from websockets.sync.client import connect

from portal.campaign import acts
from portal.models import db
from portal.services import eds
from portal.web.http import BadNcaLayerUrl
from tests.helpers import Pki, make_app, translated
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
    standin = NcaLayerStandIn(ACT, pki.head)
    with standin.running():
        greeting, probe, signed = talk(standin, PROBE, sign_request())
    assert greeting == GREETING and probe == NOT_KAZTOKEN and probe["code"] != "200"
    assert signed["status"] is True and standin.problems == []
    cms = base64.b64decode(signed["body"]["result"])
    report = eds.verify(ACT, cms, expected_bin=BIN, trust_anchors=[pki.ca.cert])
    assert report.ok, report
    assert not eds.verify(ACT + b" ", cms, trust_anchors=[pki.ca.cert]).ok


def test_the_standin_answers_pem_in_an_array_cancelled_and_an_error(pki):
    answers = {}
    for answer in ("sign-pem", "cancel", "error"):
        standin = NcaLayerStandIn(ACT, pki.gost_ie, answer=answer)
        with standin.running():
            answers[answer] = talk(standin, sign_request())[1]
        assert standin.problems == []
    (pem,) = answers["sign-pem"]["body"]["result"]
    assert pem.startswith("-----BEGIN CMS-----\n") and pem.endswith("-----END CMS-----\n")
    der = base64.b64decode("".join(pem.splitlines()[1:-1]))
    assert eds.verify(ACT, der, trust_anchors=[pki.gost_ca.cert]).ok  # GOST 2015
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
    standin = NcaLayerStandIn(ACT, pki.head)
    with standin.running():
        answer = talk(standin, request_)[1]
    assert answer["status"] is False and answer["code"] == "INVOCATION_ERROR"
    assert any(problem in found for found in standin.problems), standin.problems
    assert standin.signed == []


def test_the_standin_refuses_args_in_another_order(pki):
    shuffled = sign_request()
    shuffled["args"] = dict(reversed(list(copy.deepcopy(shuffled["args"]).items())))
    standin = NcaLayerStandIn(ACT, pki.head)
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
