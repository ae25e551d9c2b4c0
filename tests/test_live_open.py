"""An open meeting end to end on a real server: 30 people join by the public code, report their
categories, are seated, post and vote; rotating the code stops new joins with the old one and
leaves joined people in; past the capacity a newcomer waits and is let in when a place frees."""

import json
import re
import sqlite3

import pytest
import requests

from tests.live import CSRF, LiveServer, Phone, close_all, staff_login

pytestmark = pytest.mark.live

QUESTIONS = "年代: 10〜30代, 40〜60代, 70代以上\n地区: 北, 南"
AGES = ["10〜30代", "40〜60代", "70代以上"]


def open_join(server, url: str, nickname: str, answers: dict) -> requests.Session:
    """Scan the poster's QR code (open its address) and join, as a phone would."""
    http = requests.Session()
    welcome = http.get(url, timeout=10)
    assert welcome.url.endswith("/open/welcome"), welcome.url
    fields = {"nickname": nickname, "csrf_token": CSRF.search(welcome.text).group(1), **answers}
    table = http.post(welcome.url, data=fields, timeout=10)
    assert table.url.endswith("/table"), (table.url, table.status_code)
    return http


def organizer_post(server, http, path: str, **form):
    page = http.get(server.url + path.split("/open")[0], timeout=10)
    return http.post(server.url + path, data={"csrf_token": CSRF.search(page.text).group(1), **form}, timeout=10)


@pytest.fixture
def server(tmp_path):
    live = LiveServer(tmp_path).start()
    yield live
    live.stop()


def test_thirty_people_join_by_the_public_code_and_rotating_it_keeps_them_in(server, tmp_path):
    demo = server.demo(participants=1, tables=5)
    meeting_path = f"/staff/meetings/{demo['meeting_id']}"
    organizer = staff_login(server, "admin@example.org", "admin password 123")  # tests/live.py makes it
    opened = organizer_post(server, organizer, meeting_path + "/open", capacity="30", self_report=QUESTIONS)
    assert "公開コード" in opened.text, opened.text[-2000:]
    url = re.search(r'href="(http[^"]+/o/[A-Z0-9]+)"', opened.text).group(1)
    line = re.search(r'id="share-line" href="([^"]+)"', opened.text).group(1)
    assert line == "https://line.me/R/share?text=" + requests.utils.quote(url, safe="")

    people = [open_join(server, url, f"区民{i}", {"category-0": AGES[i % 3], "category-1": "" if i % 5 == 0 else "北"})
              for i in range(30)]
    phones = [Phone(server, http) for http in people]
    control = Phone(server, staff_login(server, demo["facilitator"]["email"], demo["facilitator"]["password"]),
                    auth={"meeting_id": demo["meeting_id"]})
    try:
        snaps = [p.call("snapshot", {})["snapshot"] for p in phones]
        assert all(s["table"] is not None for s in snaps)  # everyone seated
        sizes = {}
        for s in snaps:
            sizes[s["table"]["id"]] = sizes.get(s["table"]["id"], 0) + 1
        assert len(sizes) == 5 and max(sizes.values()) - min(sizes.values()) <= 1
        ideas = [p.call("post_idea", {"text": f"商店街に{i}番目のベンチを"})["idea"] for i, p in enumerate(phones[:10])]
        for phone, snap in zip(phones, snaps, strict=True):
            mine = [i for i in ideas if i["table_id"] == snap["table"]["id"]]
            assert all(phone.call("vote", {"idea_id": i["id"], "value": "agree"})["ok"] for i in mine)
        with sqlite3.connect(tmp_path / "live.sqlite3") as conn:
            rows = conn.execute("SELECT categories, via FROM participants WHERE via = 'open'").fetchall()
        assert len(rows) == 30
        answers = [json.loads(r[0]) for r in rows]
        assert sum("地区" not in a for a in answers) == 6  # "prefer not to say" is not stored
        assert sorted({a["年代"] for a in answers}) == sorted(AGES)

        # A new code: the old one no longer opens the door; everyone in stays in.
        rotated = organizer_post(server, organizer, meeting_path + "/open/rotate")
        new_url = re.search(r'href="(http[^"]+/o/[A-Z0-9]+)"', rotated.text).group(1)
        assert new_url != url
        assert requests.get(url, timeout=10).status_code == 404
        assert phones[0].call("post_idea", {"text": "コードが変わっても続けられる"})["ok"]
        assert all(p.client.connected for p in phones)

        # Full (30): the next one waits, and gets in when a place frees.
        late_http = open_join(server, new_url, "遅れてきた人", {})
        assert "順番待ち" in late_http.get(server.url + "/table", timeout=10).text
        late = Phone(server, late_http)
        phones.append(late)
        assert late.call("snapshot", {})["snapshot"]["table"] is None
        assert control.call("person_remove", {"participant_id": snaps[29]["me"]["id"]})["ok"]
        assert late.wait_for(lambda: late.named("admitted"), timeout=5)
        assert late.call("snapshot", {})["snapshot"]["table"] is not None
    finally:
        close_all(phones + [control])
