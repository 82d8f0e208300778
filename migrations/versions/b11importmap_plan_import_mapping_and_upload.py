"""plan import: mappings remembered per LA, and uploads kept while they are mapped

Revision ID: b11importmap
Revises: fcf8e5d028a9
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision: str = 'b11importmap'
down_revision: Union[str, None] = 'fcf8e5d028a9'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('plan_import_mapping',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('la_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['la_id'], ['local_authority.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('la_id', 'kind', 'key')
    )
    with op.batch_alter_table('plan_import_mapping', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_import_mapping_la_id'), ['la_id'], unique=False)

    op.create_table('plan_upload',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('la_id', sa.Uuid(), nullable=False),
    sa.Column('uploaded_by_id', sa.Uuid(), nullable=True),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('sheet', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['la_id'], ['local_authority.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['app_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('plan_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_upload_la_id'), ['la_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_upload_uploaded_by_id'), ['uploaded_by_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('plan_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_upload_uploaded_by_id'))
        batch_op.drop_index(batch_op.f('ix_plan_upload_la_id'))

    op.drop_table('plan_upload')
    with op.batch_alter_table('plan_import_mapping', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_import_mapping_la_id'))

    op.drop_table('plan_import_mapping')
