"""analytics rows carry their outbox entry id (idempotent batch flush)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 09:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('analytics_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outbox_id', sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_analytics_events_outbox_id'), ['outbox_id'])


def downgrade() -> None:
    with op.batch_alter_table('analytics_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_analytics_events_outbox_id'), type_='unique')
        batch_op.drop_column('outbox_id')
