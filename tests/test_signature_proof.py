"""An accepted act signature keeps its revocation evidence and stays provable (issue 17,
parts 5 and 6): stored with the signature, shown to staff and by ``flask eds verify``,
and re-verified "as at acceptance" after its certificate expired, without the network."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_babel import force_locale

from portal.campaign import acts, signature_proof
from portal.models import db
from portal.models.acts import ActSignature
from portal.services import eds
from portal.wording.eds import describe_revocation_evidence
from tests.eds_pki import (
    INDIVIDUAL,
    SIGNING,
    CrlServer,
    Key,
    OcspResponder,
    issue,
    make_crl,
    name,
    sign_cms,
    unreachable_url,
    with_crl_points,
)

CRL_PATH = "/crl/test_ca.crl"


def as_ie(app, act, server, tmp_path, **validity):
    """The winner an IE; a test CA (the app's only anchor) whose CRL ``server`` serves; a
    signing certificate for the winner's IIN naming it."""
    act.winner.participant.legal_form = "IE"
    ca = issue(name("TEST CA (CRL)"), Key.rsa(), ca=True)
    person = issue(
        name("PETROV AIDAR", iin=act.winner.participant.bin_iin),
        Key.rsa(1024),
        ca,
        usages=(SIGNING, INDIVIDUAL),
        **validity,
    )
    server.lists[CRL_PATH] = make_crl(ca, {}, number=42)
    app.config["EDS_TRUST_ANCHORS"] = [ca.cert]
    app.config["EDS_CRL_CACHE"] = str(tmp_path / "crl")
    return ca, with_crl_points(person, ca, server.url_of(CRL_PATH))


def stored_signature() -> ActSignature:
    return db.session.scalar(sa.select(ActSignature))


def test_ocsp_down_the_crl_decides_and_its_facts_are_stored_and_shown(
    app, issued, tmp_path, client, auth, runner
):
    with CrlServer() as server, unreachable_url() as ocsp_url:
        app.config["EDS_OCSP_URL"] = ocsp_url
        _, signer = as_ie(app, issued, server, tmp_path)
        report = acts.sign_with_eds(
            issued, sign_cms(issued.pdf, signer), eds_settings=eds.settings_from_config(app.config)
        )
        db.session.commit()
        assert report.ok, report.codes
        crl_der = server.lists[CRL_PATH]
    stored = stored_signature()
    assert stored.revocation_method == "crl" and stored.revocation_der is None
    facts = stored.revocation_evidence
    assert facts["number"] == 42 and facts["url"].endswith(CRL_PATH)
    assert facts["sha256"] == hashlib.sha256(crl_der).hexdigest()
    assert facts["this_update"] and facts["next_update"] and facts["ocsp_failure"]
    assert stored.report["signer"]["revocation"]["number"] == 42

    auth.login("marketing")
    response = client.get(f"/admin/ismet-2022/winners/{issued.winner_id}")
    assert response.status_code == 200
    assert facts["sha256"] in response.get_data(as_text=True)
    check = client.get(f"/admin/ismet-2022/act-signatures/{stored.id}").get_data(as_text=True)
    assert "flash success" in check and facts["sha256"] in check
    result = runner.invoke(args=["eds", "verify", "--stored", str(stored.id)])
    assert result.exit_code == 0, result.output
    assert facts["sha256"] in result.output
    assert "pass revocation" in result.output
    for lang, words in (("kk", "тізім"), ("ru", "список")):
        with force_locale(lang):
            text = describe_revocation_evidence(stored.revocation_method, facts)
        assert words in text and "42" in text and facts["sha256"] in text, lang


def test_a_certificate_expired_since_still_verifies_as_at_acceptance(
    app, issued, tmp_path, runner, client, auth
):
    now = datetime.now(UTC).replace(microsecond=0)
    signed_at = now - timedelta(days=10)
    with CrlServer() as server:
        ca, signer = as_ie(
            app,
            issued,
            server,
            tmp_path,
            not_before=now - timedelta(days=60),
            not_after=now - timedelta(days=1),
        )
        with OcspResponder(ca) as responder:
            app.config["EDS_OCSP_URL"] = responder.url
            cms = sign_cms(issued.pdf, signer, signing_time=signed_at)
            report = acts.sign_with_eds(
                issued, cms, eds_settings=eds.settings_from_config(app.config)
            )
            db.session.commit()
            assert report.ok, report.codes
        assert server.gets == []  # OCSP answered: no CRL
    stored = stored_signature()
    assert stored.revocation_method == "ocsp" and stored.revocation_der[:1] == b"\x30"
    assert signature_proof.acceptance_time(stored) == signed_at

    settings = eds.settings_from_config(app.config)  # the responder is gone
    today = eds.verify(issued.pdf, cms, at=now, **acts.expected_signer(issued.winner), **settings)
    assert "expired" in today.codes
    again = signature_proof.reverify(stored, settings)
    assert again.ok, again.codes
    revocation = next(c for c in again.checks if c.name == "revocation")
    assert revocation.params["how"] == "stored"
    validity = next(c for c in again.checks if c.name == "validity")
    assert validity.params["at"] == signed_at.isoformat()

    result = runner.invoke(args=["eds", "verify", "--stored", str(stored.id), "--lang", "ru"])
    assert result.exit_code == 0, result.output
    assert "VALID" in result.output and signed_at.isoformat() in result.output
    assert "OCSP" in result.output
    assert runner.invoke(args=["eds", "verify", "--stored", "999999"]).exit_code == 1
    assert runner.invoke(args=["eds", "verify"]).exit_code == 2

    auth.login("marketing")
    page = client.get(f"/admin/ismet-2022/act-signatures/{stored.id}").get_data(as_text=True)
    assert "flash success" in page

    # the stored OCSP answer altered: the re-verification says so
    broken = bytearray(stored.revocation_der)
    broken[-3] ^= 1
    stored.revocation_der = bytes(broken)
    db.session.commit()
    assert signature_proof.reverify(stored, settings).codes == ["ocsp-invalid"]
    result = runner.invoke(args=["eds", "verify", "--stored", str(stored.id)])
    assert result.exit_code == 1 and "ocsp-invalid" in result.output


def test_a_signature_accepted_without_a_revocation_check_is_re_verified_without_one(
    app, issued, tmp_path
):
    with CrlServer() as server:
        _, signer = as_ie(app, issued, server, tmp_path)
        settings = eds.settings_from_config(app.config)  # no EDS_OCSP_URL: no check
        assert acts.sign_with_eds(issued, sign_cms(issued.pdf, signer), eds_settings=settings).ok
        db.session.commit()
        assert server.gets == []
    stored = stored_signature()
    assert stored.revocation_method == "" and stored.revocation_evidence == {}
    again = signature_proof.reverify(stored, settings)
    assert again.ok and "revocation" not in [c.name for c in again.checks]
