"""parcel_tracks.order_codes: every order of the shipment known to be the customer's, with its number

Revision ID: 0009_parcel_order_codes
Revises: 0008_admin_sessions
Create Date: 2026-12-07

Hand-written; batch mode (SQLite) is switched on in env.py. Rows made before it keep "{}": their
messages go to the followers of the shipment's first order, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_parcel_order_codes'
down_revision = '0008_admin_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('parcel_tracks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_codes', sa.String(length=1000), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('parcel_tracks', schema=None) as batch_op:
        batch_op.drop_column('order_codes')
