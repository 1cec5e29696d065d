"""Finding 12, least privilege: each role opens what its work needs. The commission
conducts draws and sees the winners' accounts masked and their standing, never a full
BIN/IIN, account number or identity document; the auditor reads every record and the
audit trail but exports no list of people; marketing does not read the audit trail.
(Every staff URL against the table of roles: ``tests/test_admin_access.py``.)"""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.models import Participant, db
from tests.helpers import in_touch, with_identity

DOCUMENT = "047123456"  # the director's identity card, as with_identity enters it


def pages(client, paths: list[str]) -> dict[str, tuple[int, str]]:
    answers = {}
    for path in paths:
        with client.get(path) as response:
            answers[path] = (response.status_code, response.get_data(as_text=True))
    return answers


def test_the_commission_sees_draws_and_standing_with_accounts_masked(app, drawn, client, auth):
    with_identity(in_touch(drawn))
    db.session.commit()
    people = db.session.execute(sa.select(Participant.bin_iin, Participant.account_number)).all()
    numbers = {number for pair in people for number in pair} | {DOCUMENT}
    winner = drawn.participant
    auth.login("commission")
    readable = pages(
        client,
        [
            "/admin/ismet-2022/",
            "/admin/ismet-2022/draws",
            f"/admin/ismet-2022/draws/{drawn.draw_id}",
            "/admin/ismet-2022/winners",
            "/admin/ismet-2022/participants",
        ],
    )
    for path, (status, text) in readable.items():
        assert status == 200, path
        assert {n for n in numbers if n in text} == set(), path
        assert (
            "/admin/audit" not in text
            and "/admin/ismet-2022/participants/" + str(winner.id) not in text
        )
    draw_page = readable[f"/admin/ismet-2022/draws/{drawn.draw_id}"][1]
    assert winner.account_masked in draw_page  # the winner's account, masked
    assert 'class="standing"' in draw_page  # and where its prize stands
    assert not re.search(
        r'href="/admin/ismet-2022/winners/\d+"', readable["/admin/ismet-2022/winners"][1]
    )
    closed = pages(
        client,
        [
            f"/admin/ismet-2022/participants/{winner.id}",
            f"/admin/ismet-2022/winners/{drawn.id}",
            "/admin/ismet-2022/participants/2022-09/eligible.csv",
            "/admin/audit",
            "/admin/audit.csv",
            "/admin/calendar",
            "/admin/mail",
            "/admin/ismet-2022/rules",
            "/admin/ismet-2022/news",
        ],
    )
    assert {path: status for path, (status, _) in closed.items() if status != 403} == {}
    token = auth.token("/admin/ismet-2022/")
    search = client.post(
        "/admin/ismet-2022/participants", data={"q": winner.bin_iin, "csrf_token": token}
    )
    assert search.status_code == 403


def test_the_auditor_reads_records_but_exports_no_list_of_people(app, drawn, client, auth):
    winner = drawn.participant
    auth.login("auditor")
    answers = pages(
        client,
        [
            f"/admin/ismet-2022/participants/{winner.id}",
            f"/admin/ismet-2022/winners/{drawn.id}",
            "/admin/audit",
            "/admin/audit.csv",
            "/admin/ismet-2022/participants/2022-09/eligible.csv",
            "/admin/users",
        ],
    )
    assert {path: status for path, (status, _) in answers.items()} == {
        f"/admin/ismet-2022/participants/{winner.id}": 200,
        f"/admin/ismet-2022/winners/{drawn.id}": 200,
        "/admin/audit": 200,
        "/admin/audit.csv": 200,
        "/admin/ismet-2022/participants/2022-09/eligible.csv": 403,
        "/admin/users": 403,
    }
    assert winner.bin_iin in answers[f"/admin/ismet-2022/participants/{winner.id}"][1]
    assert (
        "eligible.csv"
        not in pages(client, ["/admin/ismet-2022/participants"])["/admin/ismet-2022/participants"][
            1
        ]
    )


def test_marketing_works_with_people_but_not_with_the_audit_trail(app, drawn, client, auth):
    auth.login("marketing")
    answers = pages(
        client,
        [
            "/admin/ismet-2022/participants/2022-09/eligible.csv",
            "/admin/audit",
            "/admin/ismet-2022/",
        ],
    )
    assert answers["/admin/ismet-2022/participants/2022-09/eligible.csv"][0] == 200
    assert answers["/admin/audit"][0] == 403
    assert 'href="/admin/audit"' not in answers["/admin/ismet-2022/"][1]  # nor offered in the menu
