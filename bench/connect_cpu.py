"""Server CPU per phone connection, in one process, without the network: what a phone's
(re)connection costs our code (the connect handler: session, participant, seat, presence row;
then the snapshot it asks for), the counterpart of bench/vote_cpu.py.

A meeting of 20 phones at each of T tables (SQLite, the test helpers' meeting), each table with a
few ideas and votes, is joined over HTTP first; then every phone connects through Flask-SocketIO's
test client (the real handlers), asks for its snapshot and disconnects, R rounds. CPU time
(process_time) per connect + snapshot + disconnect is printed; `--profile` adds cProfile's top
entries, `--sql` the statements of one connection.

    .venv/bin/python bench/connect_cpu.py [ROUNDS] [--tables T] [--ideas N] [--profile] [--sql]
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

    def option(name, default):
        return int(argv[argv.index(name) + 1]) if name in argv else default

    tables, per_table = option("--tables", 5), option("--ideas", 3)
    rounds = int(argv[0]) if argv and argv[0].isdigit() else 3
    folder = Path(tempfile.mkdtemp(prefix="kurumaza-connect-cpu-"))
    app = create_app({"INSTANCE_PATH": str(folder), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/k.sqlite3",
                      "SECRET_KEY": TEST_SECRET, "DATA_KEY": TEST_DATA_KEY, "MEETING_ASYNC_MODE": "threading",
                      "TALLY_INTERVAL": 0.25, "TESTING": True, "BASE_URL": "https://kurumaza.example"})
    with app.app_context():
        upgrade()
    _, cards = build_meeting(app, participants=20 * tables, tables=tables)
    https = []
    for i, card in enumerate(cards):
        http = app.test_client()
        join(http, card["token"], f"phone {i}")
        https.append((card["table_id"], http))
    # Some content at every table: a few ideas (3; --ideas), each voted on by five phones.
    by_table: dict[int, list] = {}
    for table_id, http in https:
        by_table.setdefault(table_id, []).append(http)
    for members in by_table.values():
        socks = [socketio.test_client(app, flask_test_client=h) for h in members[:5]]
        ideas = [socks[0].emit("post_idea", {"op_id": secrets.token_hex(8), "text": f"idea {k}"},
                               callback=True)["idea"]["id"] for k in range(per_table)]
        for sock in socks:
            for idea in ideas:
                sock.emit("vote", {"op_id": secrets.token_hex(8), "idea_id": idea, "value": "agree"}, callback=True)
            sock.disconnect()

    def connect_all():
        for _table, http in https:
            phone = socketio.test_client(app, flask_test_client=http)
            ack = phone.emit("snapshot", {"op_id": secrets.token_hex(8)}, callback=True)
            assert ack.get("ok"), ack
            phone.disconnect()

    connect_all()  # warm the caches
    if "--sql" in argv:  # the statements of one phone's connection, in order
        import sqlalchemy as sa

        from meeting.extensions import db
        seen = []
        with app.app_context():
            engine = db.engine
        import traceback

        def listener(_c, _cur, statement, *_a):
            ours = [f"{Path(f.filename).stem}:{f.lineno} {f.name}" for f in traceback.extract_stack()
                    if "/meeting/" in f.filename]
            seen.append(" ".join(statement.split())[:90] + "\n      <- " + " < ".join(reversed(ours[-4:])))
        sa.event.listen(engine, "before_cursor_execute", listener)
        phone = socketio.test_client(app, flask_test_client=https[0][1])
        print(f"-- connect: {len(seen)} statements")
        print("\n".join(seen))
        seen.clear()
        phone.emit("snapshot", {"op_id": secrets.token_hex(8)}, callback=True)
        print(f"-- snapshot: {len(seen)} statements")
        print("\n".join(seen))
        seen.clear()
        phone.disconnect()
        print(f"-- disconnect: {len(seen)} statements")
        print("\n".join(seen))
        sa.event.remove(engine, "before_cursor_execute", listener)
    profile = cProfile.Profile() if "--profile" in argv else None
    started = time.process_time()
    if profile:
        profile.enable()
    for _ in range(rounds):
        connect_all()
    if profile:
        profile.disable()
    spent = time.process_time() - started
    count = rounds * len(https)
    print(f"{count} connections ({len(https)} phones, {tables} tables, {per_table} ideas each): "
          f"{1000 * spent / count:.2f} ms of CPU per connect + snapshot + disconnect{' (profiled)' if profile else ''}")
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(60)
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main(sys.argv[1:])
