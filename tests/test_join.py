"""A resident's way in: invitation link or typed code, notice, nickname, single use."""

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import Participant
from meeting.services import secrets
from tests.conftest import build_meeting, csrf_token, join, make_app


def test_link_is_exchanged_for_a_cookie_and_leaves_the_address_bar(app, client):
    _, cards = build_meeting(app, participants=2, tables=1)
    token = cards[0]["token"]
    first = client.get(f"/j/{token}")
    assert first.status_code == 302 and first.headers["Location"] == "/welcome"
    page = client.get("/welcome").get_data(as_text=True)
    assert token not in page
    assert "公園の使い方を話し合います。" in page          # the meeting's purpose notice
    assert "ニックネーム" in page                          # Japanese by default
    response = client.post("/welcome", data={"nickname_choice": "さくら", "csrf_token": csrf_token(client, "/welcome")})
    assert response.status_code == 302 and response.headers["Location"] == "/table"
    table = client.get("/table").get_data(as_text=True)
    assert "テーブル" in table and "さくら" in table
    with app.app_context():
        person = db.session.get(Participant, cards[0]["participant_id"])
        assert person.nickname == "さくら" and person.joined_at is not None


def test_typed_nickname_wins_over_the_suggestion(app, client):
    _, cards = build_meeting(app, participants=1, tables=1)
    client.get(f"/j/{cards[0]['token']}")
    client.post("/welcome", data={"nickname_choice": "さくら", "nickname": " 山のひと ",
                                  "csrf_token": csrf_token(client, "/welcome")})
    with app.app_context():
        assert db.session.get(Participant, cards[0]["participant_id"]).nickname == "山のひと"


def test_second_browser_with_the_same_link_is_refused(app):
    _, cards = build_meeting(app, participants=1, tables=1)
    phone = app.test_client()
    join(phone, cards[0]["token"])
    other = app.test_client()
    refused = other.get(f"/j/{cards[0]['token']}")
    assert refused.status_code == 409
    assert "すでに別の端末で使われています" in refused.get_data(as_text=True)
    # The first phone still gets straight back to its table with the same link.
    again = phone.get(f"/j/{cards[0]['token']}")
    assert again.status_code == 302 and again.headers["Location"] == "/table"


def test_two_browsers_racing_on_the_welcome_page_only_one_gets_in(app):
    _, cards = build_meeting(app, participants=1, tables=1)
    a, b = app.test_client(), app.test_client()
    for c in (a, b):
        c.get(f"/j/{cards[0]['token']}")
    tokens = [csrf_token(c, "/welcome") for c in (a, b)]
    first = a.post("/welcome", data={"nickname": "A", "csrf_token": tokens[0]})
    second = b.post("/welcome", data={"nickname": "B", "csrf_token": tokens[1]})
    assert first.status_code == 302
    assert second.status_code == 409
    assert b.get("/table").status_code == 302  # back to the start page: no participant session


def test_unknown_link_gets_a_clear_message(client):
    response = client.get("/j/not-a-real-token")
    assert response.status_code == 404
    assert "この招待リンクまたはコードは無効です" in response.get_data(as_text=True)


def test_code_accepts_lower_case_full_width_and_hyphens(app):
    _, cards = build_meeting(app, participants=3, tables=1)
    code = cards[0]["code"]
    variants = [code.lower(), f"{code[:4]}-{code[4:]}",
                "".join(chr(ord(ch) + 0xFEE0) for ch in code[:4]) + "ー" + code[4:].lower()]
    for typed in variants:
        c = app.test_client()
        response = c.post("/join", data={"code": typed, "csrf_token": csrf_token(c, "/join")})
        assert response.status_code == 302 and response.headers["Location"] == "/welcome", typed


def test_wrong_code_explains_in_japanese(app, client):
    build_meeting(app, participants=1, tables=1)
    response = client.post("/join", data={"code": "ZZZZ-ZZZZ", "csrf_token": csrf_token(client, "/join")})
    assert response.status_code == 400
    assert "無効です" in response.get_data(as_text=True)


def test_codes_are_rate_limited(tmp_path, migrated_db):
    app = make_app(tmp_path, migrated_db, CODE_RATE_LIMIT="3 per minute")
    c = app.test_client()
    statuses = [c.post("/join", data={"code": "ZZZZZZZZ", "csrf_token": csrf_token(c, "/join")}).status_code
                for _ in range(5)]
    assert statuses[:3] == [400, 400, 400] and statuses[3:] == [429, 429]


def test_codes_and_tokens_are_hard_to_guess(app):
    _, cards = build_meeting(app, participants=20, tables=2)
    for card in cards:
        assert len(card["code"]) == 8 and not set(card["code"]) & set("01OIL")
        assert len(card["token"]) >= 22  # 16 random bytes in URL-safe base64
    assert len({c["code"] for c in cards}) == 20
    with app.app_context():
        stored = db.session.execute(sa.text("SELECT token_hash, code_hash, sealed FROM invitations")).all()
    for token_hash, code_hash, sealed in stored:
        assert all(c["token"] not in sealed and c["code"] not in sealed for c in cards)
        assert token_hash not in {c["token"] for c in cards}


def test_normalize_code():
    assert secrets.normalize_code("ａｂｃｄ－ｅｆｇｈ") == "ABCDEFGH"
    assert secrets.normalize_code(" abcd efgh ") == "ABCDEFGH"


def test_english_visitor_sees_english(app, client):
    _, cards = build_meeting(app, participants=1, tables=1)
    client.get("/?lang=en")
    client.get(f"/j/{cards[0]['token']}")
    page = client.get("/welcome").get_data(as_text=True)
    assert "Choose a nickname" in page and '<html lang="en">' in page


def test_start_page_is_japanese_by_default(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="ja">' in page and "招待コード" in page


def test_language_switch_comes_back_to_a_same_origin_path_only(client):
    from meeting.i18n import safe_next

    assert safe_next("/staff/meetings/1/control?tab=2") == "/staff/meetings/1/control?tab=2"
    for bad in ("//evil.example/", "https://evil.example/", "/\\evil.example", "evil", "", None, "/\x00x"):
        assert safe_next(bad) is None, bad
    page = client.get("/")
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    back = client.post("/language", data={"lang": "en", "next": "//evil.example/", "csrf_token": token})
    assert back.status_code == 302 and back.headers["Location"] == "/"
    back = client.post("/language", data={"lang": "en", "next": "/join", "csrf_token": token})
    assert back.headers["Location"] == "/join"
    assert '<html lang="en">' in client.get("/join").get_data(as_text=True)


def test_a_response_that_left_before_the_language_choice_does_not_undo_it(client):
    """The session cookie is written again by every response; the choice lives in a cookie of its own."""
    page = client.get("/")
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    stale_session = client.get_cookie("session").value  # what a response still on its way carries
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
    assert client.get_cookie("lang").value == "en"
    client.set_cookie("session", stale_session)  # ... arrives after the choice and overwrites the session
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    client.get("/?lang=plain")
    assert client.get_cookie("lang").value == "plain"
    assert '<meta name="catalog" content="plain">' in client.get("/").get_data(as_text=True)


def test_plain_japanese_shows_furigana_in_text_and_none_in_attributes(client):
    from meeting.reading import READING, rewrite_html

    html = rewrite_html('<p title="意見{いけん}">意見{いけん}</p><textarea>意見{いけん}</textarea>'
                        '<script type="application/json">{"a": "\\u610f\\u898b{\\u3044\\u3051\\u3093}"}</script>')
    assert html.startswith('<p title="意見"><ruby>意見<rp>(</rp><rt>いけん</rt><rp>)</rp></ruby></p><textarea>意見<')
    assert "{\\u3044" not in html and '"\\u610f\\u898b"' in html
    page = client.get("/?lang=plain").get_data(as_text=True)
    assert '<html lang="ja">' in page and '<meta name="catalog" content="plain">' in page
    assert "<ruby>" in page and not READING.search(page)
    assert "<rt>" not in page.split("<title>")[1].split("</title>")[0]
    # The choice stays for the next pages, and the switch offers the other two.
    page = client.get("/join").get_data(as_text=True)
    assert '<meta name="catalog" content="plain">' in page and ">English</button>" in page and ">日本語</button>" in page
