"""The participation funnel equals what scripted participants did (in-process clients)."""

import sqlalchemy as sa

from meeting.extensions import db, socketio
from meeting.models import Participant
from meeting.services import funnel
from tests.conftest import build_meeting, join
from tests.test_agenda import call, snapshot


def test_the_funnel_counts_what_each_participant_did(app, staff_auth):
    meeting_id, cards = build_meeting(app, participants=12, tables=2)
    with app.app_context():  # categories as a drawn panel's roster gives them
        for i, card in enumerate(cards):
            db.session.get(Participant, card["participant_id"]).categories = {"age": "young" if i < 6 else "old"}
        db.session.commit()
    phones = []
    for i, card in enumerate(cards[:9]):
        http = app.test_client()
        if i == 8:  # opened the link, never picked a nickname
            assert http.get(f"/j/{card['token']}").status_code == 302
            continue
        join(http, card["token"], f"区民{i}")
        phones.append(socketio.test_client(app, flask_test_client=http))
    for phone in phones:
        snapshot(phone)
    ideas = [call(phones[i], "post_idea", text=f"意見{i}")["idea"] for i in (0, 1, 2, 6)]
    for i in (0, 3, 4, 6, 7):  # vote on an idea at their own table
        mine = next(idea for idea in ideas if idea["table_id"] == cards[i]["table_id"])
        assert call(phones[i], "vote", idea_id=mine["id"], value="agree")["ok"]
    for i in (2, 3, 4, 5):  # these left early
        phones[i].disconnect()

    with app.app_context():
        result = funnel.funnel(meeting_id)
    # 12 invited, 9 opened, 8 joined, 4 posted, 5 voted, 4 still connected (0, 1, 6, 7).
    assert result["overall"] == {"invited": 12, "opened": 9, "joined": 8, "posted": 4, "voted": 5, "stayed": 4}
    assert sum(t["invited"] for t in result["tables"] if t["invited"] is not None) <= 12
    young = next(r for r in result["categories"] if r["value"] == "young")
    old = next(r for r in result["categories"] if r["value"] == "old")
    assert young["invited"] == 6 and old["invited"] == 6
    # Opened: young 6, old 3. The 3 is under 5, and with the overall 9 the 6 would give it away:
    # both are hidden. Posted: young 3 (0, 1, 2), old 1 (6): both under 5.
    assert young["opened"] is None and old["opened"] is None
    assert young["posted"] is None and old["posted"] is None
    with app.app_context():
        nobody = db.session.scalar(sa.select(sa.func.count()).select_from(Participant)
                                   .where(Participant.last_seen_at.is_not(None)))
    assert nobody == 8  # every phone that connected was seen; nothing else about it is kept
    for phone in phones[:2] + phones[6:]:
        phone.disconnect()


def test_the_control_room_reads_the_funnel(app, staff_auth):
    from tests.conftest import staff_socket

    meeting_id, _cards = build_meeting(app, participants=3, tables=1)
    control = staff_socket(app, staff_auth, meeting_id)
    answer = call(control, "funnel")
    assert answer["ok"] and answer["funnel"]["overall"]["invited"] == 3
