"""releases: release, release_cell, release_audit, release_calendar; the outbox hands releases
to the queue too

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import exchange.core.columns

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString


def _key_columns() -> list[sa.Column]:
    return [
        sa.Column('freq', Text(length=1), nullable=False),
        sa.Column('period', Text(length=8), nullable=False),
        sa.Column('counterpart_area', Text(length=4), nullable=False),
        sa.Column('pop_group', Text(length=10), nullable=False),
        sa.Column('spec_need', Text(length=10), nullable=False),
        sa.Column('measure', Text(length=20), nullable=False),
        sa.Column('citizenship', Text(length=4), nullable=False),
        sa.Column('sex', Text(length=2), nullable=False),
        sa.Column('age', Text(length=8), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        'release',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('period', Text(length=8), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('status', Text(length=20), nullable=False),
        sa.Column('next_stage', Text(length=20), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('progress', sa.Integer(), nullable=False),
        sa.Column('failure_reason', Text(length=1000), nullable=True),
        sa.Column('trigger', Text(length=20), nullable=False),
        sa.Column('requested_by', Text(length=64), nullable=False),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('embargo_until', exchange.core.columns.UTCDateTime(), nullable=True),
        sa.Column('standard_version', Text(length=20), nullable=False),
        sa.Column('solver', Text(length=20), nullable=True),
        sa.Column('audit_ok', sa.Boolean(), nullable=True),
        sa.Column('cells_published', sa.Integer(), nullable=True),
        sa.Column('cells_suppressed', sa.Integer(), nullable=True),
        sa.Column('coverage', sa.JSON(), nullable=False),
        sa.Column('created_at', exchange.core.columns.UTCDateTime(), nullable=False),
        sa.Column('updated_at', exchange.core.columns.UTCDateTime(), nullable=False),
        sa.Column('published_at', exchange.core.columns.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('period', 'number'),
    )
    with op.batch_alter_table('release', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_release_period'), ['period'], unique=False)
        batch_op.create_index(batch_op.f('ix_release_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_release_next_stage'), ['next_stage'], unique=False)
    op.create_table(
        'release_cell',
        *_key_columns(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('release_id', sa.Integer(), nullable=False),
        sa.Column('area', Text(length=40), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=True),
        sa.Column('conf_status', Text(length=1), nullable=False),
        sa.ForeignKeyConstraint(['release_id'], ['release.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_release_cell_release_area', 'release_cell', ['release_id', 'area'])
    op.create_table(
        'release_audit',
        *_key_columns(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('release_id', sa.Integer(), nullable=False),
        sa.Column('area', Text(length=40), nullable=False),
        sa.Column('conf_status', Text(length=1), nullable=False),
        sa.Column('published', sa.Boolean(), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.Column('lower', sa.Float(), nullable=True),
        sa.Column('upper', sa.Float(), nullable=True),
        sa.Column('required_lower', sa.Float(), nullable=False),
        sa.Column('required_upper', sa.Float(), nullable=False),
        sa.Column('exact', sa.Boolean(), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['release_id'], ['release.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_release_audit_release', 'release_audit', ['release_id'])
    op.create_table(
        'release_calendar',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('period', Text(length=8), nullable=False),
        sa.Column('due_at', exchange.core.columns.UTCDateTime(), nullable=False),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('embargo_until', exchange.core.columns.UTCDateTime(), nullable=True),
        sa.Column('created_by', Text(length=64), nullable=False),
        sa.Column('release_id', sa.Integer(), nullable=True),
        sa.Column('created_at', exchange.core.columns.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['release_id'], ['release.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_release_calendar_due_at', 'release_calendar', ['due_at'])
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('submission_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('release_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_release_id'), ['release_id'], unique=False)
        batch_op.create_foreign_key('fk_outbox_release_id', 'release', ['release_id'], ['id'])


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE release_id IS NOT NULL")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbox_release_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_release_id'))
        batch_op.drop_column('release_id')
        batch_op.alter_column('submission_id', existing_type=sa.Integer(), nullable=False)
    op.drop_index('ix_release_calendar_due_at', table_name='release_calendar')
    op.drop_table('release_calendar')
    op.drop_index('ix_release_audit_release', table_name='release_audit')
    op.drop_table('release_audit')
    op.drop_index('ix_release_cell_release_area', table_name='release_cell')
    op.drop_table('release_cell')
    op.drop_table('release')
