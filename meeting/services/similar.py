"""Similar ideas before posting: a resident sees up to three ideas at their table that say much
the same, and can vote on one instead (meeting.core.similarity does the comparing)."""

import sqlalchemy as sa

from meeting.core import similarity
from meeting.extensions import db
from meeting.models import Idea, Participant
from meeting.models.idea import IDEA_MAX_LENGTH
from meeting.services import ideas, meetings
from meeting.services.events import Changes

LIMIT = 3
MIN_LENGTH = 4  # shorter drafts match too much to help


def similar_ideas(person: Participant, text) -> tuple[dict, Changes]:
    """Up to three visible ideas at the resident's table similar to their draft, best first (reads only).

    The meeting's visible ideas weigh the features (TF-IDF), so words every table uses count less.
    """
    table = meetings.table_of(person)
    draft = text.strip()[:IDEA_MAX_LENGTH] if isinstance(text, str) else ""
    if table is None or len(draft) < MIN_LENGTH:
        return {"similar": []}, Changes()
    rows = list(db.session.execute(sa.select(Idea.id, Idea.text, Idea.table_id).where(
        Idea.meeting_id == person.meeting_id, Idea.hidden.is_(False), Idea.pending.is_(False),
        Idea.merged_into_id.is_(None))))
    corpus = similarity.Corpus({r.id: r.text for r in rows})
    at_table = [r.id for r in rows if r.table_id == table.id]
    found = similarity.similar(corpus, draft, among=at_table, limit=LIMIT) if at_table else []
    if not found:
        return {"similar": []}, Changes()
    ids = [i for i, _ in found]
    by_id = {i.id: i for i in db.session.scalars(sa.select(Idea).where(Idea.id.in_(ids)))}
    counts = ideas.tallies(ids)
    mine = ideas.my_votes(person, ids)
    return {"similar": [{**ideas.idea_view(by_id[i], counts[i]), "mine": by_id[i].participant_id == person.id,
                         "my_vote": mine.get(i), "score": round(float(s), 3)} for i, s in found]}, Changes()
