"""The commission signs the draw's protocol (issue 18, part 3): each member's EDS over the
Kazakh protocol's exact bytes, verified by the acts' verifier with an individual's
certificate in the member's name, or marked as signed on paper; the record page and
record.json list them, the CMS files are downloadable, and ``flask draw verify`` checks
them again over the stored protocol."""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
import threading
from datetime import UTC

import pytest
import requests
import sqlalchemy as sa

from portal.campaign import draws
from portal.campaign import protocol_signatures as signing
from portal.campaign.periods import find_period
from portal.models import AuditEntry, Campaign, Draw, DrawFile, ProtocolSignature, db
from portal.models.signing import SigningSession
from portal.services import eds, egov_qr
from tests.eds_pki import timestamp_time
from tests.egov_standins import Phone, SigexStandIn
from tests.helpers import (
    COMMISSION_IIN,
    CommissionPki,
    conduct,
    csrf_from,
    load_demo_draws,
    load_september,
    page_text,
    serving,
    translated,
)

NOT_ACCEPTED = "The signature was not accepted: see why below."


@pytest.fixture
def pki(app) -> CommissionPki:
    made = CommissionPki()
    app.config["EDS_TRUST_ANCHORS"] = [made.ca.cert]
    return made


@pytest.fixture
def draw_id(app, demo, standin) -> int:
    """September drawn through the stand-in random.org (commission: tests.helpers.COMMISSION)."""
    load_september(app, demo)
    with app.app_context():
        draw = conduct(find_period(db.session.get(Campaign, demo), "2022-09"))
        return draw.id


def protocol(app, draw_id: int, lang: str = "kk") -> bytes:
    with app.app_context():
        return draws.draw_file(db.session.get(Draw, draw_id), f"protocol-{lang}.pdf").content


def counts(app) -> tuple[int, int, int]:
    """Signatures, files of draws, and protocol_signed entries of the audit trail."""
    with app.app_context():
        return (
            db.session.scalar(sa.select(sa.func.count()).select_from(ProtocolSignature)),
            db.session.scalar(sa.select(sa.func.count()).select_from(DrawFile)),
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "draw.protocol_signed")
            ),
        )


def commission_in(auth, lang: str) -> None:
    """A commission member's account working in ``lang``, signed in (staff pages speak
    the account's language)."""
    auth.create("commission", language=lang)
    auth.login("commission", create=False)


def upload(client, draw_id: int, member: int, cms: bytes, lang: str = "ru"):
    """Staff send a member's CMS file from the draw's page (in ``lang``)."""
    page = client.get(f"/admin/ismet-2022/draws/{draw_id}", headers={"Accept-Language": lang})
    assert page.status_code == 200
    return client.post(
        f"/admin/ismet-2022/draws/{draw_id}/signatures",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "member": str(member),
            "signature": (io.BytesIO(cms), "protocol.p7s"),
        },
        content_type="multipart/form-data",
        headers={"Accept-Language": lang},
    )


def mark_paper(client, draw_id: int, member: int):
    page = client.get(f"/admin/ismet-2022/draws/{draw_id}")
    return client.post(
        f"/admin/ismet-2022/draws/{draw_id}/signatures/paper",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "member": str(member)},
    )


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("certificate", "member", "same"),
    [
        ("SARSENOVA AIGUL", "Aigul Sarsenova", True),  # order and case
        ("САРСЕНОВА АЙГУЛЬ", "Сарсенова Айгуль Маратовна", True),  # with a patronymic
        ("ҚАСЫМОВ ӘЛИХАН", "Касымов Алихан", True),  # Kazakh letters and Russian ones
        ("ЖҰМАБАЕВ ЕРЛАН", "Жумабаев Ерлан Сәкенұлы", True),
        ("SARSENOVA AIGUL", "Erlan Zhumabayev", False),
        ("SARSENOVA AIGUL", "Aigul Sarsenova Maratovna Extra", False),  # two words more
        ("SARSENOVA", "Aigul Sarsenova", False),  # a CN of one word names nobody
        ("SARSENOVA DINARA", "Aigul Sarsenova", False),
    ],
)
def test_the_certificates_name_is_compared_with_the_members(certificate, member, same):
    assert signing.same_person(certificate, member) is same


# --- signing -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_a_member_signs_the_kazakh_protocol_with_a_cms_file(app, client, auth, pki, draw_id, lang):
    commission_in(auth, lang)
    cms = pki.sign(protocol(app, draw_id), pki.sarsenova)
    response = upload(client, draw_id, 1, cms, lang)
    assert response.status_code == 302, page_text(response)
    assert response.headers["Location"].endswith(f"/admin/ismet-2022/draws/{draw_id}#signatures")

    with app.app_context():
        (kept,) = db.session.scalars(sa.select(ProtocolSignature)).all()
        assert (kept.member_index, kept.member_name, kept.kind) == (1, "Aigul Sarsenova", "eds")
        assert kept.protocol_file == "protocol-kk.pdf"
        assert kept.signer_name == "SARSENOVA AIGUL"
        assert kept.certificate_serial == format(pki.sarsenova.cert.serial_number, "x")
        assert kept.proven_time == timestamp_time(cms)  # the TSA's genTime
        assert kept.received_via == "upload" and kept.accepted_by == "commission@ismet.kz"
        assert kept.report["ok"] is True
        # the CMS is kept as a file of the draw, beside its protocol, as DER
        assert kept.cms_file.name == "protocol-kk-signature-1.p7s"
        assert kept.cms_file.content == eds.decode_cms(cms)
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "draw.protocol_signed")
        )
        assert json.loads(entry.details)["member"] == "Aigul Sarsenova"
        assert json.loads(entry.details)["kind"] == "eds"
        # the draw's verdict was made again with the signature in it, and holds
        row = draws.stored_verdict(db.session.get(Draw, draw_id))
        checks = {c.code: c for c in draws.stored_checks(row)}
        assert checks["protocol-signature"].ok and row.code == "verified-other-key"

    page = client.get(f"/admin/ismet-2022/draws/{draw_id}", headers={"Accept-Language": lang})
    text = page.get_data(as_text=True)
    assert "SARSENOVA AIGUL" in text
    assert translated(lang, "Commission signatures") in text


def test_the_record_page_and_record_json_list_the_signatures(app, client, auth, pki, draw_id):
    auth.login("commission")
    cms = pki.sign(protocol(app, draw_id), pki.sarsenova)
    assert upload(client, draw_id, 1, cms).status_code == 302
    assert mark_paper(client, draw_id, 2).status_code == 302
    auth.logout()

    for lang in ("kk", "ru"):
        page = client.get(f"/{lang}/draws/{draw_id}").get_data(as_text=True)
        assert translated(lang, "signed with an EDS by %(signer)s", signer="SARSENOVA AIGUL") in (
            page
        )
        assert translated(lang, "signed on paper") in page
        assert translated(lang, "no signature recorded") in page  # the third member
        assert f'href="/{lang}/draws/{draw_id}/protocol-kk-signature-1.p7s"' in page
        assert COMMISSION_IIN not in page  # the certificate's IIN is never shown publicly
        # and how to check it with openssl, for the EDS signature only
        assert (
            f"-in draw-{draw_id}-protocol-kk-signature-1.p7s -content draw-{draw_id}-protocol-kk.pdf"
            in page
        )
        assert "protocol-kk-signature-2.p7s" not in page
        # the protocol signed is the Kazakh one, linked from either language
        assert f'href="/kk/draws/{draw_id}/protocol.pdf" id="signed-protocol"' in page

    record = client.get(f"/ru/draws/{draw_id}/record.json")
    assert COMMISSION_IIN not in record.get_data(as_text=True)
    with app.app_context():
        proven = db.session.scalar(sa.select(ProtocolSignature.proven_time).filter_by(kind="eds"))
    assert record.json["signatures"] == [
        {
            "member": "Aigul Sarsenova",
            "kind": "eds",
            "file": "protocol-kk-signature-1.p7s",
            "signed_at": proven.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "signer": "SARSENOVA AIGUL",
        },
        {
            "member": "Erlan Zhumabayev",
            "kind": "paper",
            "file": None,
            "signed_at": None,
            "signer": None,
        },
    ]
    # the CMS file, under the draw's files, is the one kept; it signs the Kazakh protocol
    download = client.get(f"/kk/draws/{draw_id}/protocol-kk-signature-1.p7s")
    assert download.status_code == 200
    assert download.data == eds.decode_cms(cms)
    assert eds.verify(protocol(app, draw_id), download.data, trust_anchors=[pki.ca.cert]).ok
    assert client.get(f"/kk/draws/{draw_id}/protocol-kk-signature-2.p7s").status_code == 404
    assert client.get(f"/kk/draws/{draw_id}/protocol-kk-signature-3.p7s").status_code == 404


@pytest.mark.parametrize(
    ("case", "message", "values"),
    [
        (
            "wrong-name",
            "The certificate is %(signer)s's, not %(member)s's: each member signs with a"
            " certificate in their own name.",
            {"signer": "ZHUMABAYEV ERLAN", "member": "Aigul Sarsenova"},
        ),
        (
            "legal-entity",
            "The signature was made with a legal entity's certificate (%(signer)s): a commission"
            " member signs with a personal certificate.",
            {"signer": "SARSENOVA AIGUL"},
        ),
        ("other-bytes", NOT_ACCEPTED, {}),
        ("russian-protocol", NOT_ACCEPTED, {}),
        ("not-a-cms", NOT_ACCEPTED, {}),
        ("no-file", "The file is not a signature (CMS, .cms or .p7s) or is too large.", {}),
    ],
)
@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_a_refused_signature_says_why_and_stores_nothing(
    app, client, auth, pki, draw_id, case, message, values, lang
):
    commission_in(auth, lang)
    document = protocol(app, draw_id)
    cms = {
        "wrong-name": lambda: pki.sign(document, pki.zhumabayev),
        "legal-entity": lambda: pki.sign(document, pki.sarsenova_llp),
        "other-bytes": lambda: pki.sign(document + b"\n", pki.sarsenova),
        "russian-protocol": lambda: pki.sign(protocol(app, draw_id, "ru"), pki.sarsenova),
        "not-a-cms": lambda: b"%PDF-1.7 not a signature",
        "no-file": lambda: b"",
    }[case]()
    before = counts(app)
    response = upload(client, draw_id, 1, cms, lang)
    assert response.status_code == 400
    text = page_text(response)
    expected = translated(lang, message, **values)
    assert expected != message % values if values else expected != message
    assert expected in text
    body = response.get_data(as_text=True)
    if case in ("other-bytes", "russian-protocol", "not-a-cms"):
        # the verifier's checks, in the page's language: the digest is not the protocol's
        assert 'id="signature-report"' in body
    else:  # the verifier found nothing wrong with the signature itself: none listed
        assert 'id="signature-report"' not in body
    assert counts(app) == before  # nothing stored, nothing on the record


def test_a_member_signs_once_and_paper_is_kept_as_paper(app, client, auth, pki, draw_id):
    auth.login("commission")
    assert mark_paper(client, draw_id, 1).status_code == 302
    with app.app_context():
        (paper,) = db.session.scalars(sa.select(ProtocolSignature)).all()
        assert (paper.kind, paper.cms_file_id, paper.received_via) == ("paper", None, "paper")
    before = counts(app)
    # a signature is never replaced: neither by an EDS nor by paper again
    cms = pki.sign(protocol(app, draw_id), pki.sarsenova)
    with app.app_context():
        draw = db.session.get(Draw, draw_id)
        with pytest.raises(signing.SignatureRefused) as refused:
            signing.sign_with_eds(draw, 1, cms, eds_settings=eds.settings_from_config(app.config))
        assert refused.value.code == "already-signed"
        with pytest.raises(signing.SignatureRefused):
            signing.mark_paper(draw, 1)
        db.session.rollback()
    # the page no longer offers the member; a forged form is refused
    response = mark_paper(client, draw_id, 1)
    assert response.status_code == 400
    response = mark_paper(client, draw_id, 9)
    assert response.status_code == 400
    assert counts(app) == before

    # a paper signature is listed by the verification, not checked
    with app.app_context():
        checks = draws.verify(db.session.get(Draw, draw_id))
        paper_check = [c for c in checks if c.code == "protocol-paper"]
        assert [(c.ok, c.detail) for c in paper_check] == [(True, "Aigul Sarsenova")]


def test_only_the_commission_signs(app, client, auth, pki, draw_id):
    auth.login("marketing")
    cms = pki.sign(protocol(app, draw_id), pki.sarsenova)
    page = client.get(f"/admin/ismet-2022/draws/{draw_id}")
    assert page.status_code == 200 and 'id="signature-form"' not in page.get_data(as_text=True)
    response = client.post(
        f"/admin/ismet-2022/draws/{draw_id}/signatures",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "member": "1",
            "signature": (io.BytesIO(cms), "protocol.p7s"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert counts(app)[0] == 0


def test_flask_draw_verify_fails_when_a_stored_signature_is_altered(app, runner, pki, draw_id):
    with app.app_context():
        draw = db.session.get(Draw, draw_id)
        settings = eds.settings_from_config(app.config)
        document = protocol(app, draw_id)
        signing.sign_with_eds(draw, 1, pki.sign(document, pki.sarsenova), eds_settings=settings)
        signing.sign_with_eds(
            draw, 2, pki.sign(document, pki.zhumabayev), eds_settings=settings, via="ncalayer"
        )
        signing.mark_paper(draw, 3)
        db.session.commit()
    result = runner.invoke(args=["draw", "verify", str(draw_id), "--lang", "ru"])
    assert result.exit_code == 0, result.output
    title = translated(
        "ru",
        "The EDS signature of %(member)s verifies over the Kazakh protocol",
        member="Aigul Sarsenova",
    )
    assert f"ok   {title}" in result.output
    assert translated(
        "ru", "%(member)s signed the printed protocol", member="Dinara Akhmetova"
    ) in (result.output)

    # someone with database access changes one byte of the stored CMS (its signature value)
    with app.app_context():
        stored = db.session.scalar(
            sa.select(DrawFile).filter_by(draw_id=draw_id, name="protocol-kk-signature-2.p7s")
        )
        altered = bytearray(stored.content)
        altered[-300] ^= 0x01
        db.session.execute(
            sa.update(DrawFile).where(DrawFile.id == stored.id).values(content=bytes(altered))
        )
        db.session.commit()
    broken = runner.invoke(args=["draw", "verify", str(draw_id), "--lang", "kk"])
    assert broken.exit_code == 1
    failed = translated(
        "kk",
        "The EDS signature of %(member)s verifies over the Kazakh protocol",
        member="Erlan Zhumabayev",
    )
    assert f"FAIL {failed}" in broken.output
    assert f"draw {draw_id}: broken" in broken.output

    # even when the digest kept with it is changed to match: the signature itself fails
    with app.app_context():
        db.session.execute(
            sa.update(ProtocolSignature)
            .where(ProtocolSignature.member_index == 2)
            .values(cms_sha256=hashlib.sha256(bytes(altered)).hexdigest())
        )
        db.session.commit()
        draw = db.session.get(Draw, draw_id)
        checks = draws.verify(draw, eds.settings_from_config(app.config))
        (bad,) = [c for c in checks if c.code == "protocol-signature" and not c.ok]
        assert bad.detail.startswith("Erlan Zhumabayev|")
        assert bad.detail != "Erlan Zhumabayev|cms-changed"
        assert draws.verdict(checks).code == "broken"


# --- eGov Mobile's QR code ---------------------------------------------------------------

QR_TEXT = re.compile(r'data-qr-text="([^"]+)"')


def open_qr(client, draw_id: int, member: int) -> str:
    """Staff show a member's QR code on the draw's page; its text (what the phone reads)."""
    page = client.get(f"/admin/ismet-2022/draws/{draw_id}").get_data(as_text=True)
    response = client.post(
        f"/admin/ismet-2022/draws/{draw_id}/signatures/egov",
        data={"csrf_token": csrf_from(page), "member": str(member)},
    )
    assert response.status_code == 302 and response.location.endswith("#egov-qr")
    page = client.get(f"/admin/ismet-2022/draws/{draw_id}").get_data(as_text=True)
    return html.unescape(QR_TEXT.search(page).group(1))


def session_status(client, draw_id: int) -> dict:
    with client.application.app_context():
        session_id = db.session.scalar(sa.select(sa.func.max(SigningSession.id)))
    return client.get(f"/admin/ismet-2022/draws/{draw_id}/egov/{session_id}").get_json()


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_a_member_signs_the_protocol_with_egov_mobile(app, client, auth, pki, draw_id, lang):
    with serving(app) as url:
        app.config["PUBLIC_BASE_URL"] = url
        commission_in(auth, lang)
        text = open_qr(client, draw_id, 1)
        assert text.startswith(f"mobileSign:{url}/egov-sign/")
        assert session_status(client, draw_id)["status"] == "waiting"
        phone = Phone(pki.sarsenova, tsa=pki.tsa)
        api1 = phone.scan(text)
        assert f"№ {draw_id}" in api1["description"]  # the protocol, named in kk and ru
        assert phone.document() == protocol(app, draw_id)  # the Kazakh protocol's exact bytes
        answer = phone.sign(text)
        assert answer.status_code == 200, answer.text
        # used once
        assert phone.put(phone.signed[0]).status_code == 410
        state = session_status(client, draw_id)
    assert state["status"] == "signed"
    assert state["message"] == translated(
        lang, "Signed by %(member)s: the signature is kept.", member="Aigul Sarsenova"
    )
    with app.app_context():
        (kept,) = db.session.scalars(sa.select(ProtocolSignature)).all()
        assert (kept.member_index, kept.kind, kept.received_via) == (1, "eds", "egov-qr")
        assert kept.accepted_by == "commission@ismet.kz"  # who showed the QR code
        assert kept.proven_time == timestamp_time(phone.signed[0])
        assert kept.cms_file.content == eds.decode_cms(phone.signed[0])
        # the draw's verdict was made again with it
        row = draws.stored_verdict(db.session.get(Draw, draw_id))
        assert [c.ok for c in draws.stored_checks(row) if c.code == "protocol-signature"] == [True]


def test_a_wrong_signer_on_the_phone_is_refused_and_nothing_is_stored(
    app, client, auth, pki, draw_id
):
    with serving(app) as url:
        app.config["PUBLIC_BASE_URL"] = url
        commission_in(auth, "ru")
        before = counts(app)
        # another member's phone scans the first member's code
        answer = Phone(pki.zhumabayev, tsa=pki.tsa).sign(open_qr(client, draw_id, 1))
        assert answer.status_code == 403
        refusal = translated(
            "ru",
            "The certificate is %(signer)s's, not %(member)s's: each member signs with a"
            " certificate in their own name.",
            signer="ZHUMABAYEV ERLAN",
            member="Aigul Sarsenova",
        )
        assert refusal in answer.json()["message"]
        state = session_status(client, draw_id)
        assert state["status"] == "refused" and state["reasons"] == [refusal]
        # a legal entity's certificate, and a changed byte of the protocol
        answer = Phone(pki.sarsenova_llp, tsa=pki.tsa).sign(open_qr(client, draw_id, 1))
        assert answer.status_code == 403
        answer = Phone(pki.sarsenova, tsa=pki.tsa).sign(open_qr(client, draw_id, 1), alter=True)
        assert answer.status_code == 403
        assert session_status(client, draw_id)["status"] == "refused"
        # the member signs on paper meanwhile: the waiting code is gone
        text = open_qr(client, draw_id, 1)
        assert mark_paper(client, draw_id, 1).status_code == 302
        assert requests.get(text.removeprefix("mobileSign:"), timeout=10).status_code == 410
    assert counts(app)[0] == before[0] + 1  # the paper signature only
    with app.app_context():
        assert db.session.scalar(sa.select(ProtocolSignature.kind)) == "paper"


def test_the_same_through_sigex(app, client, auth, pki, draw_id):
    """With ``EDS_QR_PROVIDER = "sigex"`` SIGEX serves API 1 and API 2: the worker hands it
    the Kazakh protocol and verifies the member's signature it collects."""
    with SigexStandIn() as sigex:
        app.config.update(EDS_QR_PROVIDER="sigex", SIGEX_URL=sigex.url, SIGEX_WAIT_SECONDS=20)
        commission_in(auth, "kk")
        page = client.get(f"/admin/ismet-2022/draws/{draw_id}").get_data(as_text=True)
        posted: dict = {}

        def start() -> None:  # the job waits for SIGEX in the request (JOBS_IMMEDIATE)
            posted["answer"] = client.post(
                f"/admin/ismet-2022/draws/{draw_id}/signatures/egov",
                data={"csrf_token": csrf_from(page), "member": "1"},
            )

        thread = threading.Thread(target=start)
        thread.start()
        text = None
        for _ in range(100):
            with app.app_context():
                session = db.session.scalar(sa.select(SigningSession))
                links = session.provider_data.get("links") if session else None
            if links:
                text = egov_qr.qr_text(egov_qr.link_parameter(links["egov_mobile"]))
                break
            threading.Event().wait(0.1)
        assert text and text.startswith(f"mobileSign:{sigex.url}/phone/")
        phone = Phone(pki.sarsenova, tsa=pki.tsa)
        assert phone.sign(text).status_code == 200
        assert phone.document() == protocol(app, draw_id)
        thread.join(timeout=60)
        assert posted["answer"].status_code == 302
    assert {"method": "POST", "path": "/api/egovQr"} in sigex.requests
    with app.app_context():
        session = db.session.scalar(sa.select(SigningSession))
        assert (session.provider, session.status) == ("sigex", "signed")
        (kept,) = db.session.scalars(sa.select(ProtocolSignature)).all()
        assert (kept.member_index, kept.received_via) == (1, "egov-qr")
        assert kept.accepted_by == "commission@ismet.kz"
        row = draws.stored_verdict(db.session.get(Draw, draw_id))
        assert [c.ok for c in draws.stored_checks(row) if c.code == "protocol-signature"] == [True]


def test_the_demo_s_first_draw_was_signed_on_paper(app, client, demo):
    """``make run``: the September draw's commission signed the printed protocol, said so
    on its record in both languages; its verdict holds with paper signatures listed."""
    load_demo_draws(app, demo)
    with app.app_context():
        draw = db.session.scalars(sa.select(Draw).order_by(Draw.id)).first()
        members = [m.name for m in draw.commission]
        draw_id = draw.id
    record = json.loads(client.get(f"/kk/draws/{draw_id}/record.json").data)
    assert [(s["member"], s["kind"], s["file"]) for s in record["signatures"]] == [
        (name, "paper", None) for name in members
    ]
    for lang in ("kk", "ru"):
        page = page_text(client.get(f"/{lang}/draws/{draw_id}"))
        assert page.count(translated(lang, "signed on paper")) >= len(members), lang
