"""Revocation that holds when OCSP does not (issue 17, part 5): OCSP first, then the CA's
CRL, the evidence kept; and the evidence re-checked without the network (part 6).

NCA's real test CRLs (``tests/data/eds/kalkan-2026``) are parsed and their GOST 2015
signatures checked; a generated CA (RSA and GOST) serves CRLs over a real HTTP server.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from asn1crypto import cms as asn1_cms
from asn1crypto import x509
from flask_babel import force_locale

from portal.services.eds import crl, passed, revocation, verify
from portal.wording.eds import describe_eds_check, describe_revocation_evidence
from tests.eds_pki import (
    INDIVIDUAL,
    SIGNING,
    CrlServer,
    Issued,
    Key,
    OcspResponder,
    StatusOcspResponder,
    issue,
    issue_tsa,
    make_crl,
    name,
    sign_cms,
    unreachable_url,
    with_crl_points,
    with_timestamp,
)

KALKAN = Path(__file__).resolve().parent / "data" / "eds" / "kalkan-2026"
DOCUMENT = b"%PDF-1.4\n% an act, to be signed\n%%EOF\n"
IIN = "900101300123"
# within the real test CRLs' thisUpdate..nextUpdate (2025-04-29 .. 2025-10-26)
REAL_CRL_TIME = datetime(2025, 6, 1, tzinfo=UTC)
FULL_PATH = "/crl/ca.crl"
DELTA_PATH = "/crl/ca_d.crl"


def kalkan(file: str) -> bytes:
    return (KALKAN / file).read_bytes()


def real_ca() -> x509.Certificate:
    return x509.Certificate.load(kalkan("anchors/nca_gost2022_test.cer"))


def real_signer() -> x509.Certificate:
    signed = asn1_cms.ContentInfo.load(kalkan("individual_detached.der"))["content"]
    return next(c.chosen for c in signed["certificates"] if not c.chosen.ca)


# --- NCA's real test CRLs -----------------------------------------------------------


def test_the_real_test_crls_are_signed_by_their_ca():
    ca = real_ca()
    full = crl.load(kalkan("nca_gost2022_test.crl"))
    delta = crl.load(kalkan("nca_gost2022_d_test.crl"))
    for certificate_list in (full, delta):
        crl.verify_list(certificate_list, ca, REAL_CRL_TIME)  # GOST 34.10-2015 512
    assert crl.number(full) == 14
    assert delta.delta_crl_indicator_value.native == 14  # a delta of the full CRL no. 14
    assert len(full["tbs_cert_list"]["revoked_certificates"]) == 54
    listed = crl.entry(full, 154168939628713976939136612405646296689198509944)
    assert listed.revoked_at == datetime(2024, 7, 11, 11, 24, 55, tzinfo=UTC)
    assert crl.entry(full, real_signer().serial_number) is None


def test_a_real_crl_is_refused_by_another_issuer_altered_or_out_of_date():
    ca = real_ca()
    root = x509.Certificate.load(kalkan("anchors/root_test_gost_2022.cer"))
    der = kalkan("nca_gost2022_test.crl")
    with pytest.raises(crl.CrlError) as error:
        crl.verify_list(crl.load(der), root, REAL_CRL_TIME)
    assert error.value.code == "crl-invalid"
    # one bit of the signature changed
    signature = crl.load(der)["signature"].native
    changed = der.replace(signature, signature[:5] + bytes([signature[5] ^ 1]) + signature[6:])
    with pytest.raises(crl.CrlError) as error:
        crl.verify_list(crl.load(changed), ca, REAL_CRL_TIME)
    assert error.value.code == "crl-invalid"
    # today the lists are past their nextUpdate (2025-10-26)
    with pytest.raises(crl.CrlError) as error:
        crl.verify_list(crl.load(der), ca, datetime.now(UTC))
    assert error.value.code == "crl-stale"
    with pytest.raises(crl.CrlError) as error:
        crl.load(b"not a CRL")
    assert error.value.code == "crl-invalid"


def test_the_real_certificate_names_its_crls_and_they_answer_over_http():
    """NCA's real signer certificate names its full and delta CRLs; served (as a proxy
    would) by a local server, they say it is not revoked, and a serial they list is."""
    signer, ca = real_signer(), real_ca()
    assert crl.distribution_points(signer) == ["http://test.pki.gov.kz/crl/nca_gost2022_test.crl"]
    assert crl.delta_points(signer) == ["http://test.pki.gov.kz/crl/nca_gost2022_d_test.crl"]
    with CrlServer() as server:
        server.lists["/crl/nca_gost2022_test.crl"] = kalkan("nca_gost2022_test.crl")
        server.lists["/crl/nca_gost2022_d_test.crl"] = kalkan("nca_gost2022_d_test.crl")
        session = requests.Session()
        session.proxies = {"http": server.url}
        outcome = crl.check(signer, ca, session=session, now=REAL_CRL_TIME, timeout=5)
        assert outcome.status == "good", outcome
        assert outcome.facts["number"] == 14
        assert (
            outcome.facts["sha256"] == hashlib.sha256(kalkan("nca_gost2022_test.crl")).hexdigest()
        )
        assert outcome.facts["delta"]["number"] == 10
        assert outcome.facts["this_update"] == "2025-04-29T04:46:49+00:00"
        # a certificate of the same CA whose serial the full CRL lists
        listed = 154168939628713976939136612405646296689198509944
        tbs = x509.TbsCertificate.load(signer["tbs_certificate"].dump())
        tbs["serial_number"] = listed
        twin = x509.Certificate(
            {
                "tbs_certificate": tbs,
                "signature_algorithm": signer["signature_algorithm"],
                "signature_value": signer["signature_value"],
            }
        )
        revoked = crl.check(twin, ca, session=session, now=REAL_CRL_TIME, timeout=5)
        assert revoked.status == "revoked" and revoked.code == "revoked"
        assert revoked.revoked_at == datetime(2024, 7, 11, 11, 24, 55, tzinfo=UTC)
        # today the real lists are out of date: no answer from them
        stale = crl.check(signer, ca, session=session, timeout=5)
        assert stale.status is None and stale.code == "crl-stale"


# --- a generated CA serving its CRL ---------------------------------------------------


class CA:
    """A CA (RSA or GOST) whose certificates name a CRL on ``server``, one of them revoked."""

    def __init__(self, kind: str, server: CrlServer):
        self.server = server
        key = Key.rsa() if kind == "rsa" else Key.gost()
        self.ca = issue(name(f"TEST CA ({kind})"), key, ca=True)
        self.good = self.person(server.url_of(FULL_PATH), server.url_of(DELTA_PATH))
        self.revoked = self.person(server.url_of(FULL_PATH))
        self.revoked_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        self.publish()

    def person(self, crl_url: str, delta_url: str | None = None) -> Issued:
        issued = issue(
            name("PETROV AIDAR", iin=IIN), Key.rsa(1024), self.ca, usages=(SIGNING, INDIVIDUAL)
        )
        return with_crl_points(issued, self.ca, crl_url, delta_url)

    def publish(self, **options) -> bytes:
        der = make_crl(self.ca, {self.revoked.cert.serial_number: self.revoked_at}, **options)
        self.server.lists[FULL_PATH] = der
        return der

    def check(self, signer: Issued, ocsp_url: str, tmp_path: Path, **options):
        return verify(
            DOCUMENT,
            sign_cms(DOCUMENT, signer),
            expected_iin=IIN,
            trust_anchors=[self.ca.cert],
            ocsp_url=ocsp_url,
            crl_cache=tmp_path / "crl",
            timeout=3,
            **options,
        )


@pytest.fixture(scope="module")
def server():
    with CrlServer() as running:
        yield running


@pytest.fixture(scope="module")
def authorities(server):
    return {kind: CA(kind, server) for kind in ("rsa", "gost")}


@pytest.fixture(params=["rsa", "gost"])
def pki(request, server, authorities):
    """One of the CAs, its CRL (only the full one) served again, the server up."""
    server.down = False
    server.lists.clear()
    authority = authorities[request.param]
    authority.publish()
    server.gets.clear()
    return authority


def revocation_check(report):
    return next(c for c in report.checks if c.name == "revocation")


def test_ocsp_down_and_the_crl_fine_accepts_with_the_crl_as_evidence(pki, tmp_path):
    der = pki.publish(number=7)
    with unreachable_url() as ocsp_url:
        report = pki.check(pki.good, ocsp_url, tmp_path)
    assert report.ok, report.as_dict()
    check = revocation_check(report)
    assert check.params["method"] == "crl" and check.params["number"] == "7"
    evidence = report.evidence
    assert evidence.method == "crl" and evidence.der is None
    assert evidence.facts["url"] == pki.server.url_of(FULL_PATH)
    assert evidence.facts["number"] == 7
    assert evidence.facts["sha256"] == hashlib.sha256(der).hexdigest()
    assert evidence.facts["ocsp_failure"].startswith("OCSP: ConnectionError")
    assert report.as_dict()["signer"]["revocation"]["method"] == "crl"


def test_a_certificate_the_crl_lists_is_refused(pki, tmp_path):
    with unreachable_url() as ocsp_url:
        report = pki.check(pki.revoked, ocsp_url, tmp_path)
    assert not report.ok and report.codes == ["revoked"]
    assert revocation_check(report).params["revoked_at"] == pki.revoked_at.isoformat()
    assert report.evidence is None


def test_ocsp_saying_try_again_hands_over_to_the_crl(pki, tmp_path):
    with StatusOcspResponder(pki.ca) as responder:
        responder.error = "try_later"
        good = pki.check(pki.good, responder.url, tmp_path)
        revoked = pki.check(pki.revoked, responder.url, tmp_path)
    assert good.ok and good.evidence.method == "crl"
    assert "try_later" in good.evidence.facts["ocsp_failure"]
    assert revoked.codes == ["revoked"]


def test_ocsp_answering_keeps_its_answer_as_evidence_and_the_crl_is_not_fetched(pki, tmp_path):
    with OcspResponder(pki.ca) as responder:
        report = pki.check(pki.good, responder.url, tmp_path)
        responder.settings.revoked[pki.good.cert.serial_number] = pki.revoked_at
        refused = pki.check(pki.good, responder.url, tmp_path)
        responder.settings.mode = "unknown"  # OCSP's "unknown" is an answer: no CRL
        unknown = pki.check(pki.good, responder.url, tmp_path)
    assert report.ok
    evidence = report.evidence
    assert evidence.method == "ocsp" and evidence.der[:1] == b"\x30"
    assert evidence.facts["sha256"] == hashlib.sha256(evidence.der).hexdigest()
    assert refused.codes == ["revoked"] and unknown.codes == ["ocsp-unknown"]
    assert pki.server.gets == []


@pytest.mark.parametrize("failure", ["down", "stale", "forged", "not-yet", "critical"])
def test_both_down_or_a_crl_that_does_not_count_is_refused(pki, tmp_path, failure):
    now = datetime.now(UTC)
    if failure == "down":
        pki.server.down = True
    elif failure == "stale":
        pki.publish(this_update=now - timedelta(days=3), next_update=now - timedelta(days=1))
    elif failure == "forged":
        pki.publish(key=Key.rsa(1024))
    elif failure == "not-yet":
        pki.publish(this_update=now + timedelta(hours=2))
    else:  # a critical extension the portal does not understand
        unknown = {"extn_id": "1.2.3.4", "critical": True, "extn_value": b"\x05\x00"}
        pki.publish(extensions=(unknown,))
    with unreachable_url() as ocsp_url:
        report = pki.check(pki.good, ocsp_url, tmp_path)
    expected = {
        "down": "crl-unavailable",
        "stale": "crl-stale",
        "forged": "crl-invalid",
        "not-yet": "crl-stale",
        "critical": "crl-invalid",
    }
    assert report.codes == [expected[failure]]
    detail = revocation_check(report).detail
    assert detail.startswith("OCSP: ConnectionError") and "CRL: " in detail


def test_without_the_fallback_ocsp_alone_decides(pki, tmp_path):
    with unreachable_url() as ocsp_url:
        report = pki.check(pki.good, ocsp_url, tmp_path, crl_fallback=False)
    assert report.codes == ["ocsp-unavailable"] and pki.server.gets == []


def test_the_crl_is_cached_by_url_until_its_next_update(pki, tmp_path):
    der = pki.publish(number=3)
    with unreachable_url() as ocsp_url:
        assert pki.check(pki.good, ocsp_url, tmp_path).ok
        assert pki.check(pki.good, ocsp_url, tmp_path).ok
    assert pki.server.gets == [FULL_PATH, DELTA_PATH, DELTA_PATH]  # no delta is published
    cache = crl.Cache(tmp_path / "crl")
    url = pki.server.url_of(FULL_PATH)
    assert cache.path(url).read_bytes() == der
    assert cache.get(url, datetime.now(UTC)) == der
    assert cache.get(url, datetime.now(UTC) + timedelta(days=2)) is None  # past nextUpdate
    # a cached list past its nextUpdate is fetched again
    now = datetime.now(UTC)
    cache.put(url, make_crl(pki.ca, number=2, this_update=now - timedelta(days=2), next_update=now))
    pki.server.gets.clear()
    with unreachable_url() as ocsp_url:
        report = pki.check(pki.good, ocsp_url, tmp_path)
    assert report.ok and report.evidence.facts["number"] == 3
    assert pki.server.gets[0] == FULL_PATH and cache.path(url).read_bytes() == der
    # the cache knows these bytes were checked; other bytes put in their place (a list
    # signed by another key) are checked, refused, and the list fetched again
    assert cache.checked(url, der, pki.ca.cert)
    forged = make_crl(pki.ca, number=99, key=Key.rsa(1024))
    cache.path(url).write_bytes(forged)
    assert not cache.checked(url, forged, pki.ca.cert)
    pki.server.gets.clear()
    with unreachable_url() as ocsp_url:
        report = pki.check(pki.good, ocsp_url, tmp_path)
    assert report.ok and report.evidence.facts["number"] == 3
    assert pki.server.gets[0] == FULL_PATH and cache.checked(url, der, pki.ca.cert)


def test_a_delta_crl_revokes_and_releases(pki, tmp_path):
    pki.publish(number=5)
    server = pki.server
    server.lists[DELTA_PATH] = make_crl(
        pki.ca, {pki.good.cert.serial_number: pki.revoked_at}, number=6, delta_of=5
    )
    with unreachable_url() as ocsp_url:
        report = pki.check(pki.good, ocsp_url, tmp_path)
    assert report.codes == ["revoked"]
    # the full CRL holds it ("certificateHold"); the delta releases it
    serial = pki.good.cert.serial_number
    server.lists[FULL_PATH] = make_crl(
        pki.ca, {serial: pki.revoked_at}, number=8, reasons={serial: "certificate_hold"}
    )
    server.lists[DELTA_PATH] = make_crl(
        pki.ca, {serial: pki.revoked_at}, number=9, delta_of=8, reasons={serial: "remove_from_crl"}
    )
    with unreachable_url() as ocsp_url:
        report = pki.check(pki.good, ocsp_url, tmp_path / "other")
    assert report.ok, report.codes
    assert report.evidence.facts["delta"]["number"] == 9
    # a delta of a later base than the full CRL does not apply
    server.lists[DELTA_PATH] = make_crl(pki.ca, {}, number=12, delta_of=11)
    with unreachable_url() as ocsp_url:
        report = pki.check(pki.good, ocsp_url, tmp_path / "third")
    assert report.codes == ["revoked"]


# --- the evidence re-checked without the network --------------------------------------


def test_stored_ocsp_evidence_is_checked_again_offline(pki, tmp_path):
    cms = sign_cms(DOCUMENT, pki.good)
    with OcspResponder(pki.ca) as responder:
        accepted = verify(
            DOCUMENT, cms, trust_anchors=[pki.ca.cert], ocsp_url=responder.url, timeout=3
        )
    evidence = accepted.evidence
    stored = revocation.Evidence.stored("ocsp", evidence.facts, evidence.der)
    again = verify(DOCUMENT, cms, trust_anchors=[pki.ca.cert], revocation_evidence=stored)
    assert again.ok
    assert revocation_check(again).params == {
        "method": "ocsp",
        "produced_at": evidence.facts["produced_at"],
        "how": "stored",
    }
    broken = bytearray(evidence.der)
    broken[-3] ^= 1
    forged = revocation.Evidence("ocsp", evidence.facts, bytes(broken))
    assert verify(DOCUMENT, cms, trust_anchors=[pki.ca.cert], revocation_evidence=forged).codes == [
        "ocsp-invalid"
    ]
    assert pki.server.gets == []


def test_stored_crl_evidence_is_checked_against_the_cached_list_when_there(pki, tmp_path):
    pki.publish(number=21)
    with unreachable_url() as ocsp_url:
        accepted = pki.check(pki.good, ocsp_url, tmp_path)
    evidence = revocation.Evidence.stored("crl", accepted.evidence.facts, None)
    pki.server.down = True
    options = {"trust_anchors": [pki.ca.cert], "revocation_evidence": evidence}
    cms = sign_cms(DOCUMENT, pki.good)
    again = verify(DOCUMENT, cms, crl_cache=tmp_path / "crl", **options)
    assert again.ok and revocation_check(again).params["how"] == "checked"
    gone = verify(DOCUMENT, cms, crl_cache=tmp_path / "empty", **options)
    assert gone.ok and revocation_check(gone).params["how"] == "recorded"
    # a cached list with the recorded SHA-256 that lists the certificate: contradicted
    cms_revoked = sign_cms(DOCUMENT, pki.revoked)
    lying = verify(DOCUMENT, cms_revoked, crl_cache=tmp_path / "crl", **options)
    assert lying.codes == ["crl-invalid"]
    assert pki.server.gets == [FULL_PATH, DELTA_PATH]


# --- revocation judged at the proven time of signing (a timestamp's genTime) ----------


def test_revocation_is_judged_at_the_proven_time_of_signing(pki, tmp_path):
    """A certificate revoked only after its signature's proven time was valid when it
    signed: accepted, the revocation time kept in the evidence; revoked before that time,
    or with no timestamp at all, refused. By OCSP and by the CRL, and again offline."""
    now = datetime.now(UTC).replace(microsecond=0)
    revoked_at = now - timedelta(hours=1)
    tsa = issue_tsa(pki.ca)
    signer = pki.good
    unstamped = sign_cms(DOCUMENT, signer)
    before = with_timestamp(unstamped, tsa, gen_time=now - timedelta(hours=2))
    after = with_timestamp(unstamped, tsa, gen_time=now - timedelta(minutes=30))
    options = {"expected_iin": IIN, "trust_anchors": [pki.ca.cert], "timeout": 3}
    cache = tmp_path / "crl"

    def check(cms, ocsp_url):
        return verify(DOCUMENT, cms, ocsp_url=ocsp_url, crl_cache=cache, **options)

    def offline(cms, evidence):
        return verify(
            DOCUMENT,
            cms,
            crl_fallback=False,
            crl_cache=cache,
            revocation_evidence=evidence,
            **options,
        )

    with OcspResponder(pki.ca) as responder:
        responder.settings.revoked[signer.cert.serial_number] = revoked_at
        accepted = check(before, responder.url)
        refused, plain = check(after, responder.url), check(unstamped, responder.url)
    assert accepted.ok, accepted.as_dict()
    assert accepted.signer.proven_time == now - timedelta(hours=2)
    assert accepted.evidence.method == "ocsp"
    assert accepted.evidence.facts["revoked_at"] == revoked_at.isoformat()
    assert revocation_check(accepted).params["revoked_at"] == revoked_at.isoformat()
    assert refused.codes == ["revoked"] and plain.codes == ["revoked"]
    stored = offline(before, accepted.evidence)  # the stored answer, at the proven time
    assert stored.ok and revocation_check(stored).detail.startswith("the stored OCSP answer")
    assert "after the proven time" in revocation_check(stored).detail
    assert offline(after, accepted.evidence).codes == ["revoked"]

    pki.server.lists[FULL_PATH] = make_crl(pki.ca, {signer.cert.serial_number: revoked_at})
    with unreachable_url() as ocsp_url:
        by_crl = check(before, ocsp_url)
        too_late = check(after, ocsp_url)
    assert by_crl.ok, by_crl.as_dict()
    assert by_crl.evidence.method == "crl"
    assert by_crl.evidence.facts["revoked_at"] == revoked_at.isoformat()
    assert revocation_check(by_crl).detail.startswith("CRL ")
    assert too_late.codes == ["revoked"] and too_late.evidence is None
    again = offline(before, by_crl.evidence)  # the very list, still in the cache
    assert again.ok and revocation_check(again).params["how"] == "checked"
    assert offline(after, by_crl.evidence).codes == ["crl-invalid"]


def test_a_revocation_after_the_proven_time_is_said_in_kazakh_and_russian(app):
    evidence = {
        "url": "http://ocsp.test/",
        "produced_at": "2026-11-26T08:00:00+00:00",
        "revoked_at": "2026-11-26T07:00:00+00:00",
    }
    check = passed(
        "revocation", method="ocsp", revoked_at=evidence["revoked_at"], at="2026-11-26T06:00:00"
    )
    said = {}
    with app.test_request_context():
        for lang in ("kk", "ru"):
            with force_locale(lang):
                said[lang] = (
                    describe_revocation_evidence("ocsp", evidence),
                    describe_eds_check(check),
                )
    assert "расталған қол қою уақытынан кейін кері қайтарылған" in said["kk"][0]
    assert "уже после подтверждённого времени подписания" in said["ru"][0]
    assert "қолтаңба сертификат жарамды кезде қойылған" in said["kk"][1]
    assert "подпись поставлена, когда он был действителен" in said["ru"][1]
