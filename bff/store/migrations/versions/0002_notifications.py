"""notifications: outbox columns on message_logs, grants, preferences, snapshots, events, leases

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Hand-written; batch mode (SQLite) is switched on in env.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

def _outbox_columns() -> list[sa.Column]:  # fresh objects per use
    return [
    sa.Column('kind', sa.String(length=20), nullable=True),
    sa.Column('dedupe_key', sa.String(length=191), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('wx_errcode', sa.Integer(), nullable=True),
    sa.Column('wx_msgid', sa.String(length=32), nullable=True),
    sa.Column('page', sa.String(length=500), nullable=True),
    sa.Column('order_id', sa.String(length=50), nullable=True),
    sa.Column('title', sa.String(length=100), nullable=True),
    sa.Column('summary', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table('message_logs', schema=None) as batch_op:
        for column in _outbox_columns():
            batch_op.add_column(column)
        batch_op.create_index(batch_op.f('ix_message_logs_dedupe_key'), ['dedupe_key'], unique=True)
        batch_op.create_index(batch_op.f('ix_message_logs_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_logs_created_at'), ['created_at'], unique=False)

    op.create_table('subscription_grants',
    sa.Column('openid', sa.String(length=100), nullable=False),
    sa.Column('template_id', sa.String(length=100), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('openid', 'template_id')
    )
    op.create_table('notify_preferences',
    sa.Column('openid', sa.String(length=100), nullable=False),
    sa.Column('disabled_kinds', sa.String(length=200), nullable=False),
    sa.Column('dnd_start', sa.String(length=5), nullable=True),
    sa.Column('dnd_end', sa.String(length=5), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('openid')
    )
    op.create_table('order_snapshots',
    sa.Column('order_id', sa.String(length=50), nullable=False),
    sa.Column('customer_id', sa.String(length=50), nullable=False),
    sa.Column('order_code', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('produced_ratio', sa.Float(), nullable=False),
    sa.Column('shipped_ratio', sa.Float(), nullable=False),
    sa.Column('shipments', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('order_id')
    )
    with op.batch_alter_table('order_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_snapshots_customer_id'), ['customer_id'], unique=False)

    op.create_table('order_events',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=50), nullable=False),
    sa.Column('customer_id', sa.String(length=50), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('old_value', sa.String(length=100), nullable=True),
    sa.Column('new_value', sa.String(length=100), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_events_observed_at'), ['observed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_events_order_id'), ['order_id'], unique=False)

    op.create_table('worker_leases',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('worker_leases')
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_events_order_id'))
        batch_op.drop_index(batch_op.f('ix_order_events_observed_at'))
    op.drop_table('order_events')
    with op.batch_alter_table('order_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_snapshots_customer_id'))
    op.drop_table('order_snapshots')
    op.drop_table('notify_preferences')
    op.drop_table('subscription_grants')
    with op.batch_alter_table('message_logs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_logs_created_at'))
        batch_op.drop_index(batch_op.f('ix_message_logs_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_message_logs_dedupe_key'))
        for column in reversed(_outbox_columns()):
            batch_op.drop_column(column.name)
