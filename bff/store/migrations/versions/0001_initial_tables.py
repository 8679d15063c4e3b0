"""initial tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_call_logs',
    sa.Column('log_id', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=64), nullable=True),
    sa.Column('api_endpoint', sa.String(length=200), nullable=False),
    sa.Column('request_method', sa.String(length=10), nullable=False),
    sa.Column('request_params', sa.Text(), nullable=True),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_data', sa.Text(), nullable=True),
    sa.Column('response_time_ms', sa.Integer(), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('called_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('operation', sa.String(length=100), nullable=True),
    sa.Column('trace_id', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('log_id')
    )
    with op.batch_alter_table('api_call_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_call_logs_api_endpoint'), ['api_endpoint'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_call_logs_called_at'), ['called_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_call_logs_session_id'), ['session_id'], unique=False)

    op.create_table('erp_bindings',
    sa.Column('binding_id', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('openid', sa.String(length=100), nullable=False),
    sa.Column('erp_username', sa.String(length=100), nullable=False),
    sa.Column('company_id', sa.String(length=50), nullable=True),
    sa.Column('company_name', sa.String(length=200), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('bound_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('is_valid', sa.Boolean(), nullable=False),
    sa.Column('unbound_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('binding_id')
    )
    with op.batch_alter_table('erp_bindings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erp_bindings_erp_username'), ['erp_username'], unique=False)
        batch_op.create_index(batch_op.f('ix_erp_bindings_openid'), ['openid'], unique=False)
        batch_op.create_index(batch_op.f('ix_erp_bindings_session_id'), ['session_id'], unique=False)

    op.create_table('message_logs',
    sa.Column('msg_id', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=64), nullable=True),
    sa.Column('openid', sa.String(length=100), nullable=True),
    sa.Column('template_id', sa.String(length=100), nullable=False),
    sa.Column('msg_content', sa.Text(), nullable=True),
    sa.Column('msg_status', sa.String(length=20), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error_detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('msg_id')
    )
    with op.batch_alter_table('message_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_logs_openid'), ['openid'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_logs_sent_at'), ['sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_logs_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_logs_template_id'), ['template_id'], unique=False)

    op.create_table('user_sessions',
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('openid', sa.String(length=100), nullable=False),
    sa.Column('session_key', sa.String(length=255), nullable=True),
    sa.Column('unionid', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('login_source', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('session_id')
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_sessions_openid'), ['openid'], unique=False)

    op.create_table('wx_users',
    sa.Column('openid', sa.String(length=100), nullable=False),
    sa.Column('unionid', sa.String(length=100), nullable=True),
    sa.Column('nickname', sa.String(length=64), nullable=True),
    sa.Column('avatar_url', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('openid')
    )


def downgrade() -> None:
    op.drop_table('wx_users')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_openid'))
        batch_op.drop_index(batch_op.f('ix_user_sessions_expires_at'))

    op.drop_table('user_sessions')
    with op.batch_alter_table('message_logs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_logs_template_id'))
        batch_op.drop_index(batch_op.f('ix_message_logs_session_id'))
        batch_op.drop_index(batch_op.f('ix_message_logs_sent_at'))
        batch_op.drop_index(batch_op.f('ix_message_logs_openid'))

    op.drop_table('message_logs')
    with op.batch_alter_table('erp_bindings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_erp_bindings_session_id'))
        batch_op.drop_index(batch_op.f('ix_erp_bindings_openid'))
        batch_op.drop_index(batch_op.f('ix_erp_bindings_erp_username'))

    op.drop_table('erp_bindings')
    with op.batch_alter_table('api_call_logs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_call_logs_session_id'))
        batch_op.drop_index(batch_op.f('ix_api_call_logs_called_at'))
        batch_op.drop_index(batch_op.f('ix_api_call_logs_api_endpoint'))

    op.drop_table('api_call_logs')
