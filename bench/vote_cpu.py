"""Server CPU per vote event, in one process, without the network: what the handler and the
service cost (the op log, the participant check, the look-ups, the upsert, the commit).

A meeting of 20 phones at one table (SQLite, the test helpers' meeting) votes N times through
Flask-SocketIO's test client, which runs the real event handlers. CPU time (process_time) per
vote is printed; `--profile` adds cProfile's top entries. Repeatable within a few tenths of a
millisecond on an idle machine; other jobs on the cores inflate it.

    .venv/bin/python bench/vote_cpu.py [N] [--profile]
"""

import cProfile
import pstats
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main(argv):
    from conftest import TEST_DATA_KEY, TEST_SECRET, build_meeting, join
    from flask_migrate import upgrade

    from meeting import create_app
    from meeting.extensions import socketio

    folder = Path(tempfile.mkdtemp(prefix="kurumaza-vote-cpu-"))
    app = create_app({"INSTANCE_PATH": str(folder), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/k.sqlite3",
                      "SECRET_KEY": TEST_SECRET, "DATA_KEY": TEST_DATA_KEY, "MEETING_ASYNC_MODE": "threading",
                      "TALLY_INTERVAL": 0.25, "TESTING": True, "BASE_URL": "https://kurumaza.example"})
    with app.app_context():
        upgrade()
    _, cards = build_meeting(app, participants=20, tables=1)
    phones = []
    for i, card in enumerate(cards):
        http = app.test_client()
        join(http, card["token"], f"phone {i}")
        phone = socketio.test_client(app, flask_test_client=http)
        phone.emit("snapshot", {"op_id": secrets.token_hex(8)}, callback=True)
        phones.append(phone)
    ideas = [phones[0].emit("post_idea", {"op_id": secrets.token_hex(8), "text": f"idea {i}"},
                            callback=True)["idea"]["id"] for i in range(5)]

    def vote(n):
        for k in range(n):
            ack = phones[k % 20].emit("vote", {"op_id": secrets.token_hex(8), "idea_id": ideas[k % 5],
                                               "value": ("agree", "disagree")[k // 100 % 2]}, callback=True)
            assert ack.get("ok"), ack

    count = int(next((a for a in argv if a.isdigit()), "400"))
    vote(50)  # warm the caches
    for phone in phones:
        phone.get_received()
    profile = cProfile.Profile() if "--profile" in argv else None
    started = time.process_time()
    if profile:
        profile.enable()
    vote(count)
    if profile:
        profile.disable()
    spent = time.process_time() - started
    print(f"{count} votes: {1000 * spent / count:.2f} ms of CPU per vote event"
          f"{' (profiled)' if profile else ''}")
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main(sys.argv[1:])
