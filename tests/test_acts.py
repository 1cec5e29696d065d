"""Acts: the private link, the act's text in both languages, EDS signing, manual signing."""

from __future__ import annotations

import base64
import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from portal.campaign import acts
from portal.models import AuditEntry, Winner, db
from portal.models.acts import ActSignature, ManualSubmission, WinnerFile, WinnerLink
from portal.services import eds
from portal.services.mail import send_pending
from portal.web.urls import SiteLinks
from tests.eds_pki import sign_cms
from tests.helpers import (
    csrf_from,
    in_touch,
    pki_for,
    png,
    smtp_server,
    translated,
    verified,
    with_identity,
)

W = Winner


def pdf_text(data: bytes) -> str:
    return re.sub(
        r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    )


# --- the act ------------------------------------------------------------------------


def test_the_act_says_everything_in_both_languages(app, issued):
    text = pdf_text(issued.pdf)
    winner = issued.winner
    for lang in ("kk", "ru"):
        for msgid in ("Organizer", "Winner", "Identity document", "Prize"):
            assert translated(lang, msgid) in text, (lang, msgid)
    for fact in (
        issued.number,
        winner.participant.company_name,
        winner.participant.bin_iin,
        "Aidar Petrov",
        "047123456",
        "MVD RK",
        "Chocomart",
        "200 000",
    ):
        assert fact in text, fact
    assert re.search(r"21\s?428,57", text)  # the VAT in the 200 000 ₸, with tiyn
    for rule in ("14", "15", "17", "18"):
        assert text.count(rule) >= 2  # cited in each language
    assert issued.winner.status == W.ACT_ISSUED


def test_an_act_is_frozen_and_a_correction_keeps_the_old_one(app, issued):
    first_bytes, first_sha = issued.pdf, issued.sha256
    winner = issued.winner
    with pytest.raises(acts.ActRefused) as refused:
        acts.issue_act(winner, links=SiteLinks())
    assert refused.value.code == "correction-reason-required"
    acts.set_identity(
        winner,
        director_name="Aidar Petrov",
        document_type="passport",
        document_number="N1234567",
        document_issuer="MVD RK",
        document_date=date(2020, 1, 1),
        entered_by="staff",
    )
    with app.test_request_context("/ru/"):
        second = acts.issue_act(
            winner, correction_reason="passport, not ID card", links=SiteLinks()
        )
    db.session.commit()
    assert second.number != issued.number and second.replaces_id == issued.id
    assert acts.current_act(winner) == second
    db.session.expire_all()
    assert (issued.pdf, issued.sha256) == (first_bytes, first_sha)
    assert "N1234567" in pdf_text(second.pdf) and "N1234567" not in pdf_text(issued.pdf)


def test_no_act_without_identity_or_before_contact(app, drawn):
    verified(drawn)
    with pytest.raises(acts.ActRefused) as refused:
        acts.issue_act(drawn, links=SiteLinks())
    assert refused.value.code == "identity-required"
    with_identity(drawn)
    with pytest.raises(acts.ActRefused) as refused:
        acts.issue_act(drawn, links=SiteLinks())
    assert refused.value.code == "not-in-touch"


# --- the private link ---------------------------------------------------------------


def test_the_link_is_stored_hashed_expires_and_can_be_revoked(app, issued, client):
    winner = issued.winner
    token = acts.issue_link(winner)
    db.session.commit()
    stored = db.session.scalars(sa.select(WinnerLink.token_sha256)).all()
    assert token not in stored and acts.token_digest(token) in stored
    page = client.get(f"/kk/winner/{token}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert issued.number in page.get_data(as_text=True)
    assert client.get(f"/kk/winner/{token}x").status_code == 404
    link = db.session.scalar(sa.select(WinnerLink))
    assert acts.winner_for_token(token, link.created_at + timedelta(days=59)) == winner
    assert acts.winner_for_token(token, link.created_at + timedelta(days=60, seconds=1)) is None
    again = acts.issue_link(winner)
    db.session.commit()
    assert client.get(f"/kk/winner/{token}").status_code == 404  # the old link is revoked
    assert client.get(f"/ru/winner/{again}").status_code == 200
    acts.revoke_links(winner)
    db.session.commit()
    assert client.get(f"/ru/winner/{again}").status_code == 404


def test_the_winner_enters_its_identity_and_downloads_the_act(app, drawn, client):
    in_touch(drawn)
    token = acts.issue_link(drawn)
    winner_id = drawn.id
    db.session.commit()
    page = client.get(f"/ru/winner/{token}")
    data = {
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "director_name": "Aidar Petrov",
        "document_type": "id_card",
        "document_number": "047123456",
        "document_issuer": "MVD RK",
        "document_date": "2019-03-01",
    }
    assert client.post(f"/ru/winner/{token}/identity", data=data).status_code == 302
    with app.test_request_context("/ru/"):
        act = acts.issue_act(db.session.get(Winner, winner_id), links=SiteLinks())
    db.session.commit()
    download = client.get(f"/ru/winner/{token}/act.pdf")
    assert download.status_code == 200 and download.data == act.pdf
    assert "047123456" not in client.get("/ru/ismet-2022/winners/2022-09").get_data(as_text=True)
    actions = db.session.scalars(sa.select(AuditEntry.action)).all()
    assert "winner.identity_entered" in actions and "act.download" in actions
    assert not any(
        "047123456" in (e.details or "") for e in db.session.scalars(sa.select(AuditEntry))
    )


# --- signing with an EDS ------------------------------------------------------------


def as_llp(winner: Winner) -> None:
    winner.participant.legal_form = "LLP"


@pytest.mark.parametrize(
    ("signer", "document", "code"),
    [
        ("other", "act", "wrong-bin"),
        ("person", "act", "not-legal-entity-role"),
        ("auth", "act", "not-signing-key"),
        ("head", "altered", "digest-mismatch"),
    ],
)
def test_a_wrong_signature_is_refused_and_nothing_is_stored(app, issued, signer, document, code):
    as_llp(issued.winner)
    pki = pki_for(app, issued.winner)
    data = issued.pdf if document == "act" else issued.pdf + b"%"
    report = acts.sign_with_eds(
        issued,
        sign_cms(data, getattr(pki, signer)),
        eds_settings=eds.settings_from_config(app.config),
    )
    db.session.commit()
    assert not report.ok and code in report.codes, report.codes
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActSignature)) == 0
    assert issued.winner.status == W.ACT_ISSUED
    attempt = db.session.scalar(sa.select(AuditEntry).filter_by(action="act.eds_attempt"))
    assert code in attempt.details and issued.winner.participant.bin_iin not in attempt.details


def test_an_llp_director_signs_through_the_page(app, issued, client):
    as_llp(issued.winner)
    pki = pki_for(app, issued.winner)
    token = acts.issue_link(issued.winner)
    db.session.commit()
    page = client.get(f"/kk/winner/{token}").get_data(as_text=True)
    cms = sign_cms(client.get(f"/kk/winner/{token}/act.pdf").data, pki.head)
    response = client.post(
        f"/kk/winner/{token}/signature",
        data={"csrf_token": csrf_from(page), "signature": (io.BytesIO(cms), "act.pdf.cms")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.expire_all()
    signature = db.session.scalar(sa.select(ActSignature))
    assert signature.signer_name == "PETROV AIDAR" and signature.signer_bin
    assert signature.certificate_serial == format(pki.head.cert.serial_number, "x")
    assert signature.report["checks"] and signature.cms == cms
    assert db.session.get(Winner, issued.winner_id).status == W.ACT_SIGNED


def test_an_ie_signs_with_a_gost_2015_key_sent_as_ncalayer_does(app, issued, client):

    issued.winner.participant.legal_form = "IE"  # an IE signs with its own IIN
    pki = pki_for(app, issued.winner)
    token = acts.issue_link(issued.winner)
    db.session.commit()
    page = client.get(f"/ru/winner/{token}").get_data(as_text=True)
    cms = sign_cms(issued.pdf, pki.gost_ie)
    response = client.post(
        f"/ru/winner/{token}/signature",
        data={"csrf_token": csrf_from(page), "cms_base64": base64.b64encode(cms).decode()},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(sa.select(ActSignature.received_via)) == "ncalayer"
    assert db.session.get(Winner, issued.winner_id).status == W.ACT_SIGNED


def test_a_demo_winner_signs_its_act_with_a_test_key(app, runner):
    """The demo's November redraw winner: act issued, signed with a generated NCA-shaped key."""
    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.test_request_context("/ru/"):
        winner = db.session.scalar(
            sa.select(Winner).filter_by(status=W.CONTACTED).order_by(Winner.id.desc())
        )
        with_identity(winner)
        act = acts.issue_act(winner, links=SiteLinks())
        pki = pki_for(app, winner)
        signer = pki.gost_ie if winner.participant.legal_form == "IE" else pki.head
        report = acts.sign_with_eds(
            act, sign_cms(act.pdf, signer), eds_settings=eds.settings_from_config(app.config)
        )
        db.session.commit()
        assert report.ok, report.codes
        assert winner.status == W.ACT_SIGNED


# --- signing by hand ----------------------------------------------------------------


def manual_post(client, token, files, reason="The director's EDS expired."):
    page = client.get(f"/ru/winner/{token}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "reason": reason}
    data.update({k: (io.BytesIO(v), n) for k, (v, n) in files.items()})
    return client.post(f"/ru/winner/{token}/manual", data=data, content_type="multipart/form-data")


def test_manual_signing_is_checked_mailed_and_decided(app, issued, client, auth):

    app.config["MARKETING_MANAGER_EMAIL"] = "manager@ismet.kz"
    token = acts.issue_link(issued.winner)
    winner_id = issued.winner_id
    db.session.commit()
    # a renamed executable: refused with a translated sentence, nothing stored
    refused = manual_post(
        client,
        token,
        {"signed_act": (b"MZ\x90\x00" + bytes(300), "act.pdf"), "director_id": (png(), "id.png")},
    )
    assert refused.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WinnerFile)) == 0
    assert list(acts.files_storage().keys()) == []
    # missing the director's card
    assert manual_post(client, token, {"signed_act": (issued.pdf, "act.pdf")}).status_code == 400
    good = manual_post(
        client,
        token,
        {"signed_act": (issued.pdf, "act.pdf"), "director_id": (png(), "../../id.png")},
    )
    assert good.status_code == 302
    with smtp_server(app) as smtpd:
        send_pending()
    [mail] = smtpd.received
    assert mail.rcpt_tos == ["manager@ismet.kz"] and issued.number in mail.message.get_content()
    submission = db.session.scalar(sa.select(ManualSubmission))
    assert {f.kind for f in submission.files} == {"signed_act", "director_id"}
    assert all(".." not in f.path for f in submission.files)
    # staff: accepting needs the organizer's director's card; returning needs a reason
    with pytest.raises(acts.ActRefused) as refused:
        acts.accept_submission(submission)
    assert refused.value.code == "organizer-card-required"
    acts.return_submission(submission, "The scan of the act is unreadable.")
    db.session.commit()
    page = client.get(f"/ru/winner/{token}").get_data(as_text=True)
    assert "The scan of the act is unreadable." in page
    assert (
        manual_post(
            client, token, {"signed_act": (issued.pdf, "act.pdf"), "director_id": (png(), "id.png")}
        ).status_code
        == 302
    )
    auth.login("marketing")
    staff_page = client.get(f"/admin/ismet-2022/winners/{winner_id}").get_data(as_text=True)
    upload = client.post(
        f"/admin/ismet-2022/winners/{winner_id}/files",
        data={"csrf_token": csrf_from(staff_page), "file": (io.BytesIO(png()), "card.png")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    second = db.session.scalar(
        sa.select(ManualSubmission).filter_by(status=ManualSubmission.SUBMITTED)
    )
    accept = client.post(
        f"/admin/ismet-2022/submissions/{second.id}/accept",
        data={"csrf_token": csrf_from(staff_page)},
    )
    assert accept.status_code == 302
    db.session.expire_all()
    assert db.session.get(Winner, winner_id).status == W.ACT_SIGNED
    # the scans reach staff with the right, and the winner, and nobody else
    scan = db.session.scalar(sa.select(WinnerFile).filter_by(kind="director_id"))
    assert client.get(f"/admin/ismet-2022/winner-files/{scan.id}").data == png()
    auth.logout()
    assert client.get(f"/admin/ismet-2022/winner-files/{scan.id}").status_code == 302  # sign-in
    assert client.get(f"/ru/winner/{token}/files/{scan.id}").status_code == 200
