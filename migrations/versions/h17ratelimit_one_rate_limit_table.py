"""one rate-limit table for sign-in and feedback

Revision ID: h17ratelimit
Revises: c12moderation
Create Date: 2026-12-06 09:00:00.000000

The sign-in attempts and the feedback page hits become events in rate_limit_event. Their rows are
not moved: they count for 15 minutes at most, and their keys are hashed without the scope that now
keeps the two limits apart, so upgrading only forgets the counts of the last few minutes.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision: str = 'h17ratelimit'
down_revision: Union[str, None] = 'c12moderation'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('rate_limit_event',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('key_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rate_limit_event', schema=None) as batch_op:
        batch_op.create_index('ix_rate_limit_event_key_expires', ['key_hash', 'expires_at'], unique=False)

    with op.batch_alter_table('signin_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_signin_attempt_key_at')
    op.drop_table('signin_attempt')
    with op.batch_alter_table('feedback_hit', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_hit_key_at')
    op.drop_table('feedback_hit')


def downgrade() -> None:
    op.create_table('feedback_hit',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('key_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('feedback_hit', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_hit_key_at', ['key_hash', 'at'], unique=False)
    op.create_table('signin_attempt',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('key_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('attempted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('signin_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_signin_attempt_key_at', ['key_hash', 'attempted_at'], unique=False)

    with op.batch_alter_table('rate_limit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_limit_event_key_expires')
    op.drop_table('rate_limit_event')
