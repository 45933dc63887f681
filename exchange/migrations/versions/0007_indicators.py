"""indicators: indicator_value, the indicators of every published release

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'indicator_value',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('release_id', sa.Integer(), nullable=False),
        sa.Column('indicator', Text(length=40), nullable=False),
        sa.Column('freq', Text(length=1), nullable=False),
        sa.Column('period', Text(length=8), nullable=False),
        sa.Column('area', Text(length=40), nullable=False),
        sa.Column('pop_group', Text(length=10), nullable=False),
        sa.Column('spec_need', Text(length=10), nullable=False),
        sa.Column('measure', Text(length=20), nullable=False),
        sa.Column('citizenship', Text(length=4), nullable=False),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('unit_measure', Text(length=10), nullable=False),
        sa.Column('obs_status', Text(length=1), nullable=True),
        sa.Column('conf_status', Text(length=1), nullable=False),
        sa.Column('suppressed_inputs', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['release_id'], ['release.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_indicator_value_release_indicator', 'indicator_value',
                    ['release_id', 'indicator'], unique=False)
    # Releases published before indicators existed get theirs: the ``indicators`` stage is
    # made due with an outbox row, which the workers' sweeper relays.
    op.execute("INSERT INTO outbox (release_id, stage, created_at, attempts) "
               "SELECT id, 'indicators', CURRENT_TIMESTAMP, 0 FROM release "
               "WHERE status = 'published' AND next_stage IS NULL")
    op.execute("UPDATE release SET next_stage = 'indicators', attempts = 0 "
               "WHERE status = 'published' AND next_stage IS NULL")


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE stage = 'indicators'")
    op.execute("UPDATE release SET next_stage = NULL WHERE next_stage = 'indicators'")
    op.drop_index('ix_indicator_value_release_indicator', table_name='indicator_value')
    op.drop_table('indicator_value')
