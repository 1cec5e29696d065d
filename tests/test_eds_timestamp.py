"""Issue 17, parts 3 and 4: NCA's current CAs as the production trust anchors, the
startup check of the anchors, and RFC 3161 timestamps proving the time of signing.

Real material: NCA's production CAs (shipped), its production time-stamping authority's
certificates and real Kalkan 2026 signatures with NCA's timestamps
(tests/data/eds/production/, tests/data/eds/kalkan-2026/, copies of
../shared/testdata/eds/). Generated material: a test time-stamping authority
(tests/eds_pki.py, RSA and GOST 2015) making real tokens over generated signatures.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from asn1crypto import cms as asn1_cms
from asn1crypto import x509
from cryptography import x509 as crypto_x509

from portal.campaign import acts
from portal.campaign.periods import CAMPAIGN_TZ
from portal.commands.eds import eds_cli
from portal.models import db
from portal.models.acts import ActSignature
from portal.services import eds
from portal.services.eds import PRODUCTION_ANCHORS, anchors, build_chain, verify
from portal.services.eds import timestamp as eds_timestamp
from tests.eds_pki import (
    INDIVIDUAL,
    SIGNING,
    TIME_STAMPING,
    Issued,
    Key,
    issue,
    issue_tsa,
    name,
    sign_cms,
    with_timestamp,
)
from tests.helpers import csrf_from, make_app, pki_for

DATA = Path(__file__).resolve().parent / "data" / "eds"
KALKAN = DATA / "kalkan-2026"
TIMESTAMPING = DATA / "production" / "timestamping"
KALKAN_IIN = "123456789011"
KALKAN_GEN_TIME = datetime(2026, 7, 20, 9, 8, 7, tzinfo=UTC)  # the TSA's genTime
KALKAN_SIGNING_TIME = datetime(2026, 7, 20, 9, 8, 6, tzinfo=UTC)  # the signer's word
ACT = b"%PDF-1.4\n% acceptance-transfer act, prize 3\n%%EOF\n"
IIN = "900101300123"
PRODUCTION_FILES = [
    "nca_gost_2022.cer",
    "nca_rsa_2022.cer",
    "root_gost_2022.cer",
    "root_rsa_2020.cer",
]


def load(path: Path) -> x509.Certificate:
    return x509.Certificate.load(path.read_bytes())


def codes(report: eds.Report) -> list[str]:
    return [check.code for check in report.checks if not check.ok]


def timestamp_check(report: eds.Report) -> eds.Check:
    return next(check for check in report.checks if check.name == "timestamp")


# --- part 3: the production anchors ------------------------------------------------


def test_the_production_anchors_are_ncas_current_cas_with_their_fingerprints():
    files = sorted(p.name for p in PRODUCTION_ANCHORS.iterdir() if p.suffix == ".cer")
    assert files == PRODUCTION_FILES  # the expired nca_rsa_2018 is gone
    sources = (PRODUCTION_ANCHORS / "SOURCES.md").read_text(encoding="utf-8")
    for file in files:
        digest = hashlib.sha256((PRODUCTION_ANCHORS / file).read_bytes()).hexdigest()
        row = next(line for line in sources.splitlines() if line.startswith(f"| `{file}`"))
        assert f"`{digest}`" in row, file
    checked = anchors.check(None)  # none expired, every one readable
    assert {Path(a.where).name for a in checked} == set(PRODUCTION_FILES)
    assert all(a.cert.ca for a in checked)


def test_ncas_gost_timestamping_certificate_chains_to_the_production_anchors():
    """With the portal's own GOST 34.10-2015 code, link by link up to the root."""
    production = eds.load_trust_anchors(None)
    tsa = load(TIMESTAMPING / "tsa_gost_2025.cer")
    assert TIME_STAMPING in [p.dotted for p in tsa.extended_key_usage_value]
    chain, reason = build_chain(tsa, [], production)
    assert reason == "" and [c.subject.native["common_name"] for c in chain] == [
        "TIME-STAMPING AUTHORITY",
        "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) 2022",
    ]
    intermediate = load(PRODUCTION_ANCHORS / "nca_gost_2022.cer")
    root = load(PRODUCTION_ANCHORS / "root_gost_2022.cer")
    assert build_chain(intermediate, [], [root])[0] == [intermediate, root]
    assert build_chain(root, [], [root])[0] == [root, root]  # self-signed, verified
    # the chain really is checked: the RSA root does not vouch for the GOST intermediate
    rsa_root = load(PRODUCTION_ANCHORS / "root_rsa_2020.cer")
    assert build_chain(intermediate, [], [rsa_root])[0] == []


def test_ncas_rsa_timestamping_certificate_chains_to_the_production_anchors():
    """With ``cryptography``, independently of the portal's code; then the portal's."""

    def read(path: Path) -> crypto_x509.Certificate:
        return crypto_x509.load_der_x509_certificate(path.read_bytes())

    tsa = read(TIMESTAMPING / "tsa_rsa_2025.cer")
    intermediate = read(PRODUCTION_ANCHORS / "nca_rsa_2022.cer")
    root = read(PRODUCTION_ANCHORS / "root_rsa_2020.cer")
    tsa.verify_directly_issued_by(intermediate)
    intermediate.verify_directly_issued_by(root)
    root.verify_directly_issued_by(root)
    with pytest.raises(ValueError):  # names differ: not issued by the root itself
        tsa.verify_directly_issued_by(root)
    usage = tsa.extensions.get_extension_for_class(crypto_x509.ExtendedKeyUsage).value
    assert crypto_x509.ExtendedKeyUsageOID.TIME_STAMPING in usage
    chain, _ = build_chain(load(TIMESTAMPING / "tsa_rsa_2025.cer"), [], eds.load_trust_anchors())
    assert chain[-1].subject.native["common_name"] == "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA) 2022"


# --- part 3: the startup check -------------------------------------------------------


def expired_ca(tmp_path: Path) -> Path:
    folder = tmp_path / "anchors"
    folder.mkdir()
    good = issue(name("GOOD CA"), Key.rsa(1024), ca=True)
    old = issue(
        name("OLD CA"),
        Key.rsa(1024),
        ca=True,
        not_before=datetime(2015, 1, 1, tzinfo=UTC),
        not_after=datetime(2025, 6, 25, tzinfo=UTC),
    )
    (folder / "good.cer").write_bytes(good.der)
    (folder / "nca_rsa_2018.cer").write_bytes(old.der)
    return folder


def app_with(tmp_path: Path, **settings):
    return make_app(f"sqlite:///{tmp_path / 'a.sqlite3'}", tmp_path / "instance", **settings)


def test_the_app_does_not_start_with_an_expired_anchor(tmp_path, caplog):
    folder = expired_ca(tmp_path)
    with caplog.at_level(logging.CRITICAL), pytest.raises(anchors.TrustAnchorError) as refused:
        app_with(tmp_path, EDS_TRUST_ANCHORS=str(folder))
    message = str(refused.value)
    assert str(folder / "nca_rsa_2018.cer") in message and "expired on 2025-06-25" in message
    assert "OLD CA" in message and "GOOD CA" not in message
    logged = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert logged and "nca_rsa_2018.cer" in logged[0].getMessage()
    # only to check old signatures at their own time: then it starts
    assert app_with(tmp_path, EDS_TRUST_ANCHORS=str(folder), EDS_ALLOW_EXPIRED_ANCHORS=True)


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"not a certificate", "cannot be read"), (b"", "cannot be read")],
)
def test_the_app_does_not_start_with_an_unreadable_anchor(tmp_path, content, problem):
    folder = expired_ca(tmp_path)
    (folder / "nca_rsa_2018.cer").unlink()
    (folder / "broken.crt").write_bytes(content)
    for allow in (False, True):  # never, even with expired anchors allowed
        with pytest.raises(anchors.TrustAnchorError) as refused:
            app_with(tmp_path, EDS_TRUST_ANCHORS=str(folder), EDS_ALLOW_EXPIRED_ANCHORS=allow)
        assert str(folder / "broken.crt") in str(refused.value) and problem in str(refused.value)


def test_the_app_does_not_start_with_a_missing_or_empty_anchor_folder(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    for source in (empty, tmp_path / "nowhere.cer"):
        with pytest.raises(anchors.TrustAnchorError) as refused:
            app_with(tmp_path, EDS_TRUST_ANCHORS=str(source))
        assert str(source) in str(refused.value)


def test_anchors_given_as_certificates_are_checked_too(tmp_path):
    old = issue(name("OLD CA"), Key.rsa(1024), ca=True, not_after=datetime(2020, 1, 1, tzinfo=UTC))
    with pytest.raises(anchors.TrustAnchorError) as refused:
        anchors.check([issue(name("GOOD CA"), Key.rsa(1024), ca=True).cert, old.cert])
    assert "#2 given in the settings" in str(refused.value)


def test_the_production_anchors_are_refused_once_they_expire():
    with pytest.raises(anchors.TrustAnchorError) as refused:
        anchors.check(None, now=datetime(2045, 9, 7, 12, tzinfo=UTC))
    assert "nca_gost_2022.cer" in str(refused.value)  # the first to expire, named


def test_readyz_checks_the_anchors(tmp_path):
    app = app_with(tmp_path)  # the shipped production anchors: it starts
    client = app.test_client()
    answer = client.get("/readyz")
    assert answer.get_json()["checks"]["eds-anchors"] == "ok"
    app.config["EDS_TRUST_ANCHORS"] = str(expired_ca(tmp_path))  # as if time had passed
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.get_json()["checks"]["eds-anchors"] == "failed"
    assert "nca_rsa_2018" not in answer.get_data(as_text=True)  # the log has it, not the body


# --- part 4: NCA's real timestamps -----------------------------------------------------


def kalkan_anchors() -> list[x509.Certificate]:
    """The test PKI's root and intermediate (the signer's) and NCA's production CAs
    (the time-stamping authority's)."""
    return eds.load_trust_anchors(KALKAN / "anchors") + eds.load_trust_anchors(None)


@pytest.mark.parametrize("form", ["detached", "attached"])
def test_the_real_kalkan_signatures_verify_at_their_timestamps_time(form):
    document = (KALKAN / "individual_document.txt").read_bytes()
    report = verify(
        document if form == "detached" else None,
        (KALKAN / f"individual_{form}.der").read_bytes(),
        expected_iin=KALKAN_IIN,
        trust_anchors=kalkan_anchors(),
    )
    assert report.ok, report.as_dict()
    signer = report.signer
    assert signer.proven_time == KALKAN_GEN_TIME != signer.signing_time == KALKAN_SIGNING_TIME
    assert signer.checked_at == KALKAN_GEN_TIME  # the certificates judged at the proven time
    assert signer.timestamp_authority == "TIME-STAMPING AUTHORITY"
    check = timestamp_check(report)
    assert check.params["state"] == "proven" and check.params["at"] == KALKAN_GEN_TIME.isoformat()
    assert report.facts["proven_time"] == KALKAN_GEN_TIME.isoformat()


def test_the_real_timestamp_needs_ncas_production_anchors():
    report = verify(
        (KALKAN / "individual_document.txt").read_bytes(),
        (KALKAN / "individual_detached.der").read_bytes(),
        trust_anchors=KALKAN / "anchors",  # the test PKI only: the TSA does not chain
    )
    assert codes(report) == ["timestamp-untrusted"]
    assert report.signer.proven_time is None


def _replace_token(der: bytes, edit) -> bytes:
    """``der`` with its first signer's timestamp token edited in place (same length: the
    rest of the CMS, certificates included, stays byte for byte)."""
    signer = asn1_cms.ContentInfo.load(der)["content"]["signer_infos"][0]
    token = signer["unsigned_attrs"][0]["values"][0].dump()
    changed = edit(token)
    assert len(changed) == len(token) and changed != token and der.count(token) == 1
    return der.replace(token, changed)


def test_a_changed_byte_of_the_real_tokens_time_is_refused():
    der = (KALKAN / "individual_detached.der").read_bytes()
    # genTime 20260720090807Z -> 20260720090808Z: the authority never signed that
    changed = _replace_token(der, lambda t: t.replace(b"20260720090807Z", b"20260720090808Z"))
    report = verify(
        (KALKAN / "individual_document.txt").read_bytes(), changed, trust_anchors=kalkan_anchors()
    )
    assert codes(report) == ["timestamp-invalid"]


# --- part 4: a test time-stamping authority ----------------------------------------


class TSA:
    def __init__(self) -> None:
        years = {"not_before": datetime(2019, 1, 1, tzinfo=UTC), "ca": True}
        self.rsa_ca = issue(name("TEST ҰКО (RSA)"), Key.rsa(), **years)
        self.gost_ca = issue(name("TEST ҰКО (GOST 2015)"), Key.gost(), **years)
        self.anchors = [self.rsa_ca.cert, self.gost_ca.cert]
        self.tsa = {"rsa": issue_tsa(self.rsa_ca), "gost": issue_tsa(self.gost_ca, Key.gost())}
        person = name("ПРЕДПРИНИМАТЕЛЕВ ИП", iin=IIN)
        self.signer = {
            "rsa": issue(person, Key.rsa(), self.rsa_ca),
            "gost": issue(person, Key.gost(), self.gost_ca),
        }
        # a signer whose certificate ran from 2024 to 2025
        self.lapsed = issue(
            person,
            Key.rsa(),
            self.rsa_ca,
            not_before=datetime(2024, 1, 1, tzinfo=UTC),
            not_after=datetime(2025, 1, 1, tzinfo=UTC),
        )
        self.foreign_root = issue(name("TSA ROOT"), Key.rsa(), ca=True)
        self.foreign_tsa = issue_tsa(self.foreign_root)
        self.long_tsa = issue_tsa(self.rsa_ca, not_before=datetime(2019, 1, 1, tzinfo=UTC))
        self.not_tsa = issue_tsa(self.rsa_ca, usages=(SIGNING, INDIVIDUAL))
        self.old_tsa = issue_tsa(
            self.rsa_ca,
            not_before=datetime(2020, 1, 1, tzinfo=UTC),
            not_after=datetime(2021, 1, 1, tzinfo=UTC),
        )


@pytest.fixture(scope="module")
def pki() -> TSA:
    return TSA()


def stamped(pki: TSA, kind: str = "rsa", *, tsa: Issued | None = None, **options) -> bytes:
    return with_timestamp(sign_cms(ACT, pki.signer[kind]), tsa or pki.tsa[kind], **options)


@pytest.mark.parametrize("kind", ["rsa", "gost"])
def test_a_test_authoritys_timestamp_proves_the_time(pki, kind):
    gen_time = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    report = verify(
        ACT, stamped(pki, kind, gen_time=gen_time), expected_iin=IIN, trust_anchors=pki.anchors
    )
    assert report.ok, report.as_dict()
    assert report.signer.proven_time == gen_time == report.signer.checked_at
    assert timestamp_check(report).params["state"] == "proven"


def test_validity_is_judged_at_the_proven_time_not_the_signers_word(pki):
    within = datetime(2024, 6, 1, tzinfo=UTC)
    after = datetime(2025, 6, 1, tzinfo=UTC)
    # the signer claims a time within the certificate's life; the authority says after it
    claimed = sign_cms(ACT, pki.lapsed, signing_time=within)
    late = verify(
        ACT, with_timestamp(claimed, pki.long_tsa, gen_time=after), trust_anchors=pki.anchors
    )
    assert codes(late) == ["expired"] and late.signer.checked_at == after
    assert verify(ACT, claimed, trust_anchors=pki.anchors).ok  # the word alone was believed
    # and the other way: a wrong clock on the signer's side, the authority's time in
    wrong_clock = sign_cms(ACT, pki.lapsed, signing_time=after)
    assert codes(verify(ACT, wrong_clock, trust_anchors=pki.anchors)) == ["expired"]
    proven = verify(
        ACT, with_timestamp(wrong_clock, pki.long_tsa, gen_time=within), trust_anchors=pki.anchors
    )
    assert proven.ok and proven.signer.proven_time == within


@pytest.mark.parametrize("kind", ["rsa", "gost"])
def test_a_timestamp_over_another_signature_is_refused(pki, kind):
    other = sign_cms(b"another act", pki.signer[kind])
    other_value = asn1_cms.ContentInfo.load(other)["content"]["signer_infos"][0]["signature"]
    imprint = pki.tsa[kind].key.digest(other_value.native)
    report = verify(ACT, stamped(pki, kind, imprint=imprint), trust_anchors=pki.anchors)
    assert codes(report) == ["timestamp-mismatch"]
    assert report.signer.proven_time is None


def test_an_authority_that_does_not_chain_is_refused(pki):
    report = verify(ACT, stamped(pki, tsa=pki.foreign_tsa), trust_anchors=pki.anchors)
    assert codes(report) == ["timestamp-untrusted"]
    # trusted once its root is an anchor: the refusal was about the chain alone
    anchors_too = [*pki.anchors, pki.foreign_root.cert]
    assert verify(ACT, stamped(pki, tsa=pki.foreign_tsa), trust_anchors=anchors_too).ok


def test_a_certificate_without_the_time_stamping_usage_is_refused(pki):
    report = verify(ACT, stamped(pki, tsa=pki.not_tsa), trust_anchors=pki.anchors)
    assert codes(report) == ["timestamp-not-tsa"]
    assert "1.3.6.1.5.5.7.3.4" in timestamp_check(report).detail


def test_an_authority_certificate_expired_at_its_time_is_refused(pki):
    report = verify(ACT, stamped(pki, tsa=pki.old_tsa), trust_anchors=pki.anchors)
    assert codes(report) == ["timestamp-expired"]


def test_a_token_sealed_by_another_key_is_refused(pki):
    impostor = Issued(pki.tsa["rsa"].cert, Key.rsa())  # the real certificate, another key
    report = verify(ACT, stamped(pki, tsa=impostor), trust_anchors=pki.anchors)
    assert codes(report) == ["timestamp-invalid"]
    assert "does not verify" in timestamp_check(report).detail


def test_a_token_without_its_certificate_finds_it_in_the_signature(pki):
    tsa = pki.tsa["rsa"]
    bare = stamped(pki, tsa=tsa, include_certificate=False)
    assert codes(verify(ACT, bare, trust_anchors=pki.anchors)) == ["timestamp-invalid"]
    carried = with_timestamp(
        sign_cms(ACT, pki.signer["rsa"], extra=[tsa]), tsa, include_certificate=False
    )
    assert verify(ACT, carried, trust_anchors=pki.anchors).ok


def test_no_timestamp_is_accepted_and_marked_unless_required(pki):
    plain = sign_cms(ACT, pki.signer["gost"])
    report = verify(ACT, plain, trust_anchors=pki.anchors)
    assert report.ok and timestamp_check(report).params == {"state": "absent"}
    assert report.signer.proven_time is None
    required = verify(ACT, plain, trust_anchors=pki.anchors, require_timestamp=True)
    assert codes(required) == ["no-timestamp"]
    assert verify(ACT, stamped(pki, "gost"), trust_anchors=pki.anchors, require_timestamp=True).ok
    config = {"EDS_REQUIRE_TIMESTAMP": True}
    assert eds.settings_from_config(config)["require_timestamp"] is True
    assert eds.settings_from_config({})["require_timestamp"] is False


def test_a_damaged_token_is_refused_not_raised(pki):
    der = stamped(pki)
    broken = _replace_token(der, lambda t: t[:-40] + bytes(40))
    assert codes(verify(ACT, broken, trust_anchors=pki.anchors)) == ["timestamp-invalid"]
    assert tuple(c for c in eds.CODES if c.startswith("timestamp-")) == eds_timestamp.CODES


def test_no_changed_byte_of_a_token_proves_another_time_or_raises(pki):
    gen_time = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    der = stamped(pki, gen_time=gen_time)
    signer = asn1_cms.ContentInfo.load(der)["content"]["signer_infos"][0]
    token = signer["unsigned_attrs"][0]["values"][0].dump()
    refused = 0
    for position in range(0, len(token), 7):
        changed = bytearray(token)
        changed[position] ^= 0x01
        report = verify(
            ACT, _replace_token(der, lambda t, c=bytes(changed): c), trust_anchors=pki.anchors
        )
        if report.ok:  # a byte nothing depends on: the time is still the authority's
            assert report.signer.proven_time == gen_time, position
        else:
            refused += 1
            assert report.signer.proven_time is None
            assert codes(report)[0].startswith("timestamp-"), (position, codes(report))
    assert refused > len(token) // 7 * 0.9


# --- part 4: the proven time stored and shown --------------------------------------


def llp_winner_signs(app, client, issued, make_cms, **settings):
    """The September winner (an LLP) sends the CMS ``make_cms(pki, act)`` returns from
    its page, as NCALayer's page does; the answer, its link's token and the test PKI."""
    winner = issued.winner
    winner.participant.legal_form = "LLP"
    signers = pki_for(app, winner)
    app.config.update(settings)
    token = acts.issue_link(winner)
    db.session.commit()
    page = client.get(f"/ru/winner/{token}").get_data(as_text=True)
    cms = make_cms(signers, issued.pdf)
    response = client.post(
        f"/ru/winner/{token}/signature",
        data={"csrf_token": csrf_from(page), "cms_base64": base64.b64encode(cms).decode()},
    )
    db.session.expire_all()
    return response, token


def test_the_proven_time_is_stored_and_shown_to_the_winner_and_staff(app, issued, client, auth):
    winner_id = issued.winner.id
    gen_time = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)

    def stamped_by_nca(signers, act):
        return with_timestamp(sign_cms(act, signers.head), issue_tsa(signers.ca), gen_time=gen_time)

    response, token = llp_winner_signs(app, client, issued, stamped_by_nca)
    assert response.status_code == 302
    signature = db.session.scalar(sa.select(ActSignature))
    assert signature.proven_time == gen_time
    assert signature.report["signer"]["proven_time"] == gen_time.isoformat()
    shown = client.get(f"/ru/winner/{token}").get_data(as_text=True)
    local = gen_time.astimezone(CAMPAIGN_TZ).strftime("%H:%M")
    assert re.search(
        r'<span id="signature-time">Время подписания, подтверждённое меткой времени НУЦ РК: '
        rf"[^<]*{local}\.</span>",
        shown,
    ), re.findall(r'<span id="signature-time">[^<]*</span>', shown)
    auth.login("marketing")
    staff = client.get(f"/admin/ismet-2022/winners/{winner_id}").get_data(as_text=True)
    assert re.search(r"(Время подписания, подтверждённое|ҚР ҰКО уақыт белгісімен)", staff)


def test_a_signature_without_timestamp_is_stored_as_the_signers_word(app, issued, client):
    response, token = llp_winner_signs(
        app, client, issued, lambda signers, act: sign_cms(act, signers.head)
    )
    assert response.status_code == 302
    signature = db.session.scalar(sa.select(ActSignature))
    assert signature.proven_time is None and signature.signing_time is not None
    shown = client.get(f"/ru/winner/{token}").get_data(as_text=True)
    assert "Время подписания со слов подписанта (метки времени нет)" in shown


def test_a_required_timestamp_refuses_and_stores_nothing(app, issued, client):
    response, _ = llp_winner_signs(
        app,
        client,
        issued,
        lambda signers, act: sign_cms(act, signers.head),
        EDS_REQUIRE_TIMESTAMP=True,
    )
    assert "В подписи нет метки времени службы НУЦ РК" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActSignature)) == 0


def test_eds_verify_shows_the_proven_time(tmp_path):
    app = app_with(tmp_path, EDS_TRUST_ANCHORS=kalkan_anchors())
    runner = app.test_cli_runner()
    document = str(KALKAN / "individual_document.txt")
    result = runner.invoke(
        eds_cli, ["verify", document, str(KALKAN / "individual_detached.der"), "--lang", "ru"]
    )
    assert result.exit_code == 0, result.output
    assert "proven time (timestamp): 2026-07-20T09:08:07+00:00" in result.output
    assert "signing time (stated by the signer): 2026-07-20T09:08:06+00:00" in result.output
    assert "timestamp authority: TIME-STAMPING AUTHORITY" in result.output
    assert "Время подписания, подтверждённое меткой времени НУЦ РК" in result.output
    assert "pass timestamp: Служба меток времени НУЦ РК подтверждает" in result.output


def test_eds_verify_says_a_time_without_timestamp_is_the_signers_word(tmp_path, pki):
    app = app_with(tmp_path, EDS_TRUST_ANCHORS=pki.anchors)
    signature = tmp_path / "act.cms"
    signature.write_bytes(sign_cms(ACT, pki.signer["rsa"]))
    document = tmp_path / "act.pdf"
    document.write_bytes(ACT)
    result = app.test_cli_runner().invoke(
        eds_cli, ["verify", str(document), str(signature), "--lang", "kk"]
    )
    assert result.exit_code == 0, result.output
    assert "Қол қойылған уақыт, қол қоюшының өзі көрсеткендей (уақыт белгісі жоқ)" in result.output
    assert "proven time" not in result.output
