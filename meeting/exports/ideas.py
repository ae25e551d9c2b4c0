"""The meeting's ideas and votes, with pseudonymous participant labels."""

import secrets
from datetime import datetime, timezone

import sqlalchemy as sa

from meeting.exports.tabular import write_csv
from meeting.extensions import db
from meeting.models import Idea, Meeting, Participant, Round, Table, Vote
from meeting.models.idea import VOTE_VALUES

IDEA_HEADER = ["idea_id", "table", "round", "author", "text", "hidden", "created_at", "agree", "disagree", "pass"]
VOTE_HEADER = ["idea_id", "participant", "vote", "updated_at"]


def _labels(meeting_id: int) -> dict[int, str]:
    """Random labels, new for every export, so two exports cannot be joined on them."""
    ids = list(db.session.scalars(sa.select(Participant.id).where(Participant.meeting_id == meeting_id)))
    secrets.SystemRandom().shuffle(ids)
    width = max(3, len(str(len(ids))))
    return {pid: f"P{n:0{width}d}" for n, pid in enumerate(ids, start=1)}


def collect(meeting: Meeting) -> dict:
    labels = _labels(meeting.id)
    rows = db.session.execute(sa.select(Idea, Table.name, Round.number).join(Table, Table.id == Idea.table_id)
                              .join(Round, Round.id == Idea.round_id)
                              .where(Idea.meeting_id == meeting.id).order_by(Idea.id)).all()
    counts: dict[int, dict] = {}
    for idea_id, value, n in db.session.execute(
            sa.select(Vote.idea_id, Vote.value, sa.func.count()).join(Idea)
            .where(Idea.meeting_id == meeting.id).group_by(Vote.idea_id, Vote.value)):
        counts.setdefault(idea_id, {})[value] = n
    ideas = [{"idea_id": idea.id, "table": table, "round": rnd,
              "author": labels.get(idea.participant_id, ""), "text": idea.text, "hidden": idea.hidden,
              "created_at": idea.created_at.isoformat() + "Z",
              **{v: counts.get(idea.id, {}).get(v, 0) for v in VOTE_VALUES}}
             for idea, table, rnd in rows]
    votes = [{"idea_id": v.idea_id, "participant": labels.get(v.participant_id, ""), "vote": v.value,
              "updated_at": v.updated_at.isoformat() + "Z"}
             for v in db.session.scalars(sa.select(Vote).join(Idea).where(Idea.meeting_id == meeting.id)
                                         .order_by(Vote.idea_id, Vote.id))]
    return {"meeting": {"id": meeting.id, "title": meeting.title, "language": meeting.language},
            "exported_at": datetime.now(timezone.utc).isoformat(), "ideas": ideas, "votes": votes}


def ideas_csv(meeting: Meeting) -> bytes:
    data = collect(meeting)
    return write_csv(IDEA_HEADER, ([row[h] for h in IDEA_HEADER] for row in data["ideas"]))


def votes_csv(meeting: Meeting) -> bytes:
    data = collect(meeting)
    return write_csv(VOTE_HEADER, ([row[h] for h in VOTE_HEADER] for row in data["votes"]))
