"""Downloads: ideas and votes as CSV (Excel-ready, formula-safe) and JSON, without names."""

import csv
import io
import json

from tests.conftest import build_meeting, op_id


def export_client(app, staff_auth):
    c = app.test_client()
    staff_auth.login(c)
    return c


def seed(app, participant_socket, participants=2):
    # With 12 participants, two voters keep the same two labels in 8 exports with odds of 1 in 132**7.
    meeting_id, cards = build_meeting(app, participants=participants, tables=1)
    a, b = participant_socket(cards[0]["token"], "たろう"), participant_socket(cards[1]["token"], "はなこ")
    idea = a.emit("post_idea", {"op_id": op_id(), "text": "=HYPERLINK(\"http://x\")"}, callback=True)["idea"]["id"]
    a.emit("post_idea", {"op_id": op_id(), "text": "駐輪場を増やす"}, callback=True)
    b.emit("vote", {"op_id": op_id(), "idea_id": idea, "value": "agree"}, callback=True)
    a.emit("vote", {"op_id": op_id(), "idea_id": idea, "value": "pass"}, callback=True)
    return meeting_id


def read_csv(body: bytes) -> list[dict]:
    assert body.startswith("\ufeff".encode())  # UTF-8 with BOM: Excel opens Japanese correctly
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_ideas_csv(app, staff_auth, participant_socket):
    meeting_id = seed(app, participant_socket)
    response = export_client(app, staff_auth).get(f"/staff/meetings/{meeting_id}/export/ideas.csv")
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response.data)
    assert [r["text"] for r in rows] == ["'=HYPERLINK(\"http://x\")", "駐輪場を増やす"]
    assert (rows[0]["agree"], rows[0]["disagree"], rows[0]["pass"]) == ("1", "0", "1")
    text = response.data.decode("utf-8-sig")
    assert "たろう" not in text and "はなこ" not in text


def test_votes_csv_labels_are_pseudonymous_and_new_each_export(app, staff_auth, participant_socket):
    meeting_id = seed(app, participant_socket, participants=12)
    c = export_client(app, staff_auth)
    labels = []
    for _ in range(8):
        rows = read_csv(c.get(f"/staff/meetings/{meeting_id}/export/votes.csv").data)
        assert len(rows) == 2 and {r["vote"] for r in rows} == {"agree", "pass"}
        assert all(r["participant"].startswith("P") for r in rows)
        labels.append(tuple(r["participant"] for r in rows))
    assert len(set(labels)) > 1  # labels are drawn again for every export


def test_json_export(app, staff_auth, participant_socket):
    meeting_id = seed(app, participant_socket)
    response = export_client(app, staff_auth).get(f"/staff/meetings/{meeting_id}/export/meeting.json")
    data = json.loads(response.data)
    assert data["meeting"]["id"] == meeting_id
    assert [i["text"] for i in data["ideas"]] == ["=HYPERLINK(\"http://x\")", "駐輪場を増やす"]
    assert len(data["votes"]) == 2
    authors = {i["author"] for i in data["ideas"]}
    assert len(authors) == 1 and authors <= {v["participant"] for v in data["votes"]}
    assert "たろう" not in response.data.decode() and "nickname" not in response.data.decode()
