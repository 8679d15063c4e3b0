"""per-order subscriptions: order_follows, notify_preferences.follow_all

Revision ID: 0005_order_follows
Revises: 0004_revocation
Create Date: 2026-11-25

Hand-written; batch mode (SQLite) is switched on in env.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005_order_follows'
down_revision = '0004_revocation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('order_follows',
    sa.Column('openid', sa.String(length=100), nullable=False),
    sa.Column('order_id', sa.String(length=50), nullable=False),
    sa.Column('followed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('openid', 'order_id')
    )
    with op.batch_alter_table('order_follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_follows_order_id'), ['order_id'], unique=False)
    with op.batch_alter_table('notify_preferences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('follow_all', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('notify_preferences', schema=None) as batch_op:
        batch_op.drop_column('follow_all')
    with op.batch_alter_table('order_follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_follows_order_id'))
    op.drop_table('order_follows')
