"""Forms keep what the user gave: a form sent back with errors is the page again (not a
redirect) with an error summary on top of the form, one linked line per error, the
values typed, and the names of the files to choose again; hints are tied to their
fields, radio groups are fieldsets, and every <time> says its moment as HTML reads it."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask_babel import refresh

from portal.campaign import acts
from portal.models import Announcement, db
from portal.models.acts import ManualSubmission, WinnerIdentity
from tests.helpers import csrf_from, png, translated, translated_plural, verified

SUMMARY = re.compile(r'<div class="error-summary" id="error-summary".*?</div>', re.S)


def summary_of(html: str) -> str:
    found = SUMMARY.search(html)
    assert found, "no error summary on the page"
    return found.group(0)


def links_of(summary: str) -> list[str]:
    return re.findall(r'<a href="#([^"]+)">', summary)


def heading(lang: str, num: int) -> str:
    return translated_plural(
        lang,
        "The form was not sent: %(num)d problem to correct",
        "The form was not sent: %(num)d problems to correct",
        num,
    )


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_manual_signing_without_a_reason_comes_back_with_the_summary_and_the_files_named(
    app, issued, client, lang
):
    token = acts.issue_link(issued.winner)
    db.session.commit()
    refresh()  # the fixtures' requests left their language in the test's app context
    page = client.get(f"/{lang}/winner/{token}").get_data(as_text=True)
    response = client.post(
        f"/{lang}/winner/{token}/manual",
        data={
            "csrf_token": csrf_from(page),
            "reason": "",
            "signed_act": (io.BytesIO(issued.pdf), "act.pdf"),
            "director_id": (io.BytesIO(png()), "id.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    summary = summary_of(html)
    # at the top of the manual-signing form, before its first field
    assert (
        html.index('id="manual-form"')
        < html.index('id="error-summary"')
        < html.index('id="reason"')
    )
    assert 'role="alert"' in summary and heading(lang, 1) in summary
    assert links_of(summary) == ["reason"]
    reason_label = translated(lang, "Why the act cannot be signed with an EDS")
    assert reason_label in summary
    chosen = translated_plural(
        lang,
        "You had chosen %(files)s: choose it again.",
        "You had chosen %(files)s: choose them again.",
        2,
        files={"kk": "act.pdf және id.png", "ru": "act.pdf и id.png"}[lang],
    )
    assert chosen in summary
    # and next to each file input
    for name in ("act.pdf", "id.png"):
        assert translated(lang, "You had chosen %(name)s: choose it again.", name=name) in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ManualSubmission)) == 0


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_a_refused_file_is_named_in_the_summary_next_to_its_field(app, issued, client, lang):
    token = acts.issue_link(issued.winner)
    db.session.commit()
    refresh()  # the fixtures' requests left their language in the test's app context
    page = client.get(f"/{lang}/winner/{token}").get_data(as_text=True)
    response = client.post(
        f"/{lang}/winner/{token}/manual",
        data={
            "csrf_token": csrf_from(page),
            "reason": "Our EDS expired.",
            "signed_act": (io.BytesIO(issued.pdf), "act.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    summary = summary_of(html)
    assert links_of(summary) == ["director_id"]
    assert "Our EDS expired." in html  # the reason typed is kept
    assert (
        translated_plural(
            lang,
            "You had chosen %(files)s: choose it again.",
            "You had chosen %(files)s: choose them again.",
            1,
            files="act.pdf",
        )
        in summary
    )


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_identity_form_sent_empty_shows_one_summary_with_a_line_per_field(
    app, drawn, client, lang
):
    token = acts.issue_link(verified(drawn))
    db.session.commit()
    refresh()  # the fixtures' requests left their language in the test's app context
    page = client.get(f"/{lang}/winner/{token}").get_data(as_text=True)
    response = client.post(f"/{lang}/winner/{token}/identity", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert html.count('class="error-summary"') == 1
    summary = summary_of(html)
    assert heading(lang, 5) in summary
    assert links_of(summary) == [
        "director_name",
        "document_type-0",
        "document_number",
        "document_issuer",
        "document_date",
    ]
    for field in ("Director's full name", "Identity document", "Document number"):
        assert translated(lang, field) in summary
    # every link leads to an element of the page
    for target in links_of(summary):
        assert f'id="{target}"' in html


def test_the_identity_form_keeps_what_was_typed(app, drawn, client):
    token = acts.issue_link(verified(drawn))
    db.session.commit()
    page = client.get(f"/ru/winner/{token}").get_data(as_text=True)
    response = client.post(
        f"/ru/winner/{token}/identity",
        data={
            "csrf_token": csrf_from(page),
            "director_name": "Aidar Petrov",
            "document_type": "passport",
            "document_number": "N1234567",
            "document_issuer": "",
            "document_date": "2019-03-01",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert links_of(summary_of(html)) == ["document_issuer"]
    assert 'value="Aidar Petrov"' in html and 'value="N1234567"' in html
    assert 'value="2019-03-01"' in html
    assert re.search(r'<input[^>]*checked[^>]*value="passport"', html)


def test_staff_identity_sent_incomplete_is_the_page_again_with_what_was_typed(
    app, drawn, client, auth
):
    """It used to redirect, losing everything typed, with one general message."""
    winner_id = verified(drawn).id
    db.session.commit()
    auth.login("marketing")
    page = client.get(f"/admin/ismet-2022/winners/{winner_id}").get_data(as_text=True)
    response = client.post(
        f"/admin/ismet-2022/winners/{winner_id}/identity",
        data={
            "csrf_token": csrf_from(page),
            "director_name": "Aidar Petrov",
            "document_type": "id_card",
            "document_number": "047123456",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert links_of(summary_of(html)) == ["document_issuer", "document_date"]
    assert "<details open>" in html  # the form folded away is unfolded to show its errors
    assert 'value="Aidar Petrov"' in html and 'value="047123456"' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WinnerIdentity)) == 0


@pytest.mark.parametrize(
    ("path", "data", "targets"),
    [
        ("/admin/login", {}, ["email", "password"]),
        (
            "/admin/users/new",
            {"email": "not-an-address", "role": "auditor", "language": "kk"},
            ["email"],
        ),
        ("/admin/ismet-2022/news/new", {"title_kk": "Тақырып"}, ["title_ru", "body_kk", "body_ru"]),
        ("/admin/calendar", {"working": "off"}, ["day", "note"]),
        ("/admin/ismet-2022/participants/import", {"period": "2022-09"}, ["file"]),
    ],
)
def test_staff_forms_sent_with_errors_show_the_summary(
    app, client, auth, demo, path, data, targets
):
    auth.login("admin")
    page = client.get(path).get_data(as_text=True)
    if path == "/admin/login":
        auth.logout()
        page = client.get(path).get_data(as_text=True)
    response = client.post(path, data={"csrf_token": csrf_from(page), **data})
    assert response.status_code in (200, 400)
    html = response.get_data(as_text=True)
    assert links_of(summary_of(html)) == targets
    for value in data.values():
        if value not in ("off", "2022-09", "auditor", "kk"):
            assert value in html  # kept


def test_the_draw_form_sent_without_a_place_keeps_the_members(app, september, client, auth):
    auth.login("commission")
    page = client.get("/admin/ismet-2022/draws/new/2022-09").get_data(as_text=True)
    members = "Aigul Sarsenova, head of marketing | head\nErlan Zhumabayev, заңгер | юрист"
    response = client.post(
        "/admin/ismet-2022/draws/new/2022-09",
        data={
            "csrf_token": csrf_from(page),
            "commission": members,
            "place_kk": "",
            "place_ru": "",
        },
    )
    html = response.get_data(as_text=True)
    assert links_of(summary_of(html)) == ["place_kk", "place_ru"]
    assert "Erlan Zhumabayev, заңгер | юрист" in html


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_public_forms_sent_with_errors_show_the_summary(app, client, demo, lang):
    page = client.get(f"/{lang}/ismet-2022/check").get_data(as_text=True)
    response = client.post(
        f"/{lang}/ismet-2022/check", data={"csrf_token": csrf_from(page), "account_number": "12345"}
    )
    html = response.get_data(as_text=True)
    assert links_of(summary_of(html)) == ["bin_iin"]
    assert 'value="12345"' in html
    page = client.get(f"/{lang}/subscribe").get_data(as_text=True)
    response = client.post(
        f"/{lang}/subscribe",
        data={"csrf_token": csrf_from(page), "email": "not an address", "language": lang},
    )
    html = response.get_data(as_text=True)
    assert links_of(summary_of(html)) == ["email"]
    assert 'value="not an address"' in html


def test_hints_are_tied_to_their_fields_and_radios_are_a_fieldset(app, drawn, client):
    token = acts.issue_link(verified(drawn))
    db.session.commit()
    check = client.get("/ru/ismet-2022/check").get_data(as_text=True)
    assert re.search(r'<input[^>]*aria-describedby="bin_iin-hint"[^>]*id="bin_iin"', check)
    assert 'id="bin_iin-hint"' in check
    page = client.get(f"/ru/winner/{token}").get_data(as_text=True)
    fieldset = re.search(r'<fieldset[^>]*id="document_type"[^>]*>(.*?)</fieldset>', page, re.S)
    assert fieldset, "the radio group is not a fieldset"
    assert f"<legend>{translated('ru', 'Identity document')}</legend>" in fieldset.group(1)
    assert fieldset.group(1).count('type="radio"') == 2


VALID_DATETIME = re.compile(r"\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:\d\d))?")


def test_every_time_element_has_a_datetime_html_reads(app, client, auth, drawn, demo):
    """Python writes six decimals of a second, HTML takes three at most."""
    db.session.add(
        Announcement(
            campaign_id=demo,
            kind=Announcement.KIND_NOTICE,
            title_kk="Т",
            title_ru="Т",
            body_kk="М",
            body_ru="Т",
            published_at=datetime(2022, 10, 3, 5, 6, 7, 891011, tzinfo=UTC),
        )
    )
    db.session.commit()
    winner_id = verified(drawn).id  # the history has its moments
    db.session.commit()
    item = db.session.scalar(sa.select(Announcement.id).order_by(Announcement.id.desc()))
    pages = [client.get(p) for p in ("/ru/", "/ru/ismet-2022/news", f"/ru/ismet-2022/news/{item}")]
    auth.login("marketing")
    pages.append(client.get(f"/admin/ismet-2022/winners/{winner_id}"))
    seen = 0
    for response in pages:
        html = response.get_data(as_text=True)
        assert "<time>" not in html
        for value in re.findall(r'<time datetime="([^"]*)"', html):
            assert VALID_DATETIME.fullmatch(value), value
            seen += 1
    assert seen >= 4
    assert '<time datetime="2022-10-03T05:06:07Z">' in pages[2].get_data(as_text=True)


def test_a_page_of_many_forms_gives_each_field_its_own_id(app, issued, client, auth):
    """The winner's staff page holds a dozen forms; ids were repeated (csrf_token, note, on)."""
    winner_id = issued.winner_id
    auth.login("marketing")
    html = client.get(f"/admin/ismet-2022/winners/{winner_id}").get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert ids and len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
