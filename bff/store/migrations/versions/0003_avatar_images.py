"""avatar images: one re-encoded profile picture per user

Revision ID: 0003_avatar_images
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0003_avatar_images'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('avatar_images',
    sa.Column('openid', sa.String(length=100), nullable=False),
    sa.Column('avatar_id', sa.String(length=32), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('data', sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), 'mysql'), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('openid')
    )
    with op.batch_alter_table('avatar_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_avatar_images_avatar_id'), ['avatar_id'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('avatar_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_avatar_images_avatar_id'))
    op.drop_table('avatar_images')
