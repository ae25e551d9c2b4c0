"""Free-text polls: answers in the residents' words, grouped by theme (on this server), the most
typical shown to staff only, and an answer made an idea."""

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import Ballot
from tests.test_merge import wait_for
from tests.test_polls import call, create_open, room  # noqa: F401  (room is a fixture)

ANSWERS = ["保育園が足りないので増やしてほしい", "保育園に入れず困っています。保育園を増やして",
           "バスの本数を増やしてほしい", "バスが一時間に一本しかなくて不便です", "公園のトイレをきれいにしてほしい",
           "公園のトイレが汚くて子どもが使えない"]


def test_text_answers_are_grouped_and_only_staff_see_them(app, room):  # noqa: F811
    staff, phones = room["staff"], room["phones"]
    poll = create_open(staff, kind="text", question="区にいちばん望むことは何ですか", visibility="live")
    assert poll["options"] == []
    assert call(phones[0], "cast_ballot", poll_id=poll["id"], ballot={"text": "   "})["error"] == "text_answer_empty"
    too_long = call(phones[0], "cast_ballot", poll_id=poll["id"], ballot={"text": "あ" * 501})
    assert too_long["error"] == "too_long" and "500" in too_long["message"]
    assert call(phones[0], "cast_ballot", poll_id=poll["id"], ballot={"text": "a\u202eb"})["error"] == "text_invalid"
    for phone, text in zip(phones, ANSWERS, strict=True):
        ack = call(phone, "cast_ballot", poll_id=poll["id"], ballot={"text": "  " + text + "\n"})
        assert ack["ok"] and ack["ballot"] == {"text": text}, ack

    seen = wait_for(staff, "poll_results", lambda m: m["results"]["ballots"] == 6)["results"]
    themes = seen["themes"]
    assert sum(g["size"] for g in themes) == 6 and len(themes) >= 2
    with app.app_context():
        text_of = dict(db.session.execute(sa.select(Ballot.id, Ballot.data)).all())
    theme_of = {text_of[b]["text"]: i for i, g in enumerate(themes) for b in g["ballot_ids"]}
    assert len(theme_of) == 6 and all(len(g["typical"]) <= 3 for g in themes)
    # The two childcare answers share a theme, the two about the park's toilets another one.
    assert theme_of[ANSWERS[0]] == theme_of[ANSWERS[1]] != theme_of[ANSWERS[4]] == theme_of[ANSWERS[5]]
    public = wait_for(phones[0], "poll_results", lambda m: m["results"]["ballots"] == 6)["results"]
    assert [g["size"] for g in public["themes"]] == [g["size"] for g in themes]
    assert all("typical" not in g and "ballot_ids" not in g for g in public["themes"])  # no one's words

    ballot = themes[0]["typical"][0]
    made = call(staff, "promote_answer", poll_id=poll["id"], ballot_id=ballot["ballot_id"])
    assert made["ok"], made
    idea = made["idea"]
    assert idea["text"] == ballot["text"]
    author = next(i for i, text in enumerate(ANSWERS) if text == ballot["text"])
    assert idea["table_id"] == room["cards"][author]["table_id"]  # at the author's table
    assert wait_for(phones[author], "idea_posted", lambda m: m["idea"]["id"] == idea["id"])
    assert call(staff, "promote_answer", poll_id=poll["id"], ballot_id=True)["error"] == "not_found"
    assert call(phones[0], "promote_answer", poll_id=poll["id"], ballot_id=ballot["ballot_id"])["error"] == "forbidden"
