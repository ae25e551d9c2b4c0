"""meeting language fixed

Revision ID: a1f3c9d2e4b7
Revises: 37343cf660bf
Create Date: 2026-12-02 19:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a1f3c9d2e4b7'
down_revision = '37343cf660bf'
branch_labels = None
depends_on = None


def upgrade():
    # meetings is referenced with ON DELETE CASCADE: add the column in place, never a batch rebuild.
    with op.batch_alter_table('meetings', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('language_fixed', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('meetings', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('language_fixed')
