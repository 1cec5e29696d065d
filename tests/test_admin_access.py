"""Every admin URL, found from the URL map: one test case per URL rule, method and role,
and one signed out. The table below says which role may open each endpoint, by GET or
POST, for what its work needs (the README and docs/DESIGN.md have it too); the views'
role rules (``roles_required``) must be that table, and decide 200 or 403. A commission
member's pages show no full BIN/IIN, account number or identity document."""

from __future__ import annotations

import io
import re
import tempfile
from datetime import date

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.campaign import acts, draws, egov_signing, eligibility, winners
from portal.campaign.imports import import_month
from portal.campaign.periods import find_period
from portal.campaign.winners import photo_storage
from portal.demo import load_campaign
from portal.models import (
    Announcement,
    CalendarDay,
    Campaign,
    ImportBatch,
    Participant,
    RulesVersion,
    StaffUser,
    Winner,
    db,
)
from portal.models.acts import ActSignature
from portal.models.staff import ROLES
from portal.services import uploads
from portal.web.urls import SiteLinks
from tests.helpers import (
    TODAY,
    admin_actor,
    announced,
    csrf_from,
    csv_bytes,
    empty_all_tables,
    make_app,
    make_staff,
    prepare,
    row,
    sign_in_client,
    site,
)

# Open to anyone (sign-in and its language) or to any signed-in account (sign-out).
NOT_ROLE_CHECKED = {"admin.login", "admin.language", "admin.logout"}
# POSTs that read: the chain check, a draw verified again (only its kept verdict is
# renewed), and the search (by POST, to keep it out of logs)
READING_POSTS = {"admin.audit_verify", "admin.draw_verify", "admin.participants_search"}

ADMIN, MARKETING, COMMISSION, AUDITOR = "admin", "marketing", "commission", "auditor"
EVERYONE = {ADMIN, MARKETING, COMMISSION, AUDITOR}
# reads marketing's work and one person's data, changes nothing
READERS = {ADMIN, MARKETING, AUDITOR}
DOERS = {ADMIN, MARKETING}  # act in marketing's field
# Who may open what, by method and endpoint: each role what its work needs.
# admin: everything; marketing: participants, imports, winners, acts, identity, mail,
# rules, news, calendar; commission: draws and redraws, the months' funnel (counts), the
# winners' list and standing, accounts masked; auditor: reads everything, the audit
# trail included, but exports no list of people (the eligible pool, full BIN/IIN).
ROLE_TABLE: dict[tuple[str, str], set[str]] = {
    ("GET", "admin.dashboard"): EVERYONE,
    # staff accounts
    ("GET", "admin.users"): {ADMIN},
    ("GET", "admin.user_new"): {ADMIN},
    ("POST", "admin.user_new"): {ADMIN},
    # campaign set-up (site-wide)
    ("GET", "admin.campaigns"): {ADMIN},
    ("GET", "admin.campaign_new"): {ADMIN},
    ("POST", "admin.campaign_new"): {ADMIN},
    ("GET", "admin.campaign_edit"): {ADMIN},
    ("POST", "admin.campaign_edit"): {ADMIN},
    ("GET", "admin.campaign_copy"): {ADMIN},
    ("POST", "admin.campaign_copy"): {ADMIN},
    ("POST", "admin.campaign_publish"): {ADMIN},
    ("GET", "admin.user_edit"): {ADMIN},
    ("POST", "admin.user_edit"): {ADMIN},
    # the audit trail: every staff member's actions and addresses
    ("GET", "admin.audit_log"): {ADMIN, AUDITOR},
    ("GET", "admin.audit_csv"): {ADMIN, AUDITOR},
    ("POST", "admin.audit_verify"): {ADMIN, AUDITOR},
    # rules, announcements, mail
    ("GET", "admin.rules_versions"): READERS,
    ("GET", "admin.rules_show"): READERS,
    ("POST", "admin.rules_new"): DOERS,
    ("POST", "admin.rules_preview"): DOERS,
    ("GET", "admin.rules_edit"): DOERS,
    ("POST", "admin.rules_edit"): DOERS,
    ("POST", "admin.rules_publish"): DOERS,
    ("POST", "admin.rules_discard"): DOERS,
    ("POST", "admin.rules_setup_changes"): DOERS,
    ("GET", "admin.announcements"): READERS,
    ("GET", "admin.announcement_new"): DOERS,
    ("POST", "admin.announcement_new"): DOERS,
    ("GET", "admin.announcement_edit"): DOERS,
    ("POST", "admin.announcement_edit"): DOERS,
    ("POST", "admin.announcement_publish"): DOERS,
    ("GET", "admin.mail_outbox"): READERS,
    ("POST", "admin.mail_send"): DOERS,
    # participants: the funnel's counts for all; a person's data for the readers; the
    # list of people (full BIN/IIN) for those who work with it
    ("GET", "admin.participants"): EVERYONE,
    ("POST", "admin.participants_search"): READERS,
    ("GET", "admin.participant"): READERS,
    ("GET", "admin.participants_export"): DOERS,
    ("POST", "admin.participants_recompute"): DOERS,
    ("GET", "admin.participants_import"): DOERS,
    ("POST", "admin.participants_import"): DOERS,
    ("GET", "admin.import_template_csv"): DOERS,
    ("GET", "admin.import_template_xlsx"): DOERS,
    ("GET", "admin.import_status"): READERS,
    ("GET", "admin.import_status_json"): READERS,
    # draws: the commission's
    ("GET", "admin.draws"): EVERYONE,
    ("GET", "admin.draw"): EVERYONE,
    ("GET", "admin.draw_new"): {ADMIN, COMMISSION},
    ("POST", "admin.draw_new"): {ADMIN, COMMISSION},
    ("POST", "admin.draw_redraw"): {ADMIN, COMMISSION},
    ("POST", "admin.draw_announce_redraw"): {ADMIN, COMMISSION},
    ("POST", "admin.draw_verify"): EVERYONE,
    ("POST", "admin.draw_signature"): {ADMIN, COMMISSION},
    ("POST", "admin.draw_signature_paper"): {ADMIN, COMMISSION},
    ("POST", "admin.draw_signature_egov"): {ADMIN, COMMISSION},
    ("GET", "admin.draw_egov_status"): EVERYONE,
    # winners: the list and standing for all; a winner's page, acts and files for the readers
    ("GET", "admin.winners"): EVERYONE,
    ("GET", "admin.winner"): READERS,
    ("GET", "admin.winner_photo_file"): READERS,
    ("GET", "admin.act_pdf"): READERS,
    ("GET", "admin.act_signature_check"): READERS,
    ("GET", "admin.winner_file_staff"): READERS,
    **{
        ("POST", f"admin.{endpoint}"): DOERS
        for endpoint in (
            "winner_verify",
            "winner_contact",
            "winner_no_response",
            "winner_forfeit",
            "winner_deliver",
            "winner_publish",
            "winner_photo",
            "winner_link",
            "winner_link_revoke",
            "winner_identity_staff",
            "winner_issue_act",
            "winner_staff_file",
            "submission_accept",
            "submission_return",
        )
    },
    ("GET", "admin.calendar"): READERS,
    ("POST", "admin.calendar_add"): DOERS,
    ("POST", "admin.calendar_remove"): DOERS,
}


def admin_routes() -> list[tuple[str, str, str, tuple[str, ...] | None]]:
    """(endpoint, method, rule, allowed roles or None) for every role-checked admin URL,
    read from the URL map of an app built for that alone (no database is opened)."""
    with tempfile.TemporaryDirectory() as instance:
        app = make_app("sqlite://", instance, SECRET_KEY="url-map")
        routes = []
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("admin.") or rule.endpoint in NOT_ROLE_CHECKED:
                continue
            if rule.endpoint.startswith("admin.old_"):
                continue  # the old addresses' redirects: tests/test_staff_campaigns.py
            allowed = getattr(app.view_functions[rule.endpoint], "allowed_roles", None)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                routes.append((rule.endpoint, method, rule.rule, allowed))
    return routes


ROUTES = admin_routes()
DOCUMENT_NUMBER = "048123456"  # the winner's director's identity card, in the world below
# GETs first: the POSTs of the sweep may discard the draft they find. Every case shares
# one world (the module's fixtures), as a person clicking through the staff area would.
CASES = [
    (endpoint, method, rule, ROLE_TABLE.get((method, endpoint), set()), role)
    for endpoint, method, rule, _ in sorted(ROUTES, key=lambda route: route[1] != "GET")
    for role in ("anonymous", *ROLES)
]


def test_every_admin_view_has_a_role_rule_and_the_auditor_changes_nothing():
    assert len(ROUTES) > 15
    assert sorted({endpoint for endpoint, _, _, allowed in ROUTES if allowed is None}) == []
    for endpoint, method, _rule, allowed in ROUTES:
        if "auditor" in allowed:
            assert method == "GET" or endpoint in READING_POSTS, endpoint


def test_the_role_rules_are_the_table():
    """Each view's role rule is the table's, and the table names every URL there is."""
    rules = {(method, endpoint): set(allowed) for endpoint, method, _, allowed in ROUTES}
    assert rules == ROLE_TABLE


@pytest.fixture(scope="module")
def access_app(database_url, tmp_path_factory):
    """One app for every case of the sweep; its tables are emptied after the last one."""
    app = make_app(database_url, tmp_path_factory.mktemp("access-instance"))
    yield app
    with app.app_context():
        empty_all_tables()
        db.engine.dispose()


@pytest.fixture(scope="module")
def world(access_app):
    """The demo campaign with a draft rules version, a draft announcement, September drawn,
    its winner's photo and manually signed act, a calendar day and one account of each
    role; returns the values of the URL rules' arguments."""
    with access_app.app_context():
        campaign, _ = load_campaign()
        db.session.add(
            RulesVersion(
                campaign_id=campaign.id,
                number=2,
                body_kk="1. a",
                body_ru="1. a",
                effective_on=date(2030, 1, 1),
            )
        )
        db.session.add(
            Announcement(
                campaign_id=campaign.id, title_kk="t", title_ru="t", body_kk="b", body_ru="b"
            )
        )
        for role in ROLES:
            make_staff(f"{role}@ismet.kz", role)
        september = find_period(db.session.get(Campaign, campaign.id), "2022-09")
        import_month(september, "sep.csv", csv_bytes([row(1), row(2)]), today=TODAY)
        eligibility.compute(september)
        db.session.commit()
        draw = draws.conduct(
            announced(prepare(september)),
            **site(),
            commission=[draws.Member(f"M{n}", "мүше", "член") for n in range(3)],
            place={"kk": "Алматы қ.", "ru": "г. Алматы"},
            late_reason={"kk": "сынақ", "ru": "тест"},
            fallback_reason={
                "kk": "бұл сынақта random.org жоқ",
                "ru": "в этом тесте нет random.org",
            },
            actor=admin_actor(),
        )
        db.session.add(CalendarDay(day=date(2022, 12, 30), working=False, note="decree"))
        winner = db.session.scalar(sa.select(Winner).filter_by(draw_id=draw.id))
        _give_photo(winner)
        act, submission = _act_with_submission(winner)
        # an EDS signature kept (not a valid CMS: its re-verification page says so)
        signature = ActSignature(act_id=act.id, cms=b"not a CMS", cms_sha256="0" * 64)
        db.session.add(signature)
        # a commission member's eGov Mobile QR code for the draw's protocol, waiting
        session = egov_signing.open_protocol_session(
            draw, 1, secret=access_app.config["SECRET_KEY"], minutes=10
        )
        db.session.commit()
        return {
            "slug": campaign.slug,
            "number": 2,
            "campaign_slug": campaign.slug,
            # their own account: an admin cannot demote or deactivate itself, so the
            # sweep's bare POSTs change nothing there
            "user_id": db.session.scalar(sa.select(StaffUser.id).filter_by(role="admin")),
            "item_id": db.session.scalar(
                sa.select(Announcement.id).where(Announcement.published_at.is_(None))
            ),
            "participant_id": db.session.scalar(sa.select(Participant.id).limit(1)),
            "period_key": "2022-09",
            "batch_id": db.session.scalar(sa.select(ImportBatch.id).limit(1)),
            "draw_id": draw.id,
            "winner_id": winner.id,
            "day_id": db.session.scalar(sa.select(CalendarDay.id)),
            "act_id": act.id,
            "submission_id": submission.id,
            "file_id": submission.files[0].id,
            "signature_id": signature.id,
            "session_id": session.id,
        }


def _give_photo(winner: Winner) -> None:
    """A stored photo for the winner's photo route to serve (the steps before are not the point)."""

    raw = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(raw, "PNG")
    checked = uploads.check(raw.getvalue(), "p.png")
    stored = uploads.store(raw.getvalue(), checked, photo_storage())
    winner.photo_path, winner.photo_sha256, winner.photo_type = (
        stored.relative_path,
        stored.sha256,
        checked.mime_type,
    )


def _act_with_submission(winner: Winner):
    """The winner in touch, its act issued and signed by hand, waiting for staff."""

    winners.verify(winner, manual_ok=True, manual_note="ok")
    winners.record_contact(winner, on=winner.drawn_on, channel="phone", answered=True)
    acts.set_identity(
        winner,
        director_name="D",
        document_type="id_card",
        document_number=DOCUMENT_NUMBER,
        document_issuer="MVD",
        document_date=date(2020, 1, 1),
        entered_by="winner",
    )
    act = acts.issue_act(winner, links=SiteLinks())
    submission = acts.submit_manual(
        act,
        reason="no EDS",
        by_proxy=False,
        files={"signed_act": (act.pdf, "a.pdf"), "director_id": (act.pdf, "d.pdf")},
    )
    return act, submission


def signed_in_client(app, role: str):
    """A fresh client, signed in through the real form as the role's account (none: signed out)."""
    client = app.test_client()
    if role != "anonymous":
        response = sign_in_client(client, f"{role}@ismet.kz")
        assert response.status_code == 302, re.findall(
            r"class=\"flash[^<]*", response.get_data(as_text=True)
        )
    return client


@pytest.fixture(scope="module")
def personal_numbers(access_app, world) -> set[str]:
    """Every full BIN/IIN and account number of the world's participants, and the
    winner's identity document's number: what a commission member never sees."""
    with access_app.app_context():
        people = db.session.execute(sa.select(Participant.bin_iin, Participant.account_number))
        return {number for pair in people for number in pair} | {DOCUMENT_NUMBER}


@pytest.mark.parametrize(
    ("endpoint", "method", "rule", "allowed", "role"),
    CASES,
    ids=[f"{endpoint}[{method}]-{role}" for endpoint, method, _, _, role in CASES],
)
def test_admin_url(access_app, world, personal_numbers, endpoint, method, rule, allowed, role):
    """Signed out: the sign-in page; signed in: the page or the form's answer for the
    roles the table allows, 403 for every other; never stored by a browser or a proxy; a
    commission member's pages without anyone's full numbers."""
    assert allowed, f"{endpoint} [{method}] is not in the table"
    [url_rule] = [
        r for r in access_app.url_map.iter_rules(endpoint) if r.rule == rule and method in r.methods
    ]
    path = url_rule.build({k: world[k] for k in url_rule.arguments}, append_unknown=False)[1]
    client = signed_in_client(access_app, role)
    if method == "GET":
        response = client.get(path)
    else:
        page = "/admin/login" if role == "anonymous" else "/admin/ismet-2022/"
        token = csrf_from(client.get(page).get_data(as_text=True))
        response = client.post(path, data={"csrf_token": token}, headers={"X-CSRFToken": token})
    body = response.get_data()
    response.close()  # a streamed response (the CSV) holds its context until closed
    if role == "commission":
        assert {number for number in personal_numbers if number.encode() in body} == set()
    # staff pages and exports hold personal data: no browser or proxy keeps them
    assert response.headers.get("Cache-Control") == "no-store"
    if role == "anonymous":
        assert response.status_code == 302
        assert "/admin/login" in response.headers["Location"]
    elif role in allowed:
        # ``/admin/`` goes to the dashboard of the campaign worked on
        ok_get = {302} if rule == "/admin/" else {200}
        assert response.status_code in (ok_get if method == "GET" else {200, 302, 400, 404})
    else:
        assert response.status_code == 403
