"""standard 2.0.0: FREQ, COUNTERPART_AREA and SPEC_NEED dimensions, UNIT_MEASURE and
CONF_STATUS on observations, weekly periods, declared rounding

Observations and regional tables are derived data: they are emptied here and every current
harmonized revision is queued to be harmonized again, so the workers rebuild them in the 2.0.0
shape from the stored files (1.0.0 files are mapped forward by the standard's mapping tables).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.execute("DELETE FROM observation")
    op.execute("DELETE FROM regional_observation")
    for table in ("observation", "regional_observation"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('freq', Text(length=1), nullable=False,
                                          server_default='Q'))
            batch_op.add_column(sa.Column('counterpart_area', Text(length=4), nullable=False,
                                          server_default='_Z'))
            batch_op.add_column(sa.Column('spec_need', Text(length=10), nullable=False,
                                          server_default='_T'))
            batch_op.alter_column('period', type_=Text(length=8), existing_nullable=False)
            batch_op.alter_column('measure', type_=Text(length=20), existing_nullable=False)
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_measure', Text(length=10), nullable=True))
        batch_op.add_column(sa.Column('conf_status', Text(length=1), nullable=True))
    with op.batch_alter_table('regional_coverage', schema=None) as batch_op:
        batch_op.alter_column('period', type_=Text(length=8), existing_nullable=False)
        batch_op.add_column(sa.Column('age_bands', sa.JSON(), nullable=False,
                                      server_default='[]'))
    op.execute("UPDATE regional_coverage SET stale = true")
    for table in ("dataset", "submission"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('period', type_=Text(length=8), existing_nullable=False)
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rounding_base', sa.Integer(), nullable=True))
    # Harmonize every current revision again, in the 2.0.0 shape.
    op.execute("UPDATE submission SET next_stage = 'harmonize', status = 'validated', "
               "progress = 40, attempts = 0 WHERE next_stage IS NULL AND status = 'harmonized' "
               "AND revision = (SELECT harmonized_revision FROM dataset "
               "WHERE dataset.id = submission.dataset_id)")
    op.execute("UPDATE dataset SET harmonized_revision = 0")


def downgrade() -> None:
    op.execute("DELETE FROM observation")
    op.execute("DELETE FROM regional_observation")
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('rounding_base')
    with op.batch_alter_table('regional_coverage', schema=None) as batch_op:
        batch_op.drop_column('age_bands')
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_column('conf_status')
        batch_op.drop_column('unit_measure')
    for table in ("observation", "regional_observation"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('spec_need')
            batch_op.drop_column('counterpart_area')
            batch_op.drop_column('freq')
