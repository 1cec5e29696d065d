"""Finding 13: PDF uploads with ``/URI`` actions, and the CMS field without a size limit.

A winner's scans are served to staff later: a PDF whose link leads anywhere but to an
https address (``javascript:``, ``file:``, ``http:``, a relative address) is refused
like one with scripts, attachments or actions that launch, submit or open other files.
A link to an https address is accepted (scanner apps add them). The signature's
request is bounded before it is read: a CMS sent as JSON by NCALayer's path is refused
with 413 without being parsed or decoded.
"""

from __future__ import annotations

import base64
import io
import time

import pytest
import sqlalchemy as sa

from portal.campaign import acts
from portal.models import AuditEntry, db
from portal.models.acts import WinnerFile
from portal.services.uploads import UploadRefused, check
from tests.helpers import csrf_from, handmade_pdf, png, translated

MAX_CMS_BASE64 = 4 * -(-1024 * 1024 // 3)  # a CMS of at most 1 MB, in base64


def link_pdf(uri: bytes) -> bytes:
    """A PDF whose page has a link annotation: a ``/URI`` action to ``uri`` (a PDF string)."""
    return handmade_pdf(
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 100 20] /A << /S /URI /URI " + uri + b" >> >>",
        page=b" /Annots [4 0 R]",
    )


def refused(data: bytes) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        check(data, "act.pdf")
    return caught.value


def test_a_pdf_with_a_javascript_link_annotation_is_refused():
    refusal = refused(link_pdf(b"(javascript:app.alert\\(1\\))"))
    assert refusal.code == "pdf-unsafe-link"
    assert refusal.details["link"].startswith("javascript:")


def test_a_pdf_with_an_http_link_is_refused():
    assert refused(link_pdf(b"(http://evil.example/)")).code == "pdf-unsafe-link"


def test_a_pdf_with_an_https_link_is_accepted():
    assert check(link_pdf(b"(https://ismet.kz/kk/ismet-2022/rules)"), "act.pdf").kind == "pdf"
    assert check(link_pdf(b"(HTTPS://ismet.kz/)"), "act.pdf").kind == "pdf"  # any case


@pytest.mark.parametrize(
    "uri",
    [
        b"( javascript:app.alert\\(1\\))",  # a space first (viewers skip it)
        b"(JaVaScRiPt:app.alert\\(1\\))",
        b"<6a6176617363726970743a616c657274283129>",  # javascript:alert(1) in hex
        b"(\\152avascript:alert\\(1\\))",  # an octal escape
        b"(file:///C:/Windows/System32/calc.exe)",
        b"(data:text/html,<script>alert\\(1\\)</script>)",
        b"(//evil.example/)",  # relative: the viewer decides the scheme
        b"()",
    ],
)
def test_every_other_kind_of_link_address_is_refused(uri):
    assert refused(link_pdf(uri)).code == "pdf-unsafe-link"


def test_a_link_address_found_indirectly_or_only_in_the_bytes_is_refused():
    # the address as an object of its own, the /URI name written with an escape
    indirect = handmade_pdf(
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /URI /U#52I 5 0 R >> >>",
        b"(javascript:alert\\(1\\))",
        page=b" /Annots [4 0 R]",
    )
    assert refused(indirect).code == "pdf-unsafe-link"
    # a URI dictionary's base, against which relative links are resolved
    base = handmade_pdf(catalog=b" /URI << /Base (javascript:alert\\(1\\)//) >>")
    assert refused(base).code == "pdf-unsafe-link"
    # an object no cross-reference entry lists: the byte scan finds it
    unlisted = handmade_pdf(unlisted=b"9 0 obj\n<< /S /URI /URI (javascript:x) >>\nendobj\n")
    assert refused(unlisted).code == "pdf-unsafe-link"


@pytest.mark.parametrize(
    "action",
    [
        b"<< /S /Launch /F (calc.exe) >>",
        b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>",
        b"<< /S /SubmitForm /F (https://evil.example/) >>",
        b"<< /S /GoToR /F (other.pdf) /D [0 /Fit] >>",
    ],
)
def test_actions_that_run_launch_submit_or_open_other_files_are_still_refused(action):
    for where in (b" /OpenAction 4 0 R", b" /AA << /O 4 0 R >>"):
        assert refused(handmade_pdf(action, catalog=where)).code == "pdf-active-content"


def manual_post(client, token, signed_act: bytes):
    page = client.get(f"/ru/winner/{token}").get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(page),
        "reason": "The director's EDS expired.",
        "signed_act": (io.BytesIO(signed_act), "act.pdf"),
        "director_id": (io.BytesIO(png()), "id.png"),
    }
    return client.post(f"/ru/winner/{token}/manual", data=data, content_type="multipart/form-data")


def test_a_winners_scan_with_a_javascript_link_is_refused_in_its_language(app, issued, client):
    token = acts.issue_link(issued.winner)
    db.session.commit()
    response = manual_post(client, token, link_pdf(b"(javascript:app.alert\\(1\\))"))
    assert response.status_code == 400
    sentence = translated(
        "ru",
        "The PDF contains a link to an address that is not a secure web address (https), which is not accepted: please send the document without it, for example as a plain scan.",
    )
    assert sentence in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WinnerFile)) == 0


def signature_token(app, issued, client) -> tuple[str, str]:
    token = acts.issue_link(issued.winner)
    db.session.commit()
    page = client.get(f"/ru/winner/{token}").get_data(as_text=True)
    return token, csrf_from(page)


def eds_attempts() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEntry).filter_by(action="act.eds_attempt")
    )


def test_a_json_cms_of_2_mb_is_refused_without_being_parsed_or_decoded(app, issued, client):
    token, csrf = signature_token(app, issued, client)
    cms = base64.b64encode(bytes(3 * 512 * 1024)).decode()  # 2 MB of valid base64
    assert len(cms) == 2 * 1024 * 1024
    response = client.post(
        f"/ru/winner/{token}/signature",
        json={"csrf_token": csrf, "cms_base64": cms},
        headers={"X-CSRFToken": csrf},
    )
    assert response.status_code == 413
    assert eds_attempts() == 0  # never decoded, never checked
    # nor as a file of 2 MB in a form (the body built here: the test client would
    # spool a file of its own that a refused request leaves open)
    boundary = "cms-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="signature"; filename="act.cms"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + bytes(2 * 1024 * 1024)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.post(
        f"/ru/winner/{token}/signature",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413 and eds_attempts() == 0


def test_a_cms_just_over_its_base64_bound_is_refused_before_decoding(app, issued, client):
    token, csrf = signature_token(app, issued, client)
    response = client.post(
        f"/ru/winner/{token}/signature",
        json={"csrf_token": csrf, "cms_base64": "A" * (MAX_CMS_BASE64 + 4)},
        headers={"X-CSRFToken": csrf},
    )
    assert response.status_code == 400 and eds_attempts() == 0


def test_a_views_own_body_limit_holds_before_the_csrf_check_reads_the_form(app, client, auth, demo):
    # The import takes up to IMPORT_MAX_BYTES, more than any other request: its limit,
    # like the signature's, is the view's own from the start (it used to be set inside
    # the view, after the CSRF check had already refused the body as too large).
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024, IMPORT_MAX_BYTES=1024 * 1024)
    auth.login("marketing")
    token = csrf_from(client.get("/admin/ismet-2022/participants/import").get_data(as_text=True))
    padding = b"\n" * (200 * 1024)  # blank lines: larger than MAX_CONTENT_LENGTH
    data = {"csrf_token": token, "period": "2022-09", "submit": "1"}
    data["file"] = (io.BytesIO(b"account_number\n" + padding), "month.csv")
    response = client.post(
        "/admin/ismet-2022/participants/import", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302  # read, and its import started
    status = response.headers["Location"] + ".json"
    deadline = time.monotonic() + 20
    while client.get(status).json["status"] not in ("done", "failed"):  # let it end
        assert time.monotonic() < deadline, "the import did not end"
        time.sleep(0.05)
