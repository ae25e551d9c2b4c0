"""Soak: hundreds of phones vote for minutes while the server is killed (-9) again and again.

    make soak                      # 10 minutes, 300 participants, a kill every 2 minutes
    .venv/bin/python bench/soak.py --minutes 2 --participants 50 --kill-every 30

One real server process (gevent, SQLite, as `make run`), restarted on the same port and
database after each kill; real python-socketio clients that behave as static/js/realtime.js
(resend unacknowledged operations with the same op_id after reconnecting). At the end the
tallies and every stored vote and ballot must equal what the phones were told was accepted,
and every phone's view must equal a fresh snapshot. Loopback only; prints the numbers and
exits 1 if anything differs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.live import LiveServer, VotingFloor  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--participants", type=int, default=300)
    ap.add_argument("--tables", type=int, default=30)
    ap.add_argument("--kill-every", type=float, default=120.0, help="seconds between kill -9 of the server")
    ap.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"),
                    help="seconds a phone waits between two votes")
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = ap.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="kurumaza-soak-"))
    # The production tally interval (the tests' 0.1 s would multiply the broadcasts).
    server = LiveServer(folder, extra_env={"MEETING_TALLY_INTERVAL": "0.25"}).start()
    started = time.monotonic()
    floor = None
    numbers: dict = {"participants": args.participants, "tables": args.tables, "minutes": args.minutes,
                     "kill_every_s": args.kill_every, "folder": str(folder)}
    try:
        # Phones never give up on an answer, as the browser does not (patience: 20 minutes).
        floor = VotingFloor([server], participants=args.participants, tables=args.tables, patience=1200)
        numbers["setup_s"] = round(time.monotonic() - started, 1)
        print(f"{args.participants} phones connected in {numbers['setup_s']} s; voting for {args.minutes} min",
              flush=True)
        stop = threading.Event()
        threads, errors = floor.vote(stop=stop, pause=tuple(args.think))
        begin = time.monotonic()
        end = begin + args.minutes * 60
        kills = []
        next_kill = begin + args.kill_every
        while time.monotonic() < end:
            time.sleep(min(1.0, max(0.0, min(next_kill, end) - time.monotonic())))
            if time.monotonic() >= next_kill and time.monotonic() < end:
                acks, t0 = floor.acks, time.monotonic()
                server.kill()
                server.restart()
                back = time.monotonic() - t0
                # Until every phone has reconnected and has an answer again.
                while (sum(p.generation for p in floor.phones) < len(floor.phones) * (len(kills) + 2)
                       and time.monotonic() < t0 + 60):
                    time.sleep(0.1)
                kills.append({"at_s": round(t0 - begin, 1), "acks_before": acks, "restart_s": round(back, 2),
                              "all_reconnected_s": round(time.monotonic() - t0, 2)})
                print(f"  kill {len(kills)} at {kills[-1]['at_s']} s: server back in {back:.1f} s, "
                      f"all phones back in {kills[-1]['all_reconnected_s']} s ({floor.acks} acks so far)",
                      flush=True)
                next_kill += args.kill_every
        stop.set()
        for thread in threads:  # each phone finishes the operation it is waiting for
            thread.join(1200)
        voting_s = time.monotonic() - begin
        totals = {k: sum(p.stats[k] for p in floor.phones) for k in floor.phones[0].stats}
        problems = floor.check(server.env["DATABASE_URL"])
        tallies, options = floor.expected_counts()
        numbers.update({
            "voting_s": round(voting_s, 1), "acks": floor.acks, "acks_per_s": round(floor.acks / voting_s, 1),
            "refused": len(floor.refused), "stuck_phones": sum(t.is_alive() for t in threads),
            "client_errors": errors[:5], "kills": kills, **totals,
            "final_votes": sum(len(p.mine["votes"]) for p in floor.phones),
            "final_ballots": sum(len(p.mine["ballots"]) for p in floor.phones),
            "poll_counts": options, "problems": problems,
        })
    finally:
        if floor:
            floor.close()
        server.stop()
    ok = not numbers.get("problems") and not numbers.get("client_errors") and not numbers.get("stuck_phones") \
        and "acks" in numbers
    if args.json:
        print(json.dumps(numbers, ensure_ascii=False, indent=2))
    else:
        for key, value in numbers.items():
            if key != "kills":
                print(f"{key:>22}: {value}")
    print("SOAK PASSED: final tallies equal the acknowledged ballots" if ok else "SOAK FAILED", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
