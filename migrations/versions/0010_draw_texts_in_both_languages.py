"""what the commission writes for a draw, in Kazakh and in Russian

The place, the redraw's reason, the late reason and the fallback reason become a
column per language, and each commission member's position a key per language in
the commission's JSON. A draw stored before had each text in one language only: it
is kept as the text of both, word for word (stored draws are not otherwise changed).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 10:00:00.000000

"""

import json

from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# column: its type
TEXTS = {
    "place": sa.String(length=200),
    "reason": sa.Text(),
    "late_reason": sa.Text(),
    "fallback_reason": sa.Text(),
}
LANGUAGES = ("kk", "ru")

draw = sa.table(
    "draw",
    sa.column("id", sa.Integer),
    sa.column("commission", sa.Text),
    *(sa.column(name, sa.Text) for name in TEXTS),
    *(sa.column(f"{name}_{lang}", sa.Text) for name in TEXTS for lang in LANGUAGES),
)


def _members(text, upgrade):
    members = json.loads(text or "[]")
    if upgrade:
        members = [
            {
                "name": m["name"],
                "position_kk": m.get("position_kk", m.get("position", "")),
                "position_ru": m.get("position_ru", m.get("position", "")),
            }
            for m in members
        ]
    else:
        members = [
            {"name": m["name"], "position": m.get("position_kk", m.get("position", ""))}
            for m in members
        ]
    return json.dumps(members, ensure_ascii=False)


def _rewrite_commissions(upgrade):
    connection = op.get_bind()
    for draw_id, commission in connection.execute(sa.select(draw.c.id, draw.c.commission)).all():
        connection.execute(
            draw.update()
            .where(draw.c.id == draw_id)
            .values(commission=_members(commission, upgrade))
        )


def upgrade():
    with op.batch_alter_table("draw", schema=None) as batch_op:
        for name, type_ in TEXTS.items():
            for lang in LANGUAGES:
                batch_op.add_column(
                    sa.Column(f"{name}_{lang}", type_, nullable=False, server_default="")
                )
    op.execute(
        draw.update().values(
            {f"{name}_{lang}": draw.c[name] for name in TEXTS for lang in LANGUAGES}
        )
    )
    with op.batch_alter_table("draw", schema=None) as batch_op:
        for name, type_ in TEXTS.items():
            batch_op.drop_column(name)
            for lang in LANGUAGES:
                batch_op.alter_column(f"{name}_{lang}", existing_type=type_, server_default=None)
    _rewrite_commissions(upgrade=True)


def downgrade():
    with op.batch_alter_table("draw", schema=None) as batch_op:
        for name, type_ in TEXTS.items():
            batch_op.add_column(sa.Column(name, type_, nullable=False, server_default=""))
    op.execute(draw.update().values({name: draw.c[f"{name}_kk"] for name in TEXTS}))
    with op.batch_alter_table("draw", schema=None) as batch_op:
        for name, type_ in TEXTS.items():
            batch_op.alter_column(name, existing_type=type_, server_default=None)
            for lang in LANGUAGES:
                batch_op.drop_column(f"{name}_{lang}")
    _rewrite_commissions(upgrade=False)
