"""eligibility conditions as data: campaign_condition, the slots they use

A campaign's eligibility conditions become rows of ``campaign_condition`` (a kind the
portal knows, its parameters, its import column, its names and evidence sentences in
kk and ru, and the ``activity`` slot it uses). Every existing campaign gets the 2022
campaign's five conditions, its thresholds taken from ``campaign.min_receipts`` and
``campaign.min_paid_months``. The number slots (``paid_months``,
``receipts_in_period``) may be NULL, for a campaign that does not use them; an
eligibility run keeps the conditions it applied (``eligibility_run.conditions``, JSON;
filled here for the runs made before, from their thresholds), and its
``min_receipts``/``min_paid_months`` may be NULL.

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-26 13:50:00

"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

# The 2022 campaign's five conditions (rules 3, 4.1 and 4.2), with today's sentences.
STANDARD_2022 = (
    {
        "code": "app",
        "kind": "date-by-period-end",
        "slot": "app_authorized_on",
        "column": "app_authorized_on",
        "params": {},
        "name_kk": "Ismet.kz қосымшасында авторизациядан өткен",
        "name_ru": "Авторизация в приложении Ismet.kz",
        "holds_kk": "Авторизация күні: {value} — ай соңына дейін",
        "holds_ru": "Авторизация {value} — до окончания месяца",
        "fails_kk": "Авторизация күні: {value} — айдың соңынан кейін",
        "fails_ru": "Авторизация {value} — после окончания месяца",
        "missing_kk": "Қосымшада авторизация жоқ.",
        "missing_ru": "Авторизации в приложении нет.",
        "early_kk": "",
        "early_ru": "",
    },
    {
        "code": "ekassa",
        "kind": "date-within",
        "slot": "ekassa_connected_on",
        "column": "ekassa_connected_on",
        "params": {"from": "campaign-start", "to": ["campaign-end", "period-end"]},
        "name_kk": "Акция кезеңінде e-касса қосылған",
        "name_ru": "E-касса подключена в период акции",
        "holds_kk": "E-касса қосылған күн: {value} — акция кезеңінде",
        "holds_ru": "E-касса подключена {value} — в период акции",
        "fails_kk": "E-касса қосылған күн: {value} — айдың соңынан кейін",
        "fails_ru": "E-касса подключена {value} — после окончания месяца",
        "missing_kk": "E-касса қосылмаған.",
        "missing_ru": "E-касса не подключена.",
        "early_kk": "E-касса қосылған күн: {value} — акция басталғанға дейін",
        "early_ru": "E-касса подключена {value} — до начала акции",
    },
    {
        "code": "paid",
        "kind": "number-at-least",
        "slot": "paid_months",
        "column": "paid_months",
        "params": {"min": 1},
        "name_kk": "Қызметке төлем жасалған",
        "name_ru": "Услуга оплачена",
        "holds_kk": "Төленген ай саны: {value} (қажеті — кемінде {threshold})",
        "holds_ru": "Оплачено месяцев: {value} (требуется не менее {threshold})",
        "fails_kk": "Төленген ай саны: {value} (қажеті — кемінде {threshold})",
        "fails_ru": "Оплачено месяцев: {value} (требуется не менее {threshold})",
        "missing_kk": "",
        "missing_ru": "",
        "early_kk": "",
        "early_ru": "",
    },
    {
        "code": "receipts",
        "kind": "count-at-least",
        "slot": "receipts_in_period",
        "column": "receipts_in_period",
        "params": {"min": 5},
        "name_kk": "Қосымша арқылы шығарылған чектер",
        "name_ru": "Чеки, сформированные через приложение",
        "holds_kk": "Шығарылған чек саны: {value} (қажеті — кемінде {threshold})",
        "holds_ru": "Сформировано чеков: {value} (требуется не менее {threshold})",
        "fails_kk": "Шығарылған чек саны: {value} (қажеті — кемінде {threshold})",
        "fails_ru": "Сформировано чеков: {value} (требуется не менее {threshold})",
        "missing_kk": "",
        "missing_ru": "",
        "early_kk": "",
        "early_ru": "",
    },
    {
        "code": "legal_form",
        "kind": "legal-form-in",
        "slot": "legal_form",
        "column": "legal_form",
        "params": {"forms": ["IE", "LLP"]},
        "name_kk": "Ұйымдық-құқықтық нысаны ЖК немесе ЖШС",
        "name_ru": "Организационно-правовая форма ИП или ТОО",
        "holds_kk": "Ұйымдық-құқықтық нысаны: {value}",
        "holds_ru": "Организационно-правовая форма: {value}",
        "fails_kk": "Ұйымдық-құқықтық нысаны: {value}",
        "fails_ru": "Организационно-правовая форма: {value}",
        "missing_kk": "",
        "missing_ru": "",
        "early_kk": "",
        "early_ru": "",
    },
)
NUMBER_SLOTS = ("activity", "import_row")
LANGS = ("kk", "ru")
TEXTS = ("name", "holds", "fails", "missing", "early")


def _snapshot(rows: list[dict], min_receipts: int, min_paid_months: int) -> str:
    """The conditions as ``portal.campaign.conditions.snapshot`` writes them."""
    applied = []
    for row in rows:
        params = dict(row["params"])
        if row["code"] == "receipts":
            params["min"] = min_receipts
        elif row["code"] == "paid":
            params["min"] = min_paid_months
        entry = {k: row[k] for k in ("code", "kind", "slot", "column")}
        entry["params"] = params
        for text in TEXTS:
            entry[text] = {lang: row[f"{text}_{lang}"] for lang in LANGS}
        applied.append(entry)
    return json.dumps(applied, ensure_ascii=False, sort_keys=True)


def upgrade():
    condition = op.create_table(
        "campaign_condition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.String(length=32), nullable=False),
        sa.Column("column", sa.String(length=64), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        *(
            sa.Column(
                f"{text}_{lang}", sa.String(length=300 if text == "name" else 500), nullable=False
            )
            for text in TEXTS
            for lang in LANGS
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_condition_campaign_id_campaign"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_condition")),
        sa.UniqueConstraint(
            "campaign_id", "code", name=op.f("uq_campaign_condition_campaign_id_code")
        ),
        sa.UniqueConstraint(
            "campaign_id", "slot", name=op.f("uq_campaign_condition_campaign_id_slot")
        ),
        sa.UniqueConstraint(
            "campaign_id", "column", name=op.f("uq_campaign_condition_campaign_id_column")
        ),
    )
    op.create_index(
        op.f("ix_campaign_condition_campaign_id"), "campaign_condition", ["campaign_id"]
    )
    for table in NUMBER_SLOTS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in ("paid_months", "receipts_in_period"):
                batch_op.alter_column(column, existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("eligibility_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conditions", sa.Text(), nullable=True))
        for column in ("min_receipts", "min_paid_months"):
            batch_op.alter_column(column, existing_type=sa.Integer(), nullable=True)

    bind = op.get_bind()
    campaigns = bind.execute(sa.text("SELECT id, min_receipts, min_paid_months FROM campaign"))
    rows = []
    for campaign_id, min_receipts, min_paid_months in campaigns.all():
        for position, row in enumerate(STANDARD_2022, start=1):
            params = dict(row["params"])
            if row["code"] == "receipts":
                params["min"] = min_receipts
            elif row["code"] == "paid":
                params["min"] = min_paid_months
            rows.append(
                {
                    **{k: v for k, v in row.items() if k != "params"},
                    "campaign_id": campaign_id,
                    "position": position,
                    "parameters": json.dumps(params, ensure_ascii=False, sort_keys=True),
                }
            )
    if rows:
        op.bulk_insert(condition, rows)
    runs = bind.execute(
        sa.text("SELECT id, min_receipts, min_paid_months FROM eligibility_run")
    ).all()
    for run_id, min_receipts, min_paid_months in runs:
        bind.execute(
            sa.text("UPDATE eligibility_run SET conditions = :c WHERE id = :id"),
            {"c": _snapshot(list(STANDARD_2022), min_receipts, min_paid_months), "id": run_id},
        )


def downgrade():
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE eligibility_run SET min_receipts = 0 WHERE min_receipts IS NULL"))
    bind.execute(
        sa.text("UPDATE eligibility_run SET min_paid_months = 0 WHERE min_paid_months IS NULL")
    )
    with op.batch_alter_table("eligibility_run", schema=None) as batch_op:
        batch_op.drop_column("conditions")
        for column in ("min_receipts", "min_paid_months"):
            batch_op.alter_column(column, existing_type=sa.Integer(), nullable=False)
    for table in NUMBER_SLOTS:
        for column in ("paid_months", "receipts_in_period"):
            t = sa.table(table, sa.column(column))
            bind.execute(t.update().where(t.c[column].is_(None)).values({column: 0}))
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in ("paid_months", "receipts_in_period"):
                batch_op.alter_column(column, existing_type=sa.Integer(), nullable=False)
    op.drop_index(op.f("ix_campaign_condition_campaign_id"), table_name="campaign_condition")
    op.drop_table("campaign_condition")
