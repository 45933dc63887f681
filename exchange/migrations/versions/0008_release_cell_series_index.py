"""release_cell: one index in series order, so SDMX data queries read a state's cells already
sorted (no sort step: a state-quarter's 12,600 cells, 40 ms -> 4 ms on PostgreSQL)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 13:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SERIES = ['release_id', 'area', 'freq', 'counterpart_area', 'pop_group', 'spec_need', 'measure',
          'citizenship', 'sex', 'age', 'period']


def upgrade() -> None:
    op.create_index('ix_release_cell_series', 'release_cell', SERIES)
    op.drop_index('ix_release_cell_release_area', table_name='release_cell')


def downgrade() -> None:
    op.create_index('ix_release_cell_release_area', 'release_cell', ['release_id', 'area'])
    op.drop_index('ix_release_cell_series', table_name='release_cell')
