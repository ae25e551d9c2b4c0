"""Public columns per model: explicit ones, columns the agenda adds later, and the deny-list."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from meeting.exports.fields import ROUND, ModelFields, denied


class Base(so.DeclarativeBase):
    pass


class LaterRound(Base):
    """A round as issue 7 may grow it."""

    __tablename__ = "later_rounds"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column()
    number: so.Mapped[int] = so.mapped_column()
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    kind: so.Mapped[str] = so.mapped_column(sa.String(10), comment="table or plenary")
    question: so.Mapped[str] = so.mapped_column(sa.Text)
    started_at: so.Mapped[str] = so.mapped_column(sa.String(30))
    host_nickname: so.Mapped[str] = so.mapped_column(sa.String(40))
    session_key_hash: so.Mapped[str] = so.mapped_column(sa.String(64))


def test_columns_added_later_are_exported_unless_denied():
    names = [f.name for f in ModelFields(LaterRound, ROUND, grow=True).resolved()]
    assert names == ["round_id", "number", "title", "kind", "question", "started_at"]
    kind = next(f for f in ModelFields(LaterRound, ROUND, grow=True).resolved() if f.name == "kind")
    assert kind.ja == "table or plenary"  # described by the column's comment
    assert [f.name for f in ModelFields(LaterRound, ROUND, grow=False).resolved()] == ["round_id", "number", "title"]


def test_the_deny_list():
    for name in ("nickname", "token_hash", "code_hash", "sealed", "identity_sealed", "session_key_hash", "email",
                 "address", "household_key", "external_id", "receipt", "hidden_reason", "host_id", "staff_id"):
        assert denied(name), name
    for name in ("title", "question", "contact", "venue", "started_at", "kind", "number", "table_id"):
        assert not denied(name), name
