"""parcel_tracks: tracks from the tracking service, per tracking number

Revision ID: 0007_parcel_tracks
Revises: 0006_snapshot_digest
Create Date: 2026-11-27

Hand-written; batch mode (SQLite) is switched on in env.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_parcel_tracks'
down_revision = '0006_snapshot_digest'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('parcel_tracks',
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('com', sa.String(length=30), nullable=True),
    sa.Column('carrier', sa.String(length=50), nullable=True),
    sa.Column('customer_id', sa.String(length=50), nullable=False),
    sa.Column('shipment_id', sa.String(length=50), nullable=False),
    sa.Column('order_ids', sa.String(length=500), nullable=False),
    sa.Column('order_code', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('raw_state', sa.String(length=8), nullable=False),
    sa.Column('final', sa.Boolean(), nullable=False),
    sa.Column('events', sa.Text(), nullable=False),
    sa.Column('newest_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('subscribed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('subscribe_note', sa.String(length=100), nullable=True),
    sa.Column('subscribe_attempts', sa.Integer(), nullable=False),
    sa.Column('queried_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notified', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('number')
    )
    with op.batch_alter_table('parcel_tracks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parcel_tracks_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_parcel_tracks_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('parcel_tracks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parcel_tracks_expires_at'))
        batch_op.drop_index(batch_op.f('ix_parcel_tracks_customer_id'))
    op.drop_table('parcel_tracks')
