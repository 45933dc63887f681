"""workers outbox observations regional

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:31:22.353589
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import exchange.core.columns

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('observation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('ref_area', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('pop_group', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('measure', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('citizenship', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('sex', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('age', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=True),
    sa.Column('obs_status', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
    sa.Column('derived', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index('ix_observation_area_period', ['ref_area', 'period'], unique=False)

    op.create_table('regional_coverage',
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('included', sa.JSON(), nullable=False),
    sa.Column('provisional', sa.JSON(), nullable=False),
    sa.Column('missing', sa.JSON(), nullable=False),
    sa.Column('stale', sa.Boolean(), nullable=False),
    sa.Column('updated_at', exchange.core.columns.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('region', 'period')
    )
    op.create_table('regional_observation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('pop_group', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('measure', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('citizenship', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('sex', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('age', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('states', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('regional_observation', schema=None) as batch_op:
        batch_op.create_index('ix_regional_region_period', ['region', 'period'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('created_at', exchange.core.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', exchange.core.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_dispatched_at'), ['dispatched_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_submission_id'), ['submission_id'], unique=False)

    with op.batch_alter_table('dataset', schema=None) as batch_op:
        batch_op.add_column(sa.Column('harmonized_revision', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))



def downgrade() -> None:
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('attempts')
        batch_op.drop_column('progress')

    with op.batch_alter_table('dataset', schema=None) as batch_op:
        batch_op.drop_column('harmonized_revision')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_submission_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_dispatched_at'))

    op.drop_table('outbox')
    with op.batch_alter_table('regional_observation', schema=None) as batch_op:
        batch_op.drop_index('ix_regional_region_period')

    op.drop_table('regional_observation')
    op.drop_table('regional_coverage')
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_index('ix_observation_area_period')

    op.drop_table('observation')
