"""Downloads: ideas and votes as CSV (Excel-ready, formula-safe) and JSON, without names."""

import csv
import io
import json

from tests.conftest import build_meeting, join, op_id


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


# ---------------------------------------------------------------- every entity, every format

import zipfile  # noqa: E402
from pathlib import Path  # noqa: E402

import openpyxl  # noqa: E402
import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from meeting.commands.analyze import analyze  # noqa: E402
from meeting.exports.datasets import DATASET_NAMES  # noqa: E402
from meeting.extensions import db  # noqa: E402
from meeting.models import Idea, Meeting, Participant, Poll, StaffUser  # noqa: E402
from tests.test_cli_analyze import shared_dir  # noqa: E402
from tests.test_exports_session import HIDDEN_TEXTS, scripted_session  # noqa: E402

POLIS_DATA = shared_dir() / "polis-data"


@pytest.fixture
def session(app, staff_auth):
    data = scripted_session(app)
    data["client"] = export_client(app, staff_auth)
    return data


def url(meeting_id, name):
    return f"/staff/meetings/{meeting_id}/export/{name}"


def test_every_dataset_in_every_format(app, session):
    c, mid = session["client"], session["meeting_id"]
    for name in DATASET_NAMES:
        for fmt, mimetype in (("csv", "text/csv; charset=utf-8"), ("json", "application/json"),
                              ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")):
            response = c.get(url(mid, f"data/{name}.{fmt}"))
            assert response.status_code == 200, (name, fmt)
            assert response.headers.getlist("Content-Type") == [mimetype], (name, fmt)
            if fmt == "csv":
                assert response.data.startswith(b"\xef\xbb\xbf")
                body = response.data.decode("utf-8-sig")
                assert body.endswith("\r\n") and "\n" not in body.replace("\r\n", "")  # RFC 4180 line ends
                header = next(csv.reader(io.StringIO(body)))
                assert header and all(header)
            elif fmt == "json":
                assert json.loads(response.data)["dataset"] == name
            else:
                book = openpyxl.load_workbook(io.BytesIO(response.data))
                assert book.sheetnames == [name[:31]]
    assert c.get(url(mid, "data/nothing.csv")).status_code == 404


def test_hidden_ideas_keep_a_category_not_their_text(app, session):
    rows = read_csv(session["client"].get(url(session["meeting_id"], "ideas.csv")).data)
    hidden = [r for r in rows if r["hidden"] == "true"]
    assert [int(r["idea_id"]) for r in hidden] == session["hidden_ideas"]
    assert {r["moderation"] for r in hidden} == {"other", "personal_data"}
    assert all(r["text"] == "" for r in hidden)
    assert {r["text"] for r in rows if r["hidden"] == "false"} >= {"駐輪場を増やす", "'=SUM(A1:A9) 図書館の開館時間を延ばす"}
    merged = {int(r["idea_id"]): int(r["merged_into"]) for r in rows if r["merged_into"]}
    assert merged == session["merged"]
    moderation = read_csv(session["client"].get(url(session["meeting_id"], "data/moderation.csv")).data)
    assert [(r["action"], r["category"]) for r in moderation] == [("idea.hide", "other"), ("idea.hide", "personal_data"),
                                                                  ("idea.merge", "duplicate")]


def test_poll_results_are_the_live_count_for_every_kind(app, session):
    from meeting.services.polls import results_view

    rows = read_csv(session["client"].get(url(session["meeting_id"], "data/poll_results.csv")).data)
    by_poll: dict[int, list] = {}
    for r in rows:
        by_poll.setdefault(int(r["poll_id"]), []).append(r)
    with app.app_context():
        for kind, poll_id in session["polls"].items():
            live = results_view(db.session.get(Poll, poll_id))
            exported = by_poll[poll_id]
            assert [r["option_id"] for r in exported] == [r["id"] for r in live["rows"]], kind
            assert [float(r["value"]) for r in exported] == [float(r["value"]) for r in live["rows"]], kind
    ranking = by_poll[session["polls"]["ranking"]]
    assert [(r["rank"], r["label"]) for r in ranking] == [("1", "Y案"), ("2", "X案"), ("3", "Z案")]  # Schulze order
    assert all(r["borda"] for r in ranking)
    dots = {r["label"]: r["dots"] for r in by_poll[session["polls"]["dots"]]}
    assert dots == {"広場": "12", "花壇": "18", "遊具": "6"}
    score = by_poll[session["polls"]["score"]][0]
    assert [score[f"score_{v}"] for v in range(1, 6)] == ["3", "3", "2", "2", "2"]
    change = by_poll[session["polls"]["survey_after"]][0]
    assert (change["before_mean"], change["after_mean"], change["paired"]) == ("2.5", "4.0", "12")
    polls = {int(r["poll_id"]): r for r in read_csv(session["client"].get(url(session["meeting_id"], "data/polls.csv")).data)}
    assert polls[session["polls"]["table"]]["scope"] == "table"


def test_ballots_are_pseudonymous_and_none_of_a_secret_poll(app, session):
    c, mid = session["client"], session["meeting_id"]
    ballots = read_csv(c.get(url(mid, "data/ballots.csv")).data)
    polls = {int(r["poll_id"]) for r in ballots}
    assert session["polls"]["secret"] not in polls
    assert session["polls"]["single"] in polls
    assert all(r["participant"].startswith("P") for r in ballots)
    seating = read_csv(c.get(url(mid, "data/seating.csv")).data)
    assert len(seating) == 12 and all(r["participant"].startswith("P") for r in seating)


def test_one_export_uses_one_set_of_labels(app, session):
    data = json.loads(session["client"].get(url(session["meeting_id"], "meeting.json")).data)
    seated = {r["participant"] for r in data["seating"]}
    assert {r["author"] for r in data["ideas"]} <= seated
    assert {r["participant"] for r in data["votes"]} <= seated
    assert {r["participant"] for r in data["ballots"]} <= seated


def test_workbook_has_every_dataset_and_no_formula(app, session):
    body = session["client"].get(url(session["meeting_id"], "meeting.xlsx")).data
    book = openpyxl.load_workbook(io.BytesIO(body))
    assert book.sheetnames == [n[:31] for n in DATASET_NAMES]
    cells = [cell for cell in book["ideas"].iter_rows() for cell in cell]
    assert all(cell.data_type != "f" for cell in cells)
    assert "'=SUM(A1:A9) 図書館の開館時間を延ばす" in [cell.value for cell in cells]


def test_attendance_against_the_quotas(app, session):
    rows = read_csv(session["client"].get(url(session["meeting_id"], "data/attendance.csv")).data)
    assert [(r["value"], r["pool"], r["drawn"], r["arrived"]) for r in rows] == [("young", "6", "6", "5"),
                                                                               ("old", "6", "6", "5")]


def test_content_type_is_given_once(app, session):
    response = session["client"].get(url(session["meeting_id"], "votes.csv"))
    assert response.headers.getlist("Content-Type") == ["text/csv; charset=utf-8"]


# ---------------------------------------------------------------- Polis format

def _polis(client, meeting_id, folder: Path) -> Path:
    body = client.get(url(meeting_id, "polis.zip")).data
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        z.extractall(folder)
    return folder


def test_polis_files_have_the_open_data_headers(app, session, tmp_path):
    folder = _polis(session["client"], session["meeting_id"], tmp_path / "polis")
    assert sorted(p.name for p in folder.iterdir()) == ["comments.csv", "participants-votes.csv", "summary.csv",
                                                        "votes.csv"]
    if not POLIS_DATA.is_dir():
        pytest.skip(f"no Polis open data in {POLIS_DATA} to compare headers against")
    reference = POLIS_DATA / "15-per-hour-seattle"  # london.youth.policing adds an xid column
    for name in ("comments.csv", "votes.csv"):
        assert (folder / name).read_text().splitlines()[0] == (reference / name).read_text().splitlines()[0]
    ours = (folder / "participants-votes.csv").read_text().splitlines()[0].split(",")
    theirs = (reference / "participants-votes.csv").read_text().splitlines()[0].split(",")
    assert ours[:6] == theirs[:6]
    keys = [line.split(",")[0] for line in (folder / "summary.csv").read_text().splitlines()]
    reference_keys = [line.split(",")[0] for line in (reference / "summary.csv").read_text().splitlines()]
    assert keys == reference_keys
    comments = list(csv.DictReader((folder / "comments.csv").open(encoding="utf-8")))
    hidden = [c for c in comments if c["moderated"] == "-1"]
    assert [int(c["comment-id"]) for c in hidden] == session["hidden_ideas"]
    assert all(c["comment-body"] == "" for c in hidden)
    body = "".join(p.read_text() for p in folder.iterdir())
    assert not any(text in body for text in HIDDEN_TEXTS)


def two_camps(app, participants=30, statements=10, seed=3):
    """One table, two camps that disagree on every statement, some noise, one hidden idea; the map is
    recomputed between two batches of votes, as the server's background task would."""
    from meeting.services import ideas, opinion

    meeting_id, cards = build_meeting(app, participants=participants, tables=1)
    for i, card in enumerate(cards):
        join(app.test_client(), card["token"], f"camp{i}")
    rng = __import__("random").Random(seed)
    with app.app_context():
        people = list(db.session.scalars(sa.select(Participant).where(Participant.meeting_id == meeting_id)
                                         .order_by(Participant.number)))
        user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "organizer@example.org"))
        posted = [ideas.post_idea(people[i % len(people)], f"意見その{i}")[0]["idea"]["id"] for i in range(statements)]
        db.session.commit()
        cells = [(p, i, s) for p, person in enumerate(people) for i, s in enumerate(posted)]
        rng.shuffle(cells)
        half = len(cells) // 2
        for n, (p, i, s) in enumerate(cells):
            camp = p < len(people) // 2
            value = "agree" if (i % 2 == 0) == camp else "disagree"
            if rng.random() < 0.1:
                value = "pass"
            ideas.vote(people[p], s, value)
            db.session.commit()
            if n == half:
                opinion.recompute(meeting_id)
                db.session.commit()
        ideas.hide_idea(user, meeting_id, posted[-1], "off_topic")
        db.session.commit()
        opinion.recompute(meeting_id)
        db.session.commit()
        live = opinion.last_map(meeting_id)
        live_groups = sorted(sorted(g.members) for g in live.groups)
    return meeting_id, live_groups


def test_polis_export_round_trips_through_analyze(app, staff_auth, tmp_path):
    meeting_id, live_groups = two_camps(app)
    assert len(live_groups) == 2
    client = export_client(app, staff_auth)
    folder = _polis(client, meeting_id, tmp_path / "polis")
    out = tmp_path / "map.json"
    result = CliRunner().invoke(analyze, ["--polis-dir", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    analyzed = json.loads(out.read_text())
    exported = {int(r["participant"]): r["group-id"] for r in
                csv.DictReader((folder / "participants-votes.csv").open(encoding="utf-8"))}
    by_group: dict = {}
    for p in analyzed["participants"]:
        if p["group"] is not None:
            by_group.setdefault(p["group"], set()).add(p["pid"])
    # The same partition as the live map: the voters the live map put together, analyze puts together.
    assert sorted(len(g) for g in by_group.values()) == sorted(len(g) for g in live_groups)
    for members in by_group.values():
        assert len({exported[pid] for pid in members}) == 1
    assert len({exported[pid] for g in by_group.values() for pid in g}) == 2
    with app.app_context():
        hidden = db.session.scalar(sa.select(Idea.id).where(Idea.meeting_id == meeting_id, Idea.hidden.is_(True)))
        assert db.session.get(Meeting, meeting_id) is not None
    assert all(r["statement"] != hidden for g in analyzed["groups"] for r in g["repness"])
