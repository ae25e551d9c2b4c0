"""ballot receipt only for secret polls

Revision ID: 2cfede4ffa96
Revises: a1f3c9d2e4b7
Create Date: 2026-12-03 07:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '2cfede4ffa96'
down_revision = 'a1f3c9d2e4b7'
branch_labels = None
depends_on = None


def upgrade():
    # A receipt is issued for secret polls only: an ordinary ballot stores none. No table references
    # ballots, so SQLite's rebuild of it (the only way to change NOT NULL there) deletes nothing else.
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.alter_column('receipt', existing_type=sa.String(length=64), nullable=True)
    # Receipts already given for ordinary polls served nothing (the ballot is the voter's own to see).
    op.execute("UPDATE ballots SET receipt = NULL WHERE poll_id IN (SELECT id FROM polls WHERE NOT secret)")


def downgrade():
    # Back to NOT NULL: an ordinary ballot gets a placeholder that no code was ever given for.
    op.execute("UPDATE ballots SET receipt = 'none-' || CAST(id AS VARCHAR(20)) WHERE receipt IS NULL")
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.alter_column('receipt', existing_type=sa.String(length=64), nullable=False)
