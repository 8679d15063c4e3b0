"""admin sessions on the server; message_logs.company_id; the outbox's (state, due) index

Revision ID: 0008_admin_sessions
Revises: 0007_parcel_tracks
Create Date: 2026-12-05

Hand-written; batch mode (SQLite) is switched on in env.py. Rows of message_logs from before
this revision keep a NULL company_id (bff/notify/service.py says how they are shown).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_admin_sessions'
down_revision = '0007_parcel_tracks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('admin_sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('principal', sa.String(length=100), nullable=False),
    sa.Column('credential', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('client_ip', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id_hash')
    )
    with op.batch_alter_table('admin_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_sessions_expires_at'), ['expires_at'], unique=False)
    with op.batch_alter_table('message_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('company_id', sa.String(length=50), nullable=True))
        batch_op.create_index('ix_message_logs_status_due', ['msg_status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('message_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_message_logs_status_due')
        batch_op.drop_column('company_id')
    with op.batch_alter_table('admin_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_admin_sessions_expires_at'))
    op.drop_table('admin_sessions')
