"""The agree/disagree statements in the format of Polis's open data (compdemocracy openData).

Four files with the headers of Polis's "darwin" exports, so red-dwarf, Sensemaker and our own
``python -m meeting analyze --polis-dir`` read them:

- ``comments.csv``: timestamp, datetime, comment-id, author-id, agrees, disagrees, moderated,
  comment-body. A hidden idea is ``moderated`` -1 and its body stays empty: the text never leaves.
- ``votes.csv``: timestamp, datetime, comment-id, voter-id, vote, in casting order; agree = +1,
  disagree = -1, pass = 0 (the sign convention of the open data).
- ``participants-votes.csv``: participant, group-id (the live map's group), n-comments, n-votes,
  n-agree, n-disagree, then one column per comment id.
- ``summary.csv``: key,value lines (topic, url, views, voters, voters-in-conv, commenters,
  comments, groups, conversation-description), no header, as Polis writes it.

Timestamps are milliseconds since the epoch; voter ids are the export's random labels as
numbers (P017 is voter 17). Without a BOM, as Polis writes them (the readers expect none).
"""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from meeting.exports.datasets import OpenData
from meeting.exports.tabular import write_csv
from meeting.extensions import db
from meeting.models import Idea, Vote
from meeting.services.opinion import VALUE

COMMENTS = ["timestamp", "datetime", "comment-id", "author-id", "agrees", "disagrees", "moderated", "comment-body"]
VOTES = ["timestamp", "datetime", "comment-id", "voter-id", "vote"]
PARTICIPANTS = ["participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree"]


def _ms(moment: datetime) -> int:
    return int(moment.replace(tzinfo=timezone.utc).timestamp() * 1000)


def _polis_date(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.replace(tzinfo=timezone.utc).astimezone(zone)
    return local.strftime(f"%a %b %d %H:%M:%S {local.tzname()} %Y")


def polis_files(data: OpenData, base_url: str = "") -> dict[str, bytes]:
    meeting, labels = data.meeting, data.labels
    zone = ZoneInfo(meeting.timezone or "Asia/Tokyo")
    ideas = list(db.session.scalars(sa.select(Idea).where(Idea.meeting_id == meeting.id).order_by(Idea.id)))
    # The live map's order: votes as they were cast (services.opinion._read).
    votes = list(db.session.execute(sa.select(Vote.participant_id, Vote.idea_id, Vote.value, Vote.updated_at)
                                    .join(Idea, Idea.id == Vote.idea_id).where(Idea.meeting_id == meeting.id)
                                    .order_by(Vote.updated_at, Vote.id)).all())

    def voter(pid):
        return labels.number.get(pid)

    tally: dict[int, list[int]] = {i.id: [0, 0] for i in ideas}
    per_person: dict[int, dict[int, int]] = {}
    for pid, iid, value, _ in votes:
        v = VALUE[value]
        if v == 1:
            tally[iid][0] += 1
        elif v == -1:
            tally[iid][1] += 1
        per_person.setdefault(pid, {})[iid] = v
    comments = write_csv(COMMENTS, ([_ms(i.created_at), _polis_date(i.created_at, zone), i.id,
                                     voter(i.participant_id) if i.participant_id else "", tally[i.id][0], tally[i.id][1],
                                     -1 if i.hidden or i.pending else 1, "" if i.hidden or i.pending else i.text]
                                    for i in ideas), bom=False)
    vote_file = write_csv(VOTES, ([_ms(at), _polis_date(at, zone), iid, voter(pid), VALUE[value]]
                                  for pid, iid, value, at in votes), bom=False)

    om = data.opinion.get("map")
    authored: dict[int, int] = {}
    for i in ideas:
        if i.participant_id is not None:
            authored[i.participant_id] = authored.get(i.participant_id, 0) + 1
    people = sorted(set(per_person) | set(authored), key=lambda p: voter(p) or 0)
    rows = []
    for pid in people:
        mine = per_person.get(pid, {})
        group = om.group_of(pid) if om is not None and pid in om.state.pindex else None
        rows.append([voter(pid), "" if group is None else group, authored.get(pid, 0), len(mine),
                     sum(1 for v in mine.values() if v == 1), sum(1 for v in mine.values() if v == -1),
                     *(mine.get(i.id, "") for i in ideas)])
    participants = write_csv(PARTICIPANTS + [str(i.id) for i in ideas], rows, bom=False)

    in_conv = int(om.in_conv.sum()) if om is not None else 0
    summary = [["topic", meeting.title], ["url", f"{base_url}/api/v1/meetings/{meeting.id}" if base_url else ""],
               ["views", len(labels.number)], ["voters", len(per_person)], ["voters-in-conv", in_conv],
               ["commenters", len(authored)], ["comments", len(ideas)],
               ["groups", len(om.groups) if om is not None else 0], ["conversation-description", meeting.purpose]]
    summary_file = write_csv(summary[0], summary[1:], bom=False)
    return {"comments.csv": comments, "votes.csv": vote_file, "participants-votes.csv": participants,
            "summary.csv": summary_file}
