"""Does numbering broadcasts (services/events.py stamp()) limit a big meeting on PostgreSQL?

Until 2026-12-03 every broadcast of a meeting bumped one counter on the meeting row, so all the
tables of a meeting waited for each other's commits; now each stream (a table, the meeting, the
staff) has its own counter row, locked only by writers of that stream.

Two processes × T threads each run broadcast transactions for D seconds: stamp one event and
commit. Three layouts: every thread at its own table of ONE meeting (a breakout: the case that
matters), every thread on ONE table's stream (the worst case: they serialize on its row), and
every thread in a meeting of its own (no shared row: the database's own ceiling). Printed:
transactions/s, latency p50/p99, and the share of each transaction spent in stamp() (waiting
for a row lock, mostly).

    DATABASE_ADMIN=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/seqlock.py
"""

import json
import multiprocessing
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ADMIN = os.environ.get("DATABASE_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
DURATION = float(os.environ.get("SEQLOCK_SECONDS", "5"))
PROCESSES = 2


def worker(url, meeting_ids, threads, out, one_table):
    import threading

    from meeting import create_app
    from meeting.extensions import db
    from meeting.services.events import Event, stamp, table_stream

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": threads + 2}})
    results = []
    lock = threading.Lock()

    def run(index):
        meeting_id = meeting_ids[index % len(meeting_ids)]
        mine = []
        with app.app_context():
            deadline = time.monotonic() + DURATION
            while time.monotonic() < deadline:
                t0 = time.perf_counter()
                db.session.execute(db.text("SELECT 1"))  # the transaction has begun
                t1 = time.perf_counter()
                stamp(meeting_id, [Event(table_stream(0 if one_table else os.getpid() * 1000 + index), "idea_posted", {})])
                t2 = time.perf_counter()
                db.session.commit()
                t3 = time.perf_counter()
                mine.append((t3 - t0, t2 - t1))
        with lock:
            results.extend(mine)

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put(results)


def measure(url, meetings, threads, one_table=False):
    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=worker, args=(url, meetings[p::PROCESSES] or meetings, threads, out,
                                                          one_table))
             for p in range(PROCESSES)]
    for p in procs:
        p.start()
    rows = [r for _ in procs for r in out.get()]
    for p in procs:
        p.join()
    lat = sorted(r[0] for r in rows)
    return {"tx_per_s": round(len(rows) / DURATION), "p50_ms": round(lat[len(lat) // 2] * 1000, 2),
            "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2),
            "stamp_share": round(sum(r[1] for r in rows) / sum(lat), 2)}


def main():
    import psycopg

    name = f"kurumaza_seqlock_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    try:
        from flask_migrate import upgrade

        from meeting import create_app
        from meeting.extensions import db
        from meeting.models import Meeting

        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
            ids = []
            for i in range(64):
                m = Meeting(title=f"bench {i}", language="ja")
                db.session.add(m)
                db.session.flush()
                ids.append(m.id)
            db.session.commit()
            db.engine.dispose()
        print(f"load: {os.getloadavg()[0]:.2f} (uptime, 1 min), {os.cpu_count()} cores, {DURATION:.0f} s per row")
        print(f"{'threads':>8} {'layout':>10} {'tx/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'stamp share':>12}")
        results = []
        for threads in (1, 4, 16, 32):
            for label, meetings, one_table in (("tables", ids[:1], False), ("one table", ids[:1], True),
                                               ("own", ids[:threads * PROCESSES], False)):
                r = measure(url, meetings, threads, one_table)
                r.update(threads=threads * PROCESSES, layout=label, load=round(os.getloadavg()[0], 2))
                results.append(r)
                print(f"{threads * PROCESSES:>8} {label:>10} {r['tx_per_s']:>7} {r['p50_ms']:>8} {r['p99_ms']:>8} "
                      f"{r['stamp_share']:>12}", flush=True)
        out = Path(__file__).parent / "results"
        out.mkdir(exist_ok=True)
        (out / "seqlock.json").write_text(json.dumps(results, indent=1))
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
