"""revocation: the invite code a binding was made with (as an HMAC) and why a binding ended

Revision ID: 0004_revocation
Revises: 0003_avatar_images
Create Date: 2026-12-01

Hand-written; batch mode (SQLite) is switched on in env.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004_revocation'
down_revision = '0003_avatar_images'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('erp_bindings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invite_code_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('ended_reason', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('erp_bindings', schema=None) as batch_op:
        batch_op.drop_column('ended_reason')
        batch_op.drop_column('invite_code_digest')
