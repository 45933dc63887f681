"""pipeline stages (submission.next_stage, outbox.stage), same-file uniqueness, no unused
publication_consent

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_stage', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_submission_next_stage'), ['next_stage'],
                              unique=False)
        batch_op.create_unique_constraint('uq_submission_same_file',
                                          ['ref_area', 'period', 'sha256'])
    # Work in flight continues where it was.
    op.execute("UPDATE submission SET next_stage = 'validate' "
               "WHERE status IN ('received', 'validating')")
    op.execute("UPDATE submission SET next_stage = 'harmonize' "
               "WHERE status IN ('validated', 'harmonizing')")
    op.execute("UPDATE submission SET next_stage = 'aggregate' "
               "WHERE status = 'harmonized' AND progress < 100")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False,
                                      server_default='validate'))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('stage', server_default=None)
    with op.batch_alter_table('state', schema=None) as batch_op:
        batch_op.drop_column('publication_consent')


def downgrade() -> None:
    with op.batch_alter_table('state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('publication_consent', sqlmodel.sql.sqltypes.AutoString(length=20),
                                      nullable=False, server_default='regional_only'))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('stage')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_constraint('uq_submission_same_file', type_='unique')
        batch_op.drop_index(batch_op.f('ix_submission_next_stage'))
        batch_op.drop_column('next_stage')
