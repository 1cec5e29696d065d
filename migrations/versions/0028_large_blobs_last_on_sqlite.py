"""the large files of draws and kept pools in the last column of their rows, on SQLite

A draw's pool file (87 MB for a million entries) is written into its row by incremental
blob I/O, into a ``zeroblob`` of its size (``models.base.insert_with_bytes``). SQLite keeps
a zeroblob unexpanded only in a row's last column: in the middle of the row it builds
the whole 87 MB of zeros in memory first. ``draw_file.content`` and ``kept_pool.content``
were not last, and a draw's confirmation peaked 181 MB higher for it (498 MB against the
aim of 500). The two tables are rebuilt with their large value last (``kept_pool``'s
participants, 8 bytes each, bound as a parameter, go just before it). PostgreSQL keeps
large values out of the row (TOAST): nothing changes there.

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-26 11:50:00.000000

"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

ORDER = {
    "draw_file": ("id", "draw_id", "name", "sha256", "created_at", "content"),
    "kept_pool": (
        "nonce",
        "period_id",
        "prize_id",
        "replaces_id",
        "inputs",
        "key_sha256",
        "sha256",
        "size",
        "kept_at",
        "participant_ids",
        "content",
    ),
}
BEFORE = {
    "draw_file": ("id", "draw_id", "name", "content", "sha256", "created_at"),
    "kept_pool": (
        "nonce",
        "period_id",
        "prize_id",
        "replaces_id",
        "inputs",
        "key_sha256",
        "sha256",
        "size",
        "content",
        "participant_ids",
        "kept_at",
    ),
}


def _reorder(order: dict[str, tuple[str, ...]]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in order.items():
        with op.batch_alter_table(table, recreate="always", partial_reordering=[columns]):
            pass


def upgrade():
    _reorder(ORDER)


def downgrade():
    _reorder(BEFORE)
