"""The bare stack of bench/load.py: python-socketio on gevent that only acknowledges and broadcasts.

    python bench/bare_server.py --port 5100 [--interval 0.25]

The same protocol shapes as Kurumaza for what the load uses (connect, snapshot, post_idea, vote,
cast_ballot; idea_posted, tallies and poll_results with seq/prev, tallies coalesced per table
every `--interval` seconds), kept in memory: no database, no sessions, no authorization. A
connection says who it is in its auth: {"pid": int, "table": int}. The server's accepted
sockets set TCP_NODELAY as Kurumaza's do; MEETING_LOOP_STATS enables the same pause monitor.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import collections  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import socketio  # noqa: E402
from gevent import pywsgi  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from meeting import loopstats  # noqa: E402

VALUES = ("agree", "disagree", "pass")


class NoDelayHandler(pywsgi.WSGIHandler):
    def __init__(self, sock, address, server, rfile=None):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().__init__(sock, address, server, rfile)


def build(interval: float):
    sio = socketio.Server(async_mode="gevent", cors_allowed_origins="*")
    state = {"seq": 0}
    last = collections.defaultdict(int)  # stream -> seq of its last broadcast
    who: dict[str, tuple[int, int]] = {}
    ideas: dict[int, dict] = {}
    by_table = collections.defaultdict(list)
    votes: dict[tuple[int, int], str] = {}
    ballots: dict[int, str] = {}
    poll = {"id": 1, "options": ["o1", "o2", "o3", "o4"]}
    dirty: dict[int, set] = {}
    poll_dirty = {"pending": False}

    def broadcast(name, stream, body):
        state["seq"] += 1
        message = {**body, "stream": stream, "seq": state["seq"], "prev": last[stream]}
        last[stream] = state["seq"]
        sio.emit(name, message, to=stream)

    def tally(idea_id):
        return ideas[idea_id]["tally"]

    def results():
        counts = collections.Counter(ballots.values())
        return {"poll_id": 1, "kind": "single", "ballots": len(ballots),
                "rows": [{"id": o, "value": counts.get(o, 0)} for o in poll["options"]]}

    @sio.event
    def connect(sid, environ, auth=None):
        if not isinstance(auth, dict) or not isinstance(auth.get("pid"), int):
            raise socketio.exceptions.ConnectionRefusedError("unauthorized")
        who[sid] = (auth["pid"], auth.get("table", 0))
        sio.enter_room(sid, "meeting:1")
        sio.enter_room(sid, f"table:{who[sid][1]}")

    @sio.event
    def disconnect(sid, *_):
        who.pop(sid, None)

    @sio.on("snapshot")
    def snapshot(sid, data):
        pid, table = who[sid]
        mine = [{**ideas[i], "my_vote": votes.get((pid, i))} for i in by_table[table]]
        streams = {f"table:{table}": last[f"table:{table}"], "meeting:1": last["meeting:1"]}
        return {"ok": True, "snapshot": {"me": {"id": pid}, "table": {"id": table}, "ideas": mine, "streams": streams,
                                         "polls": [{"id": 1, "state": "open", "results": results(),
                                                    "my_ballot": ballots.get(pid)}]}}

    @sio.on("post_idea")
    def post_idea(sid, data):
        pid, table = who[sid]
        idea = {"id": len(ideas) + 1, "table_id": table, "text": data["text"],
                "tally": {"agree": 0, "disagree": 0, "pass": 0}}
        ideas[idea["id"]] = idea
        by_table[table].append(idea["id"])
        broadcast("idea_posted", f"table:{table}", {"idea": idea})
        return {"ok": True, "idea": idea}

    def flush_table(table):
        sio.sleep(interval)
        ids = dirty.pop(table)
        broadcast("tallies", f"table:{table}", {"tallies": {str(i): dict(tally(i)) for i in ids}})

    @sio.on("vote")
    def vote(sid, data):
        pid, table = who[sid]
        idea_id, value = data.get("idea_id"), data.get("value")
        if idea_id not in ideas or value not in VALUES or ideas[idea_id]["table_id"] != table:
            return {"ok": False, "error": "bad_request"}
        old = votes.get((pid, idea_id))
        if old:
            ideas[idea_id]["tally"][old] -= 1
        votes[(pid, idea_id)] = value
        ideas[idea_id]["tally"][value] += 1
        if table not in dirty:
            dirty[table] = set()
            sio.start_background_task(flush_table, table)
        dirty[table].add(idea_id)
        # As Kurumaza does for the benchmark: the first tally above this number counts the vote.
        loopstats.note(str(data.get("op_id")), last[f"table:{table}"])
        return {"ok": True, "idea_id": idea_id, "value": value}

    def flush_poll():
        sio.sleep(interval)
        poll_dirty["pending"] = False
        broadcast("poll_results", "meeting:1", {"poll_id": 1, "results": results()})

    @sio.on("cast_ballot")
    def cast_ballot(sid, data):
        pid, _table = who[sid]
        option = (data.get("ballot") or {}).get("option")
        if option not in poll["options"]:
            return {"ok": False, "error": "bad_request"}
        ballots[pid] = option
        if not poll_dirty["pending"]:
            poll_dirty["pending"] = True
            sio.start_background_task(flush_poll)
        return {"ok": True, "poll_id": 1, "ballot": {"option": option}}

    return sio


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5100)
    ap.add_argument("--interval", type=float, default=0.25)
    args = ap.parse_args(argv)
    app = socketio.WSGIApp(build(args.interval))
    loopstats.start()
    print(f"bare server on {args.port}", flush=True)
    pywsgi.WSGIServer((args.host, args.port), app, handler_class=NoDelayHandler, log=None).serve_forever()


if __name__ == "__main__":
    main()
