"""A drawn month's data is frozen: no import, no replacement, no new eligibility, whoever
asks (the campaign, the staff area, the command line), each refusal said and audited."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
import sqlalchemy as sa

from portal.campaign import eligibility, imports
from portal.campaign.audit import Actor
from portal.campaign.periods import find_period
from portal.models import (
    Activity,
    AuditEntry,
    Campaign,
    Draw,
    EligibilityRun,
    ImportBatch,
    Participant,
    db,
)
from portal.wording.formats import format_day, format_month
from tests.helpers import (
    TODAY,
    count,
    csv_bytes,
    draw_on,
    load_september,
    page_text,
    row,
    submit_check,
    translated,
)

# What the marketing user tried in the issue: November's rows replaced by five others.
FIVE_ROWS = csv_bytes([row(n) for n in range(101, 106)])


def drawn_september(app, demo) -> tuple[int, dict[str, str]]:
    """September with two clients, drawn (draw No. 1 on 21 October 2022)."""
    bins = load_september(app, demo)
    with app.app_context():
        september = find_period(db.session.get(Campaign, demo), "2022-09")
        return draw_on(september).id, bins


def frozen_sentence(app, lang: str, draw_id: int) -> str:
    with app.app_context():
        drawn_at = db.session.get(Draw, draw_id).conducted_at
    return translated(
        lang,
        "%(month)s was drawn on %(date)s (draw No. %(draw)s): its data can no longer be imported, replaced or computed again.",
        month=format_month(2022, 9, lang),
        date=format_day(drawn_at, lang),
        draw=draw_id,
    )


def refusals(app) -> list[tuple[str, dict]]:
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action.like("%refused")).order_by(AuditEntry.id)
        )
        return [(e.action, json.loads(e.details)) for e in entries]


def untouched(app) -> tuple[int, int, int]:
    """What a refusal must leave as it was: the month's rows, its batches, its computations."""
    with app.app_context():
        return count(Activity), count(ImportBatch), count(EligibilityRun)


# --- the command line -------------------------------------------------------------------


def test_the_command_line_refuses_to_replace_or_recompute_a_drawn_month(
    app, runner, demo, client, tmp_path
):
    draw_id, bins = drawn_september(app, demo)
    before = untouched(app)
    five = tmp_path / "five.csv"
    five.write_bytes(FIVE_ROWS)
    result = runner.invoke(
        args=[
            "participants",
            "import",
            str(five),
            "--period",
            "2022-09",
            "--replace",
            "--lang",
            "ru",
        ]
    )
    assert result.exit_code == 1
    assert frozen_sentence(app, "ru", draw_id) in result.output
    result = runner.invoke(
        args=["participants", "eligibility", "--period", "2022-09", "--lang", "kk"]
    )
    assert result.exit_code == 1
    assert frozen_sentence(app, "kk", draw_id) in result.output
    assert untouched(app) == before
    assert refusals(app) == [
        (
            "participants.import_refused",
            {
                "period": "2022-09",
                "draw": draw_id,
                "file": "five.csv",
                "sha256": hashlib.sha256(FIVE_ROWS).hexdigest(),
                "replace": True,
            },
        ),
        ("participants.eligibility_refused", {"period": "2022-09", "draw": draw_id}),
    ]
    # the winner's self-check still shows the activity it was drawn on
    page = page_text(submit_check(client, "ru", "ACC0000001", bins["ACC0000001"]))
    assert page.count('<li class="ok">') == 5  # September's five conditions, all met
    assert (
        translated("ru", "You won: your company was drawn in draw No. %(id)s.", id=draw_id) in page
    )
    # a month not drawn is still imported as before
    october = runner.invoke(args=["participants", "import", str(five), "--period", "2022-10"])
    assert october.exit_code == 0, october.output


# --- the staff area ---------------------------------------------------------------------


def upload(client, auth, content: bytes, period: str = "2022-09"):
    return client.post(
        "/admin/ismet-2022/participants/import",
        data={
            "period": period,
            "csrf_token": auth.token("/admin/ismet-2022/participants/import"),
            "file": (io.BytesIO(content), "five.csv"),
            "replace": "y",
        },
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_import_form_refuses_a_drawn_month_and_does_not_offer_it(app, client, auth, demo, lang):
    draw_id, _ = drawn_september(app, demo)
    before = untouched(app)
    auth.create("marketing", language=lang)
    auth.login("marketing", create=False)
    form = client.get("/admin/ismet-2022/participants/import").get_data(as_text=True)
    assert '<option disabled value="2022-09">' in form
    assert '<option selected value="2022-10">' in form  # the first month still open
    assert frozen_sentence(app, lang, draw_id) in page_text(
        client.get("/admin/ismet-2022/participants/import")
    )

    response = upload(client, auth, FIVE_ROWS)
    assert response.status_code == 200
    assert frozen_sentence(app, lang, draw_id) in page_text(response)
    assert untouched(app) == before
    assert [action for action, _ in refusals(app)] == ["participants.import_refused"]


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_participants_page_does_not_offer_to_compute_a_drawn_month_again(
    app, client, auth, demo, lang
):
    draw_id, _ = drawn_september(app, demo)
    before = untouched(app)
    auth.create("marketing", language=lang)
    auth.login("marketing", create=False)
    page = client.get("/admin/ismet-2022/participants").get_data(as_text=True)
    assert "/admin/ismet-2022/participants/2022-09/eligibility" not in page
    assert frozen_sentence(app, lang, draw_id) in page_text(
        client.get("/admin/ismet-2022/participants")
    )

    token = auth.token("/admin/ismet-2022/participants/import")
    response = client.post(
        "/admin/ismet-2022/participants/2022-09/eligibility", data={"csrf_token": token}
    )
    assert response.status_code == 302
    assert frozen_sentence(app, lang, draw_id) in page_text(
        client.get("/admin/ismet-2022/participants")
    )
    assert untouched(app) == before
    assert refusals(app) == [
        ("participants.eligibility_refused", {"period": "2022-09", "draw": draw_id})
    ]


def test_an_upload_drawn_before_it_runs_is_refused_and_says_why(app, client, auth, demo):
    bins = load_september(app, demo)
    with app.app_context():
        september = find_period(db.session.get(Campaign, demo), "2022-09")
        batch = imports.start_import(
            september, "five.csv", FIVE_ROWS, actor=Actor(label="cli"), replace=True
        )
        batch_id = batch.id
        db.session.commit()
        draw_id = draw_on(september).id  # the draw comes while the upload waits
    with app.app_context():
        imports.finish_import(batch_id, FIVE_ROWS, True, None, "10.0.0.9", TODAY)
        db.session.expire_all()
        batch = db.session.get(ImportBatch, batch_id)
        assert batch.status == ImportBatch.FAILED
        assert json.loads(batch.problems) == [
            {"row": 0, "column": "", "code": "month-drawn", "detail": str(draw_id)}
        ]
        accounts = set(db.session.scalars(sa.select(Participant.account_number)))
        assert accounts == set(bins)  # nothing of the five rows
    assert refusals(app) == [
        ("participants.import_refused", {"period": "2022-09", "draw": draw_id, "batch": batch_id})
    ]
    auth.login("marketing")  # Russian
    page = page_text(client.get(f"/admin/ismet-2022/participants/imports/{batch_id}"))
    assert (
        translated(
            "ru",
            "The month was drawn meanwhile (draw No. %(detail)s): its data can no longer be replaced.",
            detail=draw_id,
        )
        in page
    )


# --- the campaign itself ----------------------------------------------------------------


def test_every_way_into_a_drawn_months_data_is_refused_in_the_campaign(app, drawn):
    september = drawn.period
    actor = Actor(label="cli")
    draw_id = drawn.draw_id
    for attempt in (
        lambda: imports.run_import(
            september, "five.csv", FIVE_ROWS, actor=actor, today=TODAY, replace=True
        ),
        lambda: imports.start_import(september, "five.csv", FIVE_ROWS, actor=actor, replace=True),
        lambda: imports.import_month(september, "five.csv", FIVE_ROWS, today=TODAY, replace=True),
        lambda: eligibility.recompute(september, actor),
        lambda: eligibility.compute(september),
    ):
        with pytest.raises(eligibility.MonthFrozen) as refused:
            attempt()
        assert refused.value.code == "month-drawn"
        assert refused.value.details["draw"] == draw_id
    db.session.commit()
    assert count(ImportBatch) == 1 and count(EligibilityRun) == 1
    actions = db.session.scalars(
        sa.select(AuditEntry.action)
        .where(AuditEntry.action.like("%refused"))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == [
        "participants.import_refused",
        "participants.import_refused",
        "participants.eligibility_refused",
    ]
    assert eligibility.frozen(drawn.period).details["draw"] == draw_id
    other = find_period(september.campaign, "2022-10")
    assert eligibility.frozen(other) is None
