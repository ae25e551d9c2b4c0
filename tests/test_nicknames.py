"""Nicknames are unique per meeting (people change tables between rounds), refused in the service
with a free suggestion in the resident's language."""

import pytest
import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import Invitation, Participant
from meeting.services import invitations
from meeting.services.errors import ServiceError
from tests.conftest import build_meeting, csrf_token, join


def invitation_of(participant_id):
    return db.session.scalar(sa.select(Invitation.id).where(Invitation.participant_id == participant_id))


def test_the_service_refuses_a_taken_nickname_and_suggests_a_free_one(app):
    _, cards = build_meeting(app, participants=4, tables=2)
    with app.test_request_context():
        invitations.redeem(invitation_of(cards[0]["participant_id"]), "はなこ")
        with pytest.raises(ServiceError) as taken:
            invitations.redeem(invitation_of(cards[1]["participant_id"]), "はなこ")
        assert taken.value.code == "nickname_taken" and taken.value.params["suggestion"] == "はなこ 2"
        assert "「はなこ 2」" in taken.value.message
        # Width, case and spaces do not make another name; the refused invitation stays usable.
        with pytest.raises(ServiceError):
            invitations.redeem(invitation_of(cards[1]["participant_id"]), "はな　こ")
        invitations.redeem(invitation_of(cards[1]["participant_id"]), "はなこ 2")
        with pytest.raises(ServiceError) as again:
            invitations.redeem(invitation_of(cards[2]["participant_id"]), "はなこ")
        assert again.value.params["suggestion"] == "はなこ 3"
        names = set(db.session.scalars(sa.select(Participant.nickname).where(Participant.nickname != "")))
        assert names == {"はなこ", "はなこ 2"}


def test_the_welcome_page_fills_in_the_suggestion(app):
    _, cards = build_meeting(app, participants=2, tables=1, language="en")
    first, second = app.test_client(), app.test_client()
    assert join(first, cards[0]["token"], "Hanako").status_code == 302
    second.get(f"/j/{cards[1]['token']}")
    refused = second.post("/welcome", data={"nickname": "hanako", "csrf_token": csrf_token(second, "/welcome")})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "is already used in this meeting" in page and "How about “hanako 2”?" in page
    assert 'value="hanako 2"' in page
    assert second.post("/welcome", data={"nickname": "hanako 2", "csrf_token": csrf_token(second, "/welcome")}).status_code == 302
