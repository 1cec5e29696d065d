"""Finding 9, errors instead of 404: an id out of any column's range, a negative one or
0, in any URL of the map, is a 404 (never a 500, on SQLite and PostgreSQL alike); a
number out of range in a query string is ignored or a 404; a ``next`` with control
characters neither breaks the sign-in nor splits its headers."""

from __future__ import annotations

import re

import pytest
from werkzeug.routing.converters import NumberConverter

from tests.helpers import csrf_from, make_staff, publish_v2, sign_in_client

HUGE = "99999999999999999999"  # more than 2**64; 2**31 is the first beyond an INTEGER column
ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
# values for the arguments that are not numbers
OTHER_VALUES = {
    "lang": "kk",
    "token": "not-a-token-but-long-enough-to-look-like-one-0123",
    "period_key": "2022-09",
    "name": "random.json",
    "slug": "ismet-2022",
}


def numbered_rules(app) -> list[tuple[str, str, list[str]]]:
    """(rule, method, names of its number arguments) for every rule of the URL map with a
    number in its path."""
    found = []
    for rule in app.url_map.iter_rules():
        numbers = [
            match["name"]
            for match in ARGUMENT.finditer(rule.rule)
            if issubclass(app.url_map.converters[match["converter"] or "default"], NumberConverter)
        ]
        if numbers:
            found.extend(
                (rule.rule, method, numbers)
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
            )
    return found


def with_values(rule: str, numbers: list[str], value: str) -> str:
    def substitute(match: re.Match) -> str:
        return value if match["name"] in numbers else OTHER_VALUES[match["name"]]

    return ARGUMENT.sub(substitute, rule)


@pytest.fixture
def admin_client(app, demo, client):
    """An administrator, signed in, on the demo campaign: every view is open to it."""
    with app.app_context():
        make_staff("admin@ismet.kz", "admin")
    assert sign_in_client(client, "admin@ismet.kz").status_code == 302
    return client


def ask(client, method: str, path: str, token: str):
    """The answer to ``method path`` (with the CSRF token for a POST), or the exception
    the view raised (the tests' app lets errors through rather than answering 500)."""
    try:
        if method == "GET":
            return client.get(path)
        return client.post(path, data={"csrf_token": token}, headers={"X-CSRFToken": token})
    except Exception as error:
        return error


def test_every_id_out_of_range_is_a_404(app, admin_client):
    rules = numbered_rules(app)
    assert len(rules) >= 40  # the public draw files, acts, winners, users, rules, news, …
    token = csrf_from(admin_client.get("/admin/ismet-2022/").get_data(as_text=True))
    answers = {}
    for rule, method, numbers in rules:
        for value in (HUGE, str(2**31), "-1", "0"):
            path = with_values(rule, numbers, value)
            answer = ask(admin_client, method, path, token)
            answers[f"{method} {path}"] = getattr(answer, "status_code", repr(answer))
    assert {request: code for request, code in answers.items() if code != 404} == {}


def test_numbers_out_of_range_in_query_strings_are_refused_or_ignored(app, demo, admin_client):
    publish_v2(app, demo)
    for path in (
        f"/kk/ismet-2022/rules/diff?from={HUGE}",
        f"/ru/ismet-2022/rules/diff?to=v{HUGE}",
        "/kk/ismet-2022/rules/diff?from=-1",
        "/kk/ismet-2022/rules/diff?from=v0",
    ):
        answer = ask(admin_client, "GET", path, "")
        assert getattr(answer, "status_code", answer) == 404, path
    for page in (HUGE, "-1", "0", "x"):
        answer = ask(admin_client, "GET", f"/admin/audit?page={page}", "")
        assert getattr(answer, "status_code", answer) == 200, page


@pytest.mark.parametrize(
    "target",
    [
        "/%0d%0aSet-Cookie:%20evil=1",
        "/admin/%0aX-Injected:%201",
        "/%09/evil.example",
        "/%0d/evil.example",
    ],
)
def test_a_next_with_control_characters_is_not_followed(app, client, target):
    with app.app_context():
        make_staff("marketing@ismet.kz", "marketing")
    try:
        response = sign_in_client(client, "marketing@ismet.kz", next_path=target)
    except Exception as error:
        pytest.fail(f"signing in with next={target} raised {error!r}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert "Set-Cookie" not in response.headers or "evil" not in response.headers["Set-Cookie"]
    assert "X-Injected" not in response.headers
