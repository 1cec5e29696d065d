"""EDS (NCA RK) verification: real NCA test samples, a generated PKI, OCSP and NCANode.

Nothing here replaces the code under test: signatures are real (RSA and GOST 2015 in
NCA's encoding), the OCSP responder and the NCANode stand-in are real HTTP servers, and
the CLI runs in a real app.
"""

from __future__ import annotations

import ast
import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms as asn1_cms
from asn1crypto import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from flask import Flask

from portal.commands.eds import eds_cli
from portal.services import eds
from portal.services.eds import CODES, TEST_ANCHORS, Check, verify
from portal.wording.eds import describe_eds_check
from tests.eds_pki import (
    AUTHENTICATION,
    EMPLOYEE,
    FIRST_HEAD,
    INDIVIDUAL,
    LEGAL_ENTITY,
    OCSP_SIGNING,
    RIGHT_TO_SIGN,
    SIGNING,
    Issued,
    Key,
    NCANodeStandIn,
    OcspResponder,
    cms_with_certificate,
    issue,
    name,
    sign_cms,
    unreachable_url,
)
from tests.helpers import make_app

ROOT = Path(__file__).resolve().parents[1]
# A copy of ../shared/testdata/eds (NCA RK's public test material, see its MANIFEST.md),
# so that the suite runs from any clone.
SHARED = ROOT / "tests" / "data" / "eds"
RSA_TIME = datetime(2021, 7, 1, tzinfo=UTC)
GOST_TIME = datetime(2022, 9, 27, 21, 17, 59, tzinfo=UTC)
P12_TIME = datetime(2022, 6, 1, tzinfo=UTC)
ACT = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% acceptance-transfer act, prize 7\n%%EOF\n"
BIN = "123456789021"  # NCA's test BIN: fails the control digit, accepted as it is
IIN = "123456789011"
OTHER_IIN = "900101300123"
COMPANY = 'ТОО "ТЕСТ"'


def sample(file: str) -> bytes:
    return (SHARED / file).read_bytes()


def certificate(file: str) -> x509.Certificate:
    """A certificate of the samples (the person certificates are PEM despite ".cer")."""
    return eds.load_trust_anchors([sample(file)])[0]


def codes(report: eds.Report) -> list[str]:
    return [check.code for check in report.checks if not check.ok]


def names(report: eds.Report) -> list[str]:
    return [check.name for check in report.checks]


# --- the real NCA RK test samples ------------------------------------------------------


def test_the_real_rsa_sample_verifies():
    report = verify(
        None,
        sample("SIGNED_CMS_ONE_SIGNER.p7s"),
        expected_iin=IIN,
        at=RSA_TIME,
        trust_anchors=TEST_ANCHORS,
    )
    assert report.ok, report.as_dict()
    assert names(report) == [
        "cms",
        "certificate",
        "algorithm",
        "digest",
        "signature",
        "trust",
        "timestamp",  # none in NCA's 2022 sample: passes, marked "no timestamp"
        "validity",
        "key-usage",
        "iin",
    ]
    facts = report.facts
    assert facts["common_name"] == "ТЕСТОВ ТЕСТ"
    assert facts["iin"] == IIN and facts["bin"] is None
    assert facts["roles"] == ["individual"]
    assert facts["serial"] == "4279390a141f5353a62947b61ed65e81741467d1"
    assert "ҰКО 3.0 (RSA TEST)" in facts["issuer"]
    assert facts["signing_time"] == "2022-09-28T14:40:30+00:00"
    assert facts["algorithm"] == "RSA/SHA-256"


def test_the_real_sample_verifies_detached_with_its_document():
    report = verify(
        sample("SIGNED_CMS_ONE_SIGNER.content.txt"),
        sample("SIGNED_CMS_ONE_SIGNER.p7s"),
        at=RSA_TIME,
        trust_anchors=TEST_ANCHORS,
    )
    assert report.ok
    assert verify(
        sample("CMS_INTEGRATION_SIGNED_CMS.content.txt"),
        sample("CMS_INTEGRATION_SIGNED_CMS.p7s"),
        at=RSA_TIME,
        trust_anchors=TEST_ANCHORS,
    ).ok


def test_pem_and_base64_text_are_accepted():
    der = sample("SIGNED_CMS_ONE_SIGNER.p7s")
    text = base64.b64encode(der)
    wrapped = b"\n".join(text[i : i + 64] for i in range(0, len(text), 64))
    armoured = b"-----BEGIN CMS-----\n" + wrapped + b"\n-----END CMS-----\n"
    for form in (text, wrapped + b"\n", armoured):
        assert verify(None, form, at=RSA_TIME, trust_anchors=TEST_ANCHORS).ok


def test_the_gost_2015_signer_of_the_two_signer_sample_verifies():
    report = verify(
        None,
        sample("SIGNED_CMS.p7s"),
        expected_iin="123456789012",
        at=GOST_TIME,
        trust_anchors=TEST_ANCHORS,
    )
    assert report.ok, report.as_dict()
    assert report.signer.index == 0
    assert report.signer.algorithm == "GOST 34.10-2015 512/Streebog-512"
    assert report.facts["common_name"] == "ТЕСТТОВ ТЕСТТ"
    assert "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST 2022" in report.facts["issuer"]
    # The RSA signer is reported too: its certificate had expired by then.
    rsa_signer = report.signers[1]
    assert not rsa_signer.ok
    assert [c.code for c in rsa_signer.checks if not c.ok] == ["expired", "wrong-iin"]


def test_the_rsa_signer_of_the_two_signer_sample_at_its_own_time():
    report = verify(None, sample("SIGNED_CMS.p7s"), at=RSA_TIME, trust_anchors=TEST_ANCHORS)
    assert report.ok
    assert report.signer.index == 1
    assert [c.code for c in report.signers[0].checks if not c.ok] == ["not-yet-valid"]


def test_the_signing_time_is_used_when_no_time_is_given():
    # The GOST signer signed at 2022-09-27T21:17:59Z, within its certificate's validity.
    report = verify(None, sample("SIGNED_CMS.p7s"), trust_anchors=TEST_ANCHORS)
    assert report.ok and report.signer.index == 0
    assert report.signer.checked_at == GOST_TIME
    # The RSA-only sample signed after its certificate had expired.
    assert codes(verify(None, sample("SIGNED_CMS_ONE_SIGNER.p7s"), trust_anchors=TEST_ANCHORS)) == [
        "expired"
    ]


def test_a_changed_content_byte_fails_the_digest():
    der = sample("SIGNED_CMS_ONE_SIGNER.p7s")
    assert der.count(b"test123") == 1
    changed = der.replace(b"test123", b"test124")
    report = verify(None, changed, at=RSA_TIME, trust_anchors=TEST_ANCHORS)
    assert codes(report) == ["digest-mismatch"]
    # The signature over the signed attributes is still checked, and still good.
    assert [c.name for c in report.checks if c.ok][-5:] == [
        "signature",
        "trust",
        "timestamp",
        "validity",
        "key-usage",
    ]


def test_another_document_fails_the_digest():
    for document in (b"test124", b"lol_kek"):
        report = verify(
            document, sample("SIGNED_CMS_ONE_SIGNER.p7s"), at=RSA_TIME, trust_anchors=TEST_ANCHORS
        )
        assert codes(report) == ["digest-mismatch"]


def _flip_signature_byte(der: bytes, signer: int) -> bytes:
    signed = asn1_cms.ContentInfo.load(der)["content"]
    value = signed["signer_infos"][signer]["signature"].native
    assert der.count(value) == 1
    changed = value[:10] + bytes([value[10] ^ 0x01]) + value[11:]
    return der.replace(value, changed)


def test_a_changed_signature_byte_fails_the_signature():
    der = _flip_signature_byte(sample("SIGNED_CMS_ONE_SIGNER.p7s"), 0)
    assert codes(verify(None, der, at=RSA_TIME, trust_anchors=TEST_ANCHORS)) == ["bad-signature"]
    der = _flip_signature_byte(sample("SIGNED_CMS.p7s"), 0)
    report = verify(None, der, at=GOST_TIME, trust_anchors=TEST_ANCHORS)
    assert not report.ok
    assert [c.code for c in report.signers[0].checks if not c.ok] == ["bad-signature"]


def test_the_production_anchors_do_not_trust_the_test_ca():
    report = verify(None, sample("SIGNED_CMS_ONE_SIGNER.p7s"), at=RSA_TIME)
    assert codes(report) == ["untrusted"]
    assert eds.load_trust_anchors(None)  # the shipped production folder is not empty


def _p12_signer(file: str) -> Issued:
    private, cert, _ = pkcs12.load_key_and_certificates(sample(file), b"Qwerty12")
    key = Key("rsa", private, b"")
    return Issued(x509.Certificate.load(cert.public_bytes(Encoding.DER)), key)


def test_a_real_authentication_key_is_refused():
    signer = _p12_signer("KEY_INDIVIDUAL_AUTH_REVOKED_2004.p12")
    assert AUTHENTICATION in [p.dotted for p in signer.cert.extended_key_usage_value]
    cms = sign_cms(ACT, signer, signing_time=P12_TIME)
    report = verify(ACT, cms, expected_iin=IIN, trust_anchors=TEST_ANCHORS)
    assert codes(report) == ["not-signing-key"]
    # The same person's signing key passes (revocation is not asked: no OCSP configured).
    signing = _p12_signer("KEY_INDIVIDUAL_SIGN_REVOKED_2004.p12")
    report = verify(
        ACT,
        sign_cms(ACT, signing, signing_time=P12_TIME),
        expected_iin=IIN,
        trust_anchors=TEST_ANCHORS,
    )
    assert report.ok, report.as_dict()


def test_the_real_auth_certificate_is_not_a_signing_key():
    cert = certificate("individual_valid_sign_2004_rsa_auth.cer")
    assert eds._key_usage_check(cert).code == "not-signing-key"
    signing = certificate("individual_valid_sign_2004_rsa.cer")
    assert eds._key_usage_check(signing).ok


def test_a_gost_2004_signature_is_refused_without_ncanode():
    ceo = certificate("ceo_valid_sign_2004_gost.cer")
    cms = cms_with_certificate(ACT, ceo)
    report = verify(ACT, cms, expected_bin=BIN, at=P12_TIME, trust_anchors=TEST_ANCHORS)
    assert report.code == "gost-2004-unsupported"
    assert codes(report) == ["gost-2004-unsupported"]
    assert "digest" not in names(report) and "signature" not in names(report)
    # What can be read from the certificate is still checked and reported.
    assert report.signer.roles == ["legal-entity", "first-head"]
    assert report.signer.bin == BIN and report.signer.organisation == 'АО "ТЕСТ"'


def test_the_role_oids_are_in_the_extended_key_usage():
    ceo = certificate("ceo_valid_sign_2004_gost.cer")
    assert FIRST_HEAD in [p.dotted for p in ceo.extended_key_usage_value]
    assert FIRST_HEAD not in [p["policy_identifier"].dotted for p in ceo.certificate_policies_value]
    assert eds.role_oids(ceo) == [LEGAL_ENTITY, FIRST_HEAD]


# --- malformed input -----------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a signature",
        b"\x30\x03\x02\x01\x01",
        base64.b64encode(b"\x04\x02hi"),
        b"-----BEGIN CMS-----\n!!\n-----END CMS-----",
    ],
)
def test_malformed_input_is_reported(data):
    report = verify(ACT, data, trust_anchors=TEST_ANCHORS)
    assert not report.ok and codes(report) == ["malformed"] and names(report) == ["cms"]


def test_a_detached_signature_needs_the_document(pki):
    cms = sign_cms(ACT, pki.rsa_ie)
    assert codes(verify(None, cms, trust_anchors=pki.anchors)) == ["no-document"]


def test_a_signed_data_without_signers():
    der = sample("SIGNED_CMS_ONE_SIGNER.p7s")
    info = asn1_cms.ContentInfo.load(der)
    signed = info["content"]
    empty = asn1_cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [],
            "encap_content_info": signed["encap_content_info"],
            "signer_infos": [],
        }
    )
    cms = asn1_cms.ContentInfo({"content_type": "signed_data", "content": empty}).dump()
    assert codes(verify(None, cms, trust_anchors=TEST_ANCHORS)) == ["no-signer"]


# --- a generated PKI with NCA's layout -------------------------------------------------


class PKI:
    def __init__(self) -> None:
        ca_years = {"not_before": datetime(2019, 1, 1, tzinfo=UTC), "ca": True}
        self.rsa_ca = issue(name("TEST ҰКО (RSA)"), Key.rsa(), **ca_years)
        self.gost_ca = issue(name("TEST ҰКО (GOST 2015)"), Key.gost(), **ca_years)
        # Same names, other keys: a look-alike of each CA.
        self.rsa_fake_ca = issue(name("TEST ҰКО (RSA)"), Key.rsa(), **ca_years)
        self.gost_fake_ca = issue(name("TEST ҰКО (GOST 2015)"), Key.gost(), **ca_years)
        self.anchors = [self.rsa_ca.cert, self.gost_ca.cert]
        llp = {"iin": IIN, "organisation": COMPANY, "bin": BIN}
        head = (SIGNING, LEGAL_ENTITY, FIRST_HEAD)
        signatory = (SIGNING, LEGAL_ENTITY, RIGHT_TO_SIGN)
        for kind, ca, fake in (
            ("rsa", self.rsa_ca, self.rsa_fake_ca),
            ("gost", self.gost_ca, self.gost_fake_ca),
        ):
            new = Key.rsa if kind == "rsa" else Key.gost
            setattr(
                self,
                f"{kind}_head",
                issue(name("ДИРЕКТОРОВ ДИРЕКТОР", **llp), new(), ca, usages=head),
            )
            setattr(
                self,
                f"{kind}_signatory",
                issue(name("ПОДПИСАНТОВ ПОДПИСАНТ", **llp), new(), ca, usages=signatory),
            )
            setattr(
                self,
                f"{kind}_ie",
                issue(
                    name("ПРЕДПРИНИМАТЕЛЕВ ИП", iin=OTHER_IIN),
                    new(),
                    ca,
                    usages=(SIGNING, INDIVIDUAL),
                ),
            )
            setattr(
                self,
                f"{kind}_fake",
                issue(name("ДИРЕКТОРОВ ДИРЕКТОР", **llp), new(), fake, usages=head),
            )
        self.rsa_employee = issue(
            name("СОТРУДНИКОВ СОТРУДНИК", **llp),
            Key.rsa(),
            self.rsa_ca,
            usages=(SIGNING, LEGAL_ENTITY, EMPLOYEE),
        )
        self.rsa_auth = issue(
            name("ДИРЕКТОРОВ ДИРЕКТОР", **llp),
            Key.rsa(),
            self.rsa_ca,
            usages=(AUTHENTICATION, LEGAL_ENTITY, FIRST_HEAD),
            key_usage=("digital_signature", "key_encipherment"),
        )
        self.rsa_expired = issue(
            name("ДИРЕКТОРОВ ДИРЕКТОР", **llp),
            Key.rsa(),
            self.rsa_ca,
            usages=head,
            not_before=datetime(2020, 1, 1, tzinfo=UTC),
            not_after=datetime(2021, 1, 1, tzinfo=UTC),
        )
        self.rsa_responder = issue(
            name("OCSP RESPONDER"),
            Key.rsa(),
            self.rsa_ca,
            usages=(OCSP_SIGNING,),
            key_usage=("digital_signature",),
        )
        # An intermediate CA under a root: only the root is an anchor.
        self.root = issue(name("TEST ROOT (RSA)"), Key.rsa(), ca=True)
        self.intermediate = issue(name("TEST ҰКО 2 (RSA)"), Key.rsa(), self.root, ca=True)
        self.under_intermediate = issue(
            name("ПРЕДПРИНИМАТЕЛЕВ ИП", iin=OTHER_IIN), Key.rsa(), self.intermediate
        )


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI()


SIGNERS = ["rsa_head", "rsa_signatory", "gost_head", "gost_signatory"]


@pytest.mark.parametrize("who", SIGNERS)
def test_an_llp_head_or_signatory_is_accepted(pki, who):
    signer = getattr(pki, who)
    report = verify(ACT, sign_cms(ACT, signer), expected_bin=BIN, trust_anchors=pki.anchors)
    assert report.ok, report.as_dict()
    assert names(report)[-3:] == ["key-usage", "bin", "role"]
    assert report.facts["bin"] == BIN and report.facts["organisation"] == COMPANY
    expected_role = "first-head" if who.endswith("head") else "right-to-sign"
    assert report.facts["roles"] == ["legal-entity", expected_role]
    assert report.facts["serial"] == format(signer.cert.serial_number, "x")


@pytest.mark.parametrize("kind", ["rsa", "gost"])
def test_an_ie_is_accepted_attached_or_detached(pki, kind):
    signer = getattr(pki, f"{kind}_ie")
    for detached in (True, False):
        cms = sign_cms(ACT, signer, detached=detached)
        report = verify(
            ACT if detached else None, cms, expected_iin=OTHER_IIN, trust_anchors=pki.anchors
        )
        assert report.ok, report.as_dict()
        assert report.facts["iin"] == OTHER_IIN and report.facts["bin"] is None


@pytest.mark.parametrize("kind", ["rsa", "gost"])
def test_an_altered_act_is_refused(pki, kind):
    cms = sign_cms(ACT, getattr(pki, f"{kind}_head"))
    altered = ACT.replace(b"prize 7", b"prize 9")
    report = verify(altered, cms, expected_bin=BIN, trust_anchors=pki.anchors)
    assert codes(report) == ["digest-mismatch"]


@pytest.mark.parametrize("kind", ["rsa", "gost"])
def test_a_forged_signature_is_refused(pki, kind):
    cms = _flip_signature_byte(sign_cms(ACT, getattr(pki, f"{kind}_head")), 0)
    assert codes(verify(ACT, cms, expected_bin=BIN, trust_anchors=pki.anchors)) == ["bad-signature"]


@pytest.mark.parametrize("kind", ["rsa", "gost"])
def test_a_wrong_bin_is_refused(pki, kind):
    cms = sign_cms(ACT, getattr(pki, f"{kind}_head"))
    report = verify(ACT, cms, expected_bin="123456789022", trust_anchors=pki.anchors)
    assert codes(report) == ["wrong-bin"]
    assert report.failures[0].params == {"expected": "123456789022", "found": BIN}


def test_an_individual_certificate_is_refused_for_an_llp(pki):
    report = verify(ACT, sign_cms(ACT, pki.rsa_ie), expected_bin=BIN, trust_anchors=pki.anchors)
    assert codes(report) == ["wrong-bin", "not-legal-entity-role"]


def test_an_employee_without_the_right_to_sign_is_refused(pki):
    report = verify(
        ACT, sign_cms(ACT, pki.rsa_employee), expected_bin=BIN, trust_anchors=pki.anchors
    )
    assert codes(report) == ["not-legal-entity-role"]


def test_a_wrong_iin_is_refused(pki):
    report = verify(ACT, sign_cms(ACT, pki.gost_ie), expected_iin=IIN, trust_anchors=pki.anchors)
    assert codes(report) == ["wrong-iin"]


def test_an_authentication_key_is_refused(pki):
    report = verify(ACT, sign_cms(ACT, pki.rsa_auth), expected_bin=BIN, trust_anchors=pki.anchors)
    assert codes(report) == ["not-signing-key"]


def test_an_expired_certificate_is_refused(pki):
    cms = sign_cms(ACT, pki.rsa_expired)
    assert codes(verify(ACT, cms, expected_bin=BIN, trust_anchors=pki.anchors)) == ["expired"]
    # Checked at a time when it was valid, it passes; before, it was not yet valid.
    assert verify(ACT, cms, expected_bin=BIN, at=datetime(2020, 6, 1), trust_anchors=pki.anchors).ok
    early = verify(ACT, cms, at=datetime(2019, 6, 1, tzinfo=UTC), trust_anchors=pki.anchors)
    assert codes(early) == ["not-yet-valid"]


def test_a_signing_time_outside_the_validity_is_refused(pki):
    cms = sign_cms(ACT, pki.rsa_head, signing_time=datetime.now(UTC) + timedelta(days=800))
    assert codes(verify(ACT, cms, trust_anchors=pki.anchors)) == ["expired"]


@pytest.mark.parametrize("kind", ["rsa", "gost"])
def test_a_look_alike_ca_is_untrusted(pki, kind):
    cms = sign_cms(ACT, getattr(pki, f"{kind}_fake"))
    report = verify(ACT, cms, expected_bin=BIN, trust_anchors=pki.anchors)
    assert codes(report) == ["untrusted"]
    # With the look-alike as the anchor it would pass: the key made the difference.
    fake_ca = getattr(pki, f"{kind}_fake_ca")
    assert verify(ACT, cms, expected_bin=BIN, trust_anchors=[fake_ca.cert]).ok


def test_an_unknown_ca_is_untrusted(pki):
    cms = sign_cms(ACT, pki.rsa_head)
    assert codes(verify(ACT, cms, trust_anchors=[pki.gost_ca.cert])) == ["untrusted"]


def test_an_intermediate_ca_carried_in_the_cms_links_to_the_anchor(pki):
    cms = sign_cms(ACT, pki.under_intermediate, extra=[pki.intermediate])
    report = verify(ACT, cms, expected_iin=OTHER_IIN, trust_anchors=[pki.root.cert])
    assert report.ok, report.as_dict()
    assert codes(
        verify(ACT, sign_cms(ACT, pki.under_intermediate), trust_anchors=[pki.root.cert])
    ) == ["untrusted"]


def test_trust_anchors_from_a_folder(pki, tmp_path):
    (tmp_path / "rsa.cer").write_bytes(pki.rsa_ca.der)
    pem = base64.encodebytes(pki.gost_ca.der).decode()
    (tmp_path / "gost.pem").write_text(
        f"-----BEGIN CERTIFICATE-----\n{pem}-----END CERTIFICATE-----\n"
    )
    (tmp_path / "notes.txt").write_text("not a certificate")
    anchors = eds.load_trust_anchors(tmp_path)
    assert {a.sha256 for a in anchors} == {pki.rsa_ca.cert.sha256, pki.gost_ca.cert.sha256}
    assert verify(
        ACT, sign_cms(ACT, pki.gost_head), expected_bin=BIN, trust_anchors=str(tmp_path)
    ).ok


def test_the_report_is_json(pki):
    report = verify(ACT, sign_cms(ACT, pki.rsa_head), expected_bin=BIN, trust_anchors=pki.anchors)
    stored = json.loads(json.dumps(report.as_dict()))
    assert stored["ok"] is True and stored["code"] is None
    assert stored["signer"]["iin"] == IIN and stored["expected_bin"] == BIN
    assert [c["name"] for c in stored["checks"]] == names(report)
    refused = verify(b"other", sign_cms(ACT, pki.rsa_head), trust_anchors=pki.anchors).as_dict()
    assert json.loads(json.dumps(refused))["code"] == "digest-mismatch"


# --- revocation through OCSP ---------------------------------------------------------


@pytest.mark.parametrize("kind", ["rsa", "gost"])
def test_ocsp_good_and_revoked(pki, kind):
    ca = getattr(pki, f"{kind}_ca")
    signer = getattr(pki, f"{kind}_head")
    cms = sign_cms(ACT, signer)
    with OcspResponder(ca) as responder:
        report = verify(
            ACT, cms, expected_bin=BIN, trust_anchors=pki.anchors, ocsp_url=responder.url
        )
        assert report.ok, report.as_dict()
        assert names(report)[-1] == "revocation"
        assert responder.requests[-1]["headers"]["Content-Type"] == "application/ocsp-request"
        revoked_at = datetime(2024, 3, 1, tzinfo=UTC)
        responder.settings.revoked[signer.cert.serial_number] = revoked_at
        report = verify(
            ACT, cms, expected_bin=BIN, trust_anchors=pki.anchors, ocsp_url=responder.url
        )
        assert codes(report) == ["revoked"]
        assert report.failures[0].params["revoked_at"] == revoked_at.isoformat()


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("unknown", "ocsp-unknown"),
        ("http-500", "ocsp-unavailable"),
        ("garbage", "ocsp-invalid"),
        ("foreign-key", "ocsp-invalid"),
        ("wrong-nonce", "ocsp-invalid"),
    ],
)
def test_ocsp_answers_that_do_not_count(pki, mode, code):
    cms = sign_cms(ACT, pki.rsa_head)
    with OcspResponder(pki.rsa_ca) as responder:
        responder.settings.mode = mode
        report = verify(
            ACT, cms, trust_anchors=pki.anchors, ocsp_url=responder.url, crl_fallback=False
        )
    assert codes(report) == [code]


def test_ocsp_unreachable(pki):
    with unreachable_url() as url:
        report = verify(
            ACT,
            sign_cms(ACT, pki.rsa_head),
            trust_anchors=pki.anchors,
            ocsp_url=url,
            timeout=2,
            crl_fallback=False,
        )
    assert codes(report) == ["ocsp-unavailable"]


def test_a_delegated_ocsp_responder_is_accepted(pki):
    signer = pki.rsa_head
    with OcspResponder(pki.rsa_ca, responder=pki.rsa_responder) as responder:
        responder.settings.mode = "delegated"
        report = verify(
            ACT, sign_cms(ACT, signer), trust_anchors=pki.anchors, ocsp_url=responder.url
        )
        assert report.ok, report.as_dict()
        responder.settings.revoked[signer.cert.serial_number] = datetime(2024, 1, 1, tzinfo=UTC)
        report = verify(
            ACT, sign_cms(ACT, signer), trust_anchors=pki.anchors, ocsp_url=responder.url
        )
        assert codes(report) == ["revoked"]
    # A "responder" without the OCSP-signing usage is not one (OCSP alone deciding).
    with OcspResponder(pki.rsa_ca, responder=pki.rsa_ie) as responder:
        responder.settings.mode = "delegated"
        report = verify(
            ACT,
            sign_cms(ACT, signer),
            trust_anchors=pki.anchors,
            ocsp_url=responder.url,
            crl_fallback=False,
        )
        assert codes(report) == ["ocsp-invalid"]


# --- GOST 34.310-2004 through NCANode -------------------------------------------------


def _ceo_cms(detached: bool = True) -> bytes:
    return cms_with_certificate(ACT, certificate("ceo_valid_sign_2004_gost.cer"), detached=detached)


def test_ncanode_valid_then_the_portals_own_checks(pki):
    cms = _ceo_cms()
    with NCANodeStandIn("valid") as node:
        report = verify(
            ACT,
            cms,
            expected_bin=BIN,
            at=P12_TIME,
            trust_anchors=TEST_ANCHORS,
            ncanode_url=node.url,
        )
        assert report.ok, report.as_dict()
        assert names(report) == [
            "cms",
            "certificate",
            "algorithm",
            "ncanode",
            "timestamp",
            "validity",
            "key-usage",
            "bin",
            "role",
        ]
        request = json.loads(node.requests[-1]["body"])
        assert node.requests[-1]["path"] == "/cms/verify"
        assert base64.b64decode(request["cms"]) == cms
        assert base64.b64decode(request["data"]) == ACT
        assert request["revocationCheck"] == []
        # NCANode's word does not replace the portal's identity checks.
        wrong = verify(ACT, cms, expected_bin="123456789022", at=P12_TIME, ncanode_url=node.url)
        assert codes(wrong) == ["wrong-bin"]
        # An attached CMS is sent without data; OCSP configured asks NCANode for OCSP.
        with unreachable_url() as ocsp_url:
            verify(
                None, _ceo_cms(detached=False), at=P12_TIME, ncanode_url=node.url, ocsp_url=ocsp_url
            )
        request = json.loads(node.requests[-1]["body"])
        assert "data" not in request and request["revocationCheck"] == ["OCSP"]


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("invalid", "ncanode-invalid"),
        ("revoked", "revoked"),
        ("http-500", "ncanode-error"),
        ("not-json", "ncanode-error"),
    ],
)
def test_ncanode_refusals(mode, code):
    with NCANodeStandIn(mode) as node:
        report = verify(ACT, _ceo_cms(), expected_bin=BIN, at=P12_TIME, ncanode_url=node.url)
    assert codes(report) == [code]


def test_ncanode_unreachable():
    with unreachable_url() as url:
        report = verify(ACT, _ceo_cms(), expected_bin=BIN, at=P12_TIME, ncanode_url=url, timeout=2)
    assert codes(report) == ["ncanode-error"]


def test_ncanode_is_not_asked_about_other_algorithms(pki):
    with NCANodeStandIn("invalid") as node:
        report = verify(
            ACT, sign_cms(ACT, pki.gost_head), trust_anchors=pki.anchors, ncanode_url=node.url
        )
        assert report.ok and node.requests == []


# --- sentences -----------------------------------------------------------------------


@pytest.fixture
def babel_app(tmp_path) -> Flask:
    return make_app(
        f"sqlite:///{tmp_path / 'eds.sqlite3'}",
        tmp_path / "instance",
        EDS_TRUST_ANCHORS=str(TEST_ANCHORS),
        EDS_ALLOW_EXPIRED_ANCHORS=True,  # NCA's old test CAs expired in 2024
    )


def test_every_code_and_check_has_a_sentence(babel_app):
    with babel_app.test_request_context():
        for code in CODES:
            text = describe_eds_check(
                Check(
                    "x",
                    False,
                    code,
                    params={"certificate": "C", "not_after": "D", "at": "T", "expected": "E"},
                )
            )
            assert text and text != code and "%(" not in text
        for check_name in eds.CHECK_NAMES:
            text = describe_eds_check(
                Check(check_name, True, params={"at": "T", "found": "F", "roles": "R"})
            )
            assert text and text != check_name and "%(" not in text


def _msgids() -> set[str]:
    tree = ast.parse((ROOT / "portal" / "wording" / "eds.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_":
            found.add(ast.literal_eval(node.args[0]))
    return found


def test_the_translations_cover_every_sentence():
    translations = json.loads(
        (ROOT / "scripts" / "eds_translations.json").read_text(encoding="utf-8")
    )
    msgids = _msgids()
    assert len(msgids) > 30
    assert set(translations) == msgids
    for msgid, languages in translations.items():
        placeholders = sorted(set(__import__("re").findall(r"%\(\w+\)s", msgid)))
        for language in ("kk", "ru"):
            text = languages[language]
            assert text and text != msgid
            assert sorted(set(__import__("re").findall(r"%\(\w+\)s", text))) == placeholders, (
                msgid,
                language,
            )


# --- flask eds verify ----------------------------------------------------------------


def run(app: Flask, *args: str):
    return app.test_cli_runner().invoke(eds_cli, ["verify", *args])


def test_cli_accepts_the_real_sample(babel_app):
    signature = str(SHARED / "SIGNED_CMS_ONE_SIGNER.p7s")
    result = run(babel_app, "-", signature, "--at", "2021-07-01T00:00:00Z", "--iin", IIN)
    assert result.exit_code == 0, result.output
    assert "pass iin" in result.output and "VALID: every check passed" in result.output
    assert "common name: ТЕСТОВ ТЕСТ" in result.output
    assert "serial: 4279390a141f5353a62947b61ed65e81741467d1" in result.output
    detached = run(
        babel_app,
        str(SHARED / "SIGNED_CMS_ONE_SIGNER.content.txt"),
        signature,
        "--at",
        "2021-07-01T00:00:00",
    )
    assert detached.exit_code == 0, detached.output


def test_cli_refuses_with_exit_1(babel_app, tmp_path):
    signature = str(SHARED / "SIGNED_CMS_ONE_SIGNER.p7s")
    wrong = run(babel_app, "-", signature, "--at", "2021-07-01T00:00:00Z", "--iin", "123456789012")
    assert wrong.exit_code == 1
    assert "FAIL iin [wrong-iin]" in wrong.output and "NOT VALID: wrong-iin" in wrong.output
    expired = run(babel_app, "-", signature)
    assert expired.exit_code == 1 and "[expired]" in expired.output
    other = tmp_path / "other.txt"
    other.write_bytes(b"test124")
    changed = run(babel_app, str(other), signature, "--at", "2021-07-01T00:00:00Z")
    assert changed.exit_code == 1 and "[digest-mismatch]" in changed.output
    two = run(babel_app, "-", str(SHARED / "SIGNED_CMS.p7s"), "--at", "2022-09-27T21:17:59Z")
    assert two.exit_code == 0 and "other signer 1" in two.output


def test_cli_usage_errors(babel_app):
    signature = str(SHARED / "SIGNED_CMS_ONE_SIGNER.p7s")
    assert run(babel_app, "-", signature, "--bin", BIN, "--iin", IIN).exit_code == 2
    assert run(babel_app, "-", signature, "--at", "yesterday").exit_code == 2
    assert run(babel_app, "/nonexistent/act.pdf", signature).exit_code == 2
    babel_app.config["EDS_TRUST_ANCHORS"] = "/nonexistent/anchors"
    broken = run(babel_app, "-", signature)
    assert broken.exit_code == 1 and "EDS_TRUST_ANCHORS cannot be used" in broken.output


def test_cli_uses_the_production_anchors_by_default(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'p.sqlite3'}", tmp_path / "instance")
    result = run(
        app, "-", str(SHARED / "SIGNED_CMS_ONE_SIGNER.p7s"), "--at", "2021-07-01T00:00:00Z"
    )
    assert result.exit_code == 1 and "[untrusted]" in result.output
