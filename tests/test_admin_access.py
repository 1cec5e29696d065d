"""Every admin URL, found from the URL map: anonymous, wrong role and right role."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from portal.models import (
    Announcement,
    CalendarDay,
    ImportBatch,
    RulesVersion,
    StaffUser,
    Winner,
    db,
)
from portal.models.staff import ROLES
from tests.conftest import admin_actor, csrf_from, make_staff

# Open to anyone (sign-in and its language) or to any signed-in account (sign-out).
NOT_ROLE_CHECKED = {"admin.login", "admin.language", "admin.logout"}


@pytest.fixture
def world(app, demo):
    """A draft rules version, a draft announcement and one account of each role."""
    with app.app_context():
        db.session.add(
            RulesVersion(
                campaign_id=demo,
                number=2,
                body_kk="1. a",
                body_ru="1. a",
                effective_on=date(2030, 1, 1),
            )
        )
        db.session.add(
            Announcement(campaign_id=demo, title_kk="t", title_ru="t", body_kk="b", body_ru="b")
        )
        for role in ROLES:
            make_staff(f"{role}@ismet.kz", role)
        from portal.campaign.imports import import_month
        from portal.campaign.periods import find_period
        from portal.models import Campaign, Participant
        from tests.test_imports import TODAY, csv_bytes, row

        september = find_period(db.session.get(Campaign, demo), "2022-09")
        import_month(september, "sep.csv", csv_bytes([row(1), row(2)]), today=TODAY)
        from portal.campaign import draws, eligibility

        eligibility.compute(september)
        db.session.commit()
        draw = draws.conduct(
            draws.prepare(september),
            commission=[draws.Member(f"M{n}", "member") for n in range(3)],
            place="Almaty",
            late_reason="test",
            fallback_reason="no random.org in this test",
            actor=admin_actor(),
        )
        db.session.add(CalendarDay(day=date(2022, 12, 30), working=False, note="decree"))
        winner = db.session.scalar(sa.select(Winner).filter_by(draw_id=draw.id))
        _give_photo(winner)
        act, submission = _act_with_submission(winner)
        db.session.commit()
        values = {
            "number": 2,
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
            "winner_id": db.session.scalar(sa.select(Winner.id).filter_by(draw_id=draw.id)),
            "day_id": db.session.scalar(sa.select(CalendarDay.id)),
            "act_id": act.id,
            "submission_id": submission.id,
            "file_id": submission.files[0].id,
        }
    return values


def _give_photo(winner: Winner) -> None:
    """A stored photo for the winner's photo route to serve (the steps before are not the point)."""
    import io

    from PIL import Image

    from portal.campaign.winners import photo_folder
    from portal.services import uploads

    raw = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(raw, "PNG")
    checked = uploads.check(raw.getvalue(), "p.png")
    stored = uploads.store(raw.getvalue(), checked, photo_folder())
    winner.photo_path, winner.photo_sha256, winner.photo_type = (
        stored.relative_path,
        stored.sha256,
        checked.mime_type,
    )


def _act_with_submission(winner: Winner):
    """The winner in touch, its act issued and signed by hand, waiting for staff."""
    from portal.campaign import acts, winners

    winners.verify(winner, manual_ok=True, manual_note="ok")
    winners.record_contact(winner, on=winner.drawn_on, channel="phone", answered=True)
    acts.set_identity(
        winner,
        director_name="D",
        document_type="id_card",
        document_number="1",
        document_issuer="MVD",
        document_date=date(2020, 1, 1),
        entered_by="winner",
    )
    act = acts.issue_act(winner)
    submission = acts.submit_manual(
        act,
        reason="no EDS",
        by_proxy=False,
        files={"signed_act": (act.pdf, "a.pdf"), "director_id": (act.pdf, "d.pdf")},
    )
    return act, submission


def admin_routes(app):
    """(endpoint, method, path, allowed roles) for every admin route in the URL map."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin.") or rule.endpoint in NOT_ROLE_CHECKED:
            continue
        view = app.view_functions[rule.endpoint]
        assert hasattr(view, "allowed_roles"), f"{rule.endpoint} has no role rule"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, rule, view.allowed_roles))
    return routes


def test_every_admin_view_has_a_role_rule_and_the_auditor_changes_nothing(app):
    routes = admin_routes(app)
    assert len(routes) > 15
    for endpoint, method, _rule, allowed in routes:
        if "auditor" in allowed:
            assert method == "GET" or endpoint == "admin.audit_verify", endpoint


def login(client, email):
    page = client.get("/admin/login")
    response = client.post(
        "/admin/login",
        data={
            "email": email,
            "password": "correct horse battery staple",
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 302, re.findall(
        r"class=\"flash[^<]*", response.get_data(as_text=True)
    )


def test_sweep(app, world):
    """GETs first: the POSTs of the sweep may discard the draft they find."""
    routes = sorted(admin_routes(app), key=lambda route: route[1] != "GET")
    for endpoint, method, rule, allowed in routes:
        path = rule.build({k: world[k] for k in rule.arguments}, append_unknown=False)[1]
        # anonymous: the sign-in page
        client = app.test_client()
        token = csrf_from(client.get("/admin/login").get_data(as_text=True))
        response = client.open(
            path, method=method, data={"csrf_token": token} if method == "POST" else None
        )
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"], (
            endpoint,
            method,
        )
        for role in ROLES:
            client = app.test_client()
            login(client, f"{role}@ismet.kz")
            token = csrf_from(client.get("/admin/").get_data(as_text=True))
            if method == "GET":
                response = client.get(path)
            else:
                response = client.post(
                    path, data={"csrf_token": token}, headers={"X-CSRFToken": token}
                )
            response.close()  # a streamed response (the CSV) holds its context until closed
            if role in allowed:
                expected = {200} if method == "GET" else {200, 302, 400, 404}
                assert response.status_code in expected, (
                    endpoint,
                    method,
                    role,
                    response.status_code,
                )
            else:
                assert response.status_code == 403, (endpoint, method, role, response.status_code)
