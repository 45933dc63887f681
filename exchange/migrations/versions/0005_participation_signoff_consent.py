"""regional participation, National Coordinators' sign-off and send-back, publication consent

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import exchange.core.columns

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSENT_CHECK = "publication_consent IN ('regional_only', 'national')"


def upgrade() -> None:
    # Re-added (0003 dropped an unused one): every existing state starts at the narrower
    # choice until its National Coordinator decides.
    if op.get_bind().dialect.name == 'sqlite':
        # Not batch mode: recreating `state` would DROP a table that api_client and dataset
        # rows reference, which SQLite's enforced foreign keys refuse. ADD COLUMN carries the
        # named check itself.
        op.execute("ALTER TABLE state ADD COLUMN publication_consent VARCHAR(20) NOT NULL "
                   "DEFAULT 'regional_only' CONSTRAINT ck_state_publication_consent "
                   f"CHECK ({CONSENT_CHECK})")
    else:
        op.add_column('state', sa.Column('publication_consent',
                                         sqlmodel.sql.sqltypes.AutoString(length=20),
                                         nullable=False, server_default='regional_only'))
        op.create_check_constraint('ck_state_publication_consent', 'state', CONSENT_CHECK)

    op.create_table('region',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('created_at', exchange.core.columns.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('participant',
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('ref_area', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('first_period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('updated_at', exchange.core.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ref_area'], ['state.ref_area'], ),
    sa.ForeignKeyConstraint(['region'], ['region.id'], ),
    sa.PrimaryKeyConstraint('region', 'ref_area')
    )

    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review', sqlmodel.sql.sqltypes.AutoString(length=20),
                                      nullable=True))
        batch_op.add_column(sa.Column('review_reason',
                                      sqlmodel.sql.sqltypes.AutoString(length=1000),
                                      nullable=True))
        batch_op.add_column(sa.Column('reviewed_at',
                                      exchange.core.columns.UTCDateTime(timezone=True),
                                      nullable=True))

    with op.batch_alter_table('regional_coverage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('awaiting_signoff', sa.JSON(), nullable=False,
                                      server_default='[]'))
    with op.batch_alter_table('regional_coverage', schema=None) as batch_op:
        batch_op.alter_column('awaiting_signoff', server_default=None)
    # Tables built before sign-offs existed summed unsigned data and expected every member:
    # stale now, rebuilt by `mmx db upgrade` once the participants are registered.
    coverage = sa.table('regional_coverage', sa.column('stale', sa.Boolean()))
    op.execute(coverage.update().values(stale=True))


def downgrade() -> None:
    with op.batch_alter_table('regional_coverage', schema=None) as batch_op:
        batch_op.drop_column('awaiting_signoff')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('review_reason')
        batch_op.drop_column('review')
    op.drop_table('participant')
    op.drop_table('region')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE state DROP COLUMN publication_consent")  # its check goes with it
    else:
        op.drop_constraint('ck_state_publication_consent', 'state', type_='check')
        op.drop_column('state', 'publication_consent')
