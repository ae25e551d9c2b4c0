"""Letters and cards print the meeting's date, hours, venue and contact; letters put 〒 and the
postcode first; cards can be printed for the unused invitations only, or for one table."""

import re
from datetime import date, time

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import Meeting, Participant, RosterPerson
from meeting.services import secrets
from tests.conftest import build_meeting, csrf_token, join


def organizer(app, staff_auth):
    client = app.test_client()
    staff_auth.login(client)
    return client


def test_the_organizer_sets_date_venue_and_contact(app, staff_auth):
    meeting_id, _ = build_meeting(app, participants=2, tables=1)
    client = organizer(app, staff_auth)
    token = csrf_token(client, f"/staff/meetings/{meeting_id}")
    bad = client.post(f"/staff/meetings/{meeting_id}/details", data={
        "csrf_token": token, "held_on": "2026-12-05", "starts_at": "16:00", "ends_at": "13:30", "licence": "CC-BY-4.0"},
        follow_redirects=True)
    assert "終了時刻は開始時刻より後にしてください。" in bad.get_data(as_text=True)
    saved = client.post(f"/staff/meetings/{meeting_id}/details", data={
        "csrf_token": token, "held_on": "2026-12-05", "starts_at": "13:30", "ends_at": "16:00",
        "venue": "世田谷区民会館", "contact": "政策企画課 03-5432-0000", "licence": "CC0-1.0"}, follow_redirects=True)
    page = saved.get_data(as_text=True)
    assert "保存しました。" in page and "2026年12月5日(土) 13:30〜16:00 · 世田谷区民会館" in page
    with app.app_context():
        m = db.session.get(Meeting, meeting_id)
        assert (m.held_on, m.starts_at, m.ends_at, m.licence) == (date(2026, 12, 5), time(13, 30), time(16, 0), "CC0-1.0")


def _details(app, meeting_id):
    with app.app_context():
        m = db.session.get(Meeting, meeting_id)
        m.held_on, m.starts_at, m.ends_at = date(2026, 12, 5), time(13, 30), time(16, 0)
        m.venue, m.contact = "世田谷区民会館 第1会議室", "世田谷区 政策企画課 03-5432-0000"
        db.session.commit()


def test_letters_put_the_postcode_first_and_print_when_and_where(app, staff_auth):
    meeting_id, _ = build_meeting(app, participants=2, tables=1)
    _details(app, meeting_id)
    with app.app_context():
        people = list(db.session.scalars(sa.select(Participant).where(Participant.meeting_id == meeting_id)))
        for i, (person, address) in enumerate(zip(people, ["〒154-0004 東京都世田谷区太子堂1-2-3",
                                                             "東京都世田谷区池尻4-5-6"])):
            db.session.add(RosterPerson(meeting_id=meeting_id, position=i, external_id=f"R{i}", categories={},
                                        identity_sealed=secrets.seal({"name": f"区民{i}", "address": address,
                                                                      "contact": "", "other": {}}),
                                        status="confirmed", participant_id=person.id))
        db.session.commit()
    page = organizer(app, staff_auth).get(f"/staff/meetings/{meeting_id}/panel/letters").get_data(as_text=True)
    assert re.search(r'<p class="letter-postcode">〒154-0004</p>\s*<p class="letter-postal">東京都世田谷区太子堂1-2-3</p>',
                     page)
    assert '<p class="letter-postal">東京都世田谷区池尻4-5-6</p>' in page  # no postcode: none printed
    assert page.count("2026年12月5日(土) 13:30〜16:00") == 2 and page.count("世田谷区民会館 第1会議室") == 2
    assert page.count("問い合わせ先: 世田谷区 政策企画課 03-5432-0000") == 2


def test_cards_unused_only_or_one_table_with_the_first_round_table(app, staff_auth):
    meeting_id, cards = build_meeting(app, participants=6, tables=2)
    _details(app, meeting_id)
    join(app.test_client(), cards[0]["token"], "はやい")
    client = organizer(app, staff_auth)
    base = f"/staff/meetings/{meeting_id}/invitations"
    every = client.get(base).get_data(as_text=True)
    assert every.count('<article class="invitation">') == 6
    assert every.count("2026年12月5日(土) 13:30〜16:00") == 6
    with app.app_context():
        names = {t.id: t.name for t in db.session.get(Meeting, meeting_id).tables}
    for card in cards:
        assert f"あなたのテーブル: {names[card['table_id']]}" in every
    unused = client.get(base + "?only=unused").get_data(as_text=True)
    assert unused.count('<article class="invitation">') == 5 and cards[0]["code"] not in unused.replace("-", "")
    table = cards[1]["table_id"]
    one = client.get(f"{base}?table={table}").get_data(as_text=True)
    assert one.count('<article class="invitation">') == sum(1 for c in cards if c["table_id"] == table)
    assert all(f"あなたのテーブル: {names[table]}" in one for _ in (0,))
    assert not any(f"あなたのテーブル: {n}" in one for t, n in names.items() if t != table)
