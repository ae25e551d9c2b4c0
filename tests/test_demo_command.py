"""python -m meeting demo: a ready meeting in one step."""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def run(tmp_path, *args):
    env = {**os.environ, "MEETING_INSTANCE_PATH": str(tmp_path), "MEETING_BASE_URL": "http://127.0.0.1:5000"}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "meeting", *args], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_demo_prints_a_ready_meeting_as_json(tmp_path):
    assert run(tmp_path, "db", "upgrade").returncode == 0
    result = run(tmp_path, "demo", "--participants", "40", "--tables", "5", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data["meeting_id"], int)
    people = data["participants"]
    assert len(people) == 40 and len({p["join_url"] for p in people}) == 40
    assert all(p["join_url"].startswith("http://127.0.0.1:5000/j/") for p in people)
    assert sorted(Counter(p["table"] for p in people).values()) == [8, 8, 8, 8, 8]
    assert data["facilitator"]["email"] and data["facilitator"]["password"]
    assert data["facilitator"]["login_url"] == "http://127.0.0.1:5000/login"


def test_demo_links_work_in_the_app(tmp_path):
    from meeting import create_app
    from tests.conftest import TEST_DATA_KEY, TEST_SECRET  # noqa: F401

    run(tmp_path, "db", "upgrade")
    data = json.loads(run(tmp_path, "demo", "--participants", "2", "--tables", "1", "--json").stdout)
    app = create_app({"INSTANCE_PATH": str(tmp_path), "MEETING_ASYNC_MODE": "threading"})
    client = app.test_client()
    path = data["participants"][0]["join_url"].removeprefix("http://127.0.0.1:5000")
    assert client.get(path).headers["Location"] == "/welcome"
    login = client.get("/login")
    assert login.status_code == 200


def test_bad_arguments_exit_with_a_reason(tmp_path):
    result = run(tmp_path, "demo", "--participants", "0")
    assert result.returncode == 2 and "participants" in result.stderr


def test_demo_is_the_setagaya_day(tmp_path):
    from meeting import create_app
    from meeting.extensions import db
    from meeting.models import Participant, Round, StaffUser
    from meeting.services import staff

    assert run(tmp_path, "db", "upgrade").returncode == 0
    result = run(tmp_path, "demo", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["participants"]) == 100
    assert sorted(Counter(p["table"] for p in data["participants"]).values()) == [5] * 20
    assert {"性別", "年代", "地域", "居住年数"} <= set(data["participants"][0]["categories"])
    assert [s["kind"] for s in data["agenda"]] == ["table", "table", "table", "plenary"]
    assert data["organizer"]["email"] and data["organizer"]["password"]
    app = create_app({"INSTANCE_PATH": str(tmp_path), "MEETING_ASYNC_MODE": "threading"})
    with app.app_context():
        import sqlalchemy as sa

        steps = list(db.session.scalars(sa.select(Round).where(Round.meeting_id == data["meeting_id"])
                                        .order_by(Round.position)))
        assert [s.kind for s in steps] == ["table", "table", "table", "plenary"]
        assert all(s.title and s.duration_s for s in steps)
        facilitator = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == data["facilitator"]["email"]))
        organizer = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == data["organizer"]["email"]))
        assert not facilitator.is_organizer
        assert staff.role_in(facilitator, data["meeting_id"]) == "facilitator"
        assert staff.role_in(organizer, data["meeting_id"]) == "organizer"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant)) == 100
    # The first organizer's dashboard lists the demo meeting.
    client = app.test_client()
    from tests.conftest import csrf_token

    client.post("/login", data={"email": data["organizer"]["email"], "password": data["organizer"]["password"],
                                "csrf_token": csrf_token(client, "/login")})
    assert "世田谷区 区民ワークショップ" in client.get("/staff/", follow_redirects=True).get_data(as_text=True)
