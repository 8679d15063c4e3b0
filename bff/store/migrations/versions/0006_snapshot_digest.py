"""order_snapshots.digest: the change watcher's cheap per-order digest

Revision ID: 0006_snapshot_digest
Revises: 0005_order_follows
Create Date: 2026-11-25

Hand-written; batch mode (SQLite) is switched on in env.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_snapshot_digest'
down_revision = '0005_order_follows'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('order_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('order_snapshots', schema=None) as batch_op:
        batch_op.drop_column('digest')
