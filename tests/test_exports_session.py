"""A scripted meeting session for the export, report and API tests.

Twelve residents drawn from a roster (names and addresses sealed), seated at two tables, post
and vote on ideas; two ideas that named a private person are hidden, a duplicate is merged; the plenary votes in
every poll kind (a secret one among them, a before/after survey), and one table has its own
poll. ``secrets_of`` lists every string that must never appear in a public file.
"""

import random

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import Meeting, PanelQuota, Participant, RosterPerson, StaffUser
from meeting.services import ideas, invitations, merging, polls, secrets
from tests.conftest import build_meeting, join

HIDDEN_TEXTS = ["山田花子さんの家は世田谷区池尻9-8-7で夜うるさい", "佐藤一郎（090-1111-2222）に苦情を言うべき"]
MERGED_TEXT = "ベンチをもっと増やしてほしい"
IDEA_TEXTS = ["駐輪場を増やす", "公園に日陰をつくる", "=SUM(A1:A9) 図書館の開館時間を延ばす", "バスの本数を増やす",
              "ベンチを増やす", "子どもの遊び場を広げる"]
POLL_QUESTION = "公園の使い方で一番大切なことは何ですか"


def _commit(result):
    db.session.commit()
    return result[0]


def scripted_session(app, *, participants=12, tables=2, language="ja"):
    """Run the session; return a dict with the meeting id, poll ids and what must stay private."""
    meeting_id, cards = build_meeting(app, participants=participants, tables=tables, language=language)
    nicknames = [f"ニック{i}ちゃん" for i in range(len(cards))]
    for card, nickname in zip(cards, nicknames):
        join(app.test_client(), card["token"], nickname)
    rng = random.Random(7)
    with app.app_context():
        user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "organizer@example.org"))
        people = list(db.session.scalars(sa.select(Participant).where(Participant.meeting_id == meeting_id)
                                         .order_by(Participant.number)))
        # A roster behind the panel: identity sealed, categories plain, some arrived.
        roster_names, addresses = [], []
        for i, person in enumerate(people):
            name, address = f"区民{i}番太郎", f"東京都世田谷区太子堂{i + 1}-{i + 2}-{i + 3}"
            roster_names.append(name)
            addresses.append(address)
            db.session.add(RosterPerson(meeting_id=meeting_id, position=i, line=i + 2, external_id=f"R{i:04d}",
                                        categories={"age": "young" if i % 2 else "old", "area": "north"},
                                        identity_sealed=secrets.seal({"name": name, "address": address,
                                                                      "contact": f"03-0000-{i:04d}", "other": {}}),
                                        status="arrived" if i < participants - 2 else "confirmed",
                                        participant_id=person.id))
        db.session.add_all([PanelQuota(meeting_id=meeting_id, position=0, category="age", value="young", min=4, max=8),
                            PanelQuota(meeting_id=meeting_id, position=1, category="age", value="old", min=4, max=8)])
        db.session.commit()

        posted = []
        for i, person in enumerate(people[:len(IDEA_TEXTS)]):
            posted.append(_commit(ideas.post_idea(person, IDEA_TEXTS[i]))["idea"]["id"])
        hidden = [_commit(ideas.post_idea(people[i], text))["idea"]["id"] for i, text in enumerate(HIDDEN_TEXTS)]
        table_of = {c["participant_id"]: c["table_id"] for c in cards}
        idea_table = {}
        for idea_id, person in zip(posted + hidden, people[:len(IDEA_TEXTS)] + people[:len(HIDDEN_TEXTS)]):
            idea_table[idea_id] = table_of[person.id]
        for person in people:
            for idea_id in posted + hidden:
                if idea_table[idea_id] == table_of[person.id]:
                    ideas.vote(person, idea_id, rng.choice(["agree", "agree", "disagree", "pass"]))
        db.session.commit()
        for idea_id, reason in zip(hidden, ["山田花子さんの住所が書かれている", "personal_data"]):
            _commit(ideas.hide_idea(user, meeting_id, idea_id, reason))
        # A duplicate, merged into the idea it repeats: its votes stay its own in the open data.
        duplicate = _commit(ideas.post_idea(people[-1], MERGED_TEXT))["idea"]["id"]
        _commit(merging.merge_ideas(user, meeting_id, posted[4], [duplicate]))

        def run(spec, ballots, voters=people):
            poll = _commit(polls.create_poll(user, meeting_id, spec))["poll"]
            _commit(polls.open_poll(user, meeting_id, poll["id"]))
            for person, ballot in zip(voters, ballots):
                _commit(polls.cast_ballot(person, poll["id"], ballot))
            _commit(polls.close_poll(user, meeting_id, poll["id"]))
            return poll["id"]

        n = len(people)
        poll_ids = {
            "agree": run({"kind": "agree", "question": POLL_QUESTION},
                         [{"vote": v} for v in (["agree"] * 7 + ["disagree"] * 3 + ["pass"] * 2)][:n]),
            "single": run({"kind": "single", "question": "どの施設を優先しますか", "options": ["公園", "図書館", "バス"]},
                          [{"option": f"o{1 + i % 3}"} for i in range(n)]),
            "approval": run({"kind": "approval", "question": "賛成できる案をすべて選んでください",
                             "options": ["案A", "案B", "案C"]}, [{"options": ["o1", "o2"] if i % 2 else ["o3"]}
                                                                 for i in range(n)]),
            "dots": run({"kind": "dots", "question": "シールを配ってください", "options": ["広場", "花壇", "遊具"],
                         "rules": {"dots": 3}}, [{"dots": {"o1": 2, "o3": 1}} if i % 2 else {"dots": {"o2": 3}}
                                                 for i in range(n)]),
            "ranking": run({"kind": "ranking", "question": "優先順位をつけてください", "options": ["X案", "Y案", "Z案"]},
                           [{"ranking": ["o2", "o1", "o3"]} if i % 3 else {"ranking": ["o1", "o3", "o2"]}
                            for i in range(n)]),
            "score": run({"kind": "score", "question": "満足度を5段階で", "options": ["会場", "進行"]},
                         [{"scores": {"o1": 1 + i % 5, "o2": None if i == 0 else 3}} for i in range(n)]),
            "secret": run({"kind": "single", "question": "無記名で選んでください", "options": ["はい", "いいえ"],
                           "secret": True}, [{"option": "o1" if i % 4 else "o2"} for i in range(n)]),
        }
        before = run({"kind": "survey", "question": "事前アンケート", "options": ["公園は安全だ", "公園は清潔だ"]},
                     [{"answers": {"o1": 2 + i % 2, "o2": 3}} for i in range(n)])
        poll_ids["survey_before"] = before
        poll_ids["survey_after"] = run({"follow_up_of": before},
                                       [{"answers": {"o1": 3 + i % 3, "o2": 3}} for i in range(n)])
        first_table = cards[0]["table_id"]
        at_table = [p for p in people if table_of[p.id] == first_table]
        poll_ids["table"] = run({"kind": "agree", "question": "このテーブルの結論でよいですか", "table_id": first_table},
                                [{"vote": "agree"}] * len(at_table), voters=at_table)
        tokens = []
        for card in invitations.printable(db.session.get(Meeting, meeting_id)):
            tokens += [card.token, card.code, card.code_display]
        return {"meeting_id": meeting_id, "polls": poll_ids, "hidden_ideas": hidden, "ideas": posted,
                "merged": {duplicate: posted[4]},
                "secrets": roster_names + addresses + tokens + nicknames + HIDDEN_TEXTS
                + ["山田花子さんの住所が書かれている"] + [f"03-0000-{i:04d}" for i in range(len(people))],
                "cards": cards}
