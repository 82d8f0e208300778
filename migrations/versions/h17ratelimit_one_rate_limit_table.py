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
    _create_keyed_table('rate_limit_event', 'expires_at', 'ix_rate_limit_event_key_expires')
    _drop_keyed_table('signin_attempt', 'ix_signin_attempt_key_at')
    _drop_keyed_table('feedback_hit', 'ix_feedback_hit_key_at')


def downgrade() -> None:
    _create_keyed_table('feedback_hit', 'at', 'ix_feedback_hit_key_at')
    _create_keyed_table('signin_attempt', 'attempted_at', 'ix_signin_attempt_key_at')
    _drop_keyed_table('rate_limit_event', 'ix_rate_limit_event_key_expires')


def _create_keyed_table(name: str, time_column: str, index: str) -> None:
    """The shape the new table and both old ones share: an id, a hashed key and a time, indexed by key and time."""
    op.create_table(name,
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('key_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column(time_column, sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(index, ['key_hash', time_column], unique=False)


def _drop_keyed_table(name: str, index: str) -> None:
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.drop_index(index)
    op.drop_table(name)
