"""A plenary poll on a real server process (gevent) with 200 real python-socketio clients."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.live import LiveServer, Phone, join_over_http, serving, staff_login

pytestmark = pytest.mark.live

PHONES = 200
OPTIONS = ["公園", "図書館", "バス", "広場"]
INTERVAL = 0.1  # MEETING_TALLY_INTERVAL of LiveServer


@pytest.fixture
def server(tmp_path):
    live = LiveServer(tmp_path)
    live.start()
    yield live
    live.stop()


def counts(results):
    return {row["id"]: row["value"] for row in results["rows"]}


def test_two_hundred_phones_vote_at_once_in_one_plenary_poll(server):
    demo = server.demo(participants=PHONES, tables=20)
    facilitator = demo["facilitator"]
    staff = Phone(server, staff_login(server, facilitator["email"], facilitator["password"]),
                  auth={"meeting_id": demo["meeting_id"]})
    with ThreadPoolExecutor(max_workers=20) as pool:
        sessions = list(pool.map(lambda p: join_over_http(p["join_url"], f"p{p['number']}"), demo["participants"]))
        phones = list(pool.map(lambda http: Phone(server, http), sessions))
    try:
        created = staff.call("create_poll", {"kind": "single", "question": "どこに予算を使いますか",
                                             "options": OPTIONS, "visibility": "live"})
        assert created["ok"], created
        poll_id = created["poll"]["id"]
        assert staff.call("open_poll", {"poll_id": poll_id})["ok"]
        assert all(phone.wait_for(lambda ph=phone: ph.named("poll_opened"), 10) for phone in phones)

        choice = {i: f"o{i % len(OPTIONS) + 1}" for i in range(PHONES)}
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=50) as pool:
            acks = list(pool.map(lambda i: phones[i].call("cast_ballot", {"poll_id": poll_id,
                                                                          "ballot": {"option": choice[i]}}),
                                 range(PHONES)))
        assert all(a["ok"] and a["ballot"] == {"option": choice[i]} and "receipt" not in a
                   for i, a in enumerate(acks)), [a for a in acks if not a["ok"]][:3]
        expected = {f"o{k + 1}": sum(1 for c in choice.values() if c == f"o{k + 1}") for k in range(len(OPTIONS))}

        def final_seen(phone):
            # The newest tally is the one with the highest seq, as the browser client keeps it.
            results = sorted((m["seq"], m["results"]) for m in phone.named("poll_results") if m["poll_id"] == poll_id)
            return bool(results) and counts(results[-1][1]) == expected

        assert all(phone.wait_for(lambda ph=phone: final_seen(ph), 20) for phone in phones + [staff])
        duration = time.monotonic() - started
        # Coalesced: each phone gets at most one tally per interval (plus a few at the edges),
        # however many of the 200 ballots arrived meanwhile.
        bound = duration / INTERVAL + 3
        most = max(len(phone.named("poll_results")) for phone in phones)
        assert most <= bound, (most, duration)
        assert most < PHONES

        closed = staff.call("close_poll", {"poll_id": poll_id})
        assert closed["ok"]
        for phone in phones:
            assert phone.wait_for(lambda ph=phone: ph.named("poll_closed"), 10)
            final = phone.named("poll_closed")[-1]["results"]
            assert final["ballots"] == PHONES and counts(final) == expected
            # Streams are numbered apart (docs/protocol.md): each arrives whole and nothing twice.
            # This client runs each message's handler in a thread of its own (python-engineio), so
            # `received` is not in the wire's order; a phone keeps the tally with the highest seq
            # (the browser applies a stream in seq order: tests/test_browser_realtime.py), and that
            # one must be the final count.
            streams = {}
            for name, data in phone.received:
                streams.setdefault(data["stream"], []).append((data["seq"], name, data))
            for stream, seen in streams.items():
                seqs = sorted(seq for seq, _, _ in seen)
                assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), (stream, seqs)
                tallies = [(seq, data) for seq, name, data in seen if name == "poll_results"]
                if tallies:
                    kept = max(tallies, key=lambda t: t[0])[1]["results"]
                    assert kept["ballots"] == PHONES and counts(kept) == expected, (stream, kept)
    finally:
        with ThreadPoolExecutor(max_workers=20) as pool:
            list(pool.map(lambda ph: ph.close(), phones))
        staff.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_server(request, tmp_path):
    with serving(request.param, tmp_path, extra_env={"MEETING_POLL_CLOCK_INTERVAL": "0.2"}) as live:
        yield live


def test_secret_table_poll_closes_on_time_and_receipts_verify(any_server):
    demo = any_server.demo(participants=4, tables=2)
    facilitator = demo["facilitator"]
    staff = Phone(any_server, staff_login(any_server, facilitator["email"], facilitator["password"]),
                  auth={"meeting_id": demo["meeting_id"]})
    phones = [Phone(any_server, join_over_http(p["join_url"], f"p{p['number']}")) for p in demo["participants"]]
    try:
        snapshots = [phone.call("snapshot", {})["snapshot"] for phone in phones]
        table_id = snapshots[0]["table"]["id"]
        created = staff.call("create_poll", {"kind": "approval", "question": "秘密の投票", "options": ["A", "B", "C"],
                                             "table_id": table_id, "secret": True, "visibility": "after_close",
                                             "rules": {"duration": 6}})
        poll_id = created["poll"]["id"]
        assert staff.call("open_poll", {"poll_id": poll_id})["ok"]
        receipts = []
        for phone, snap in zip(phones, snapshots):
            ack = phone.call("cast_ballot", {"poll_id": poll_id, "ballot": {"options": ["o1", "o2"]}})
            if snap["table"]["id"] == table_id:
                assert ack["ok"], ack
                again = phone.call("cast_ballot", {"poll_id": poll_id, "ballot": {"options": ["o2"]}})
                receipts.append(again["receipt"])
            else:
                assert ack["error"] == "not_found"
        assert staff.wait_for(lambda: staff.named("poll_closed"), 30)  # closed by the server's clock
        results = staff.named("poll_closed")[-1]["results"]
        assert {r["id"]: r["value"] for r in results["rows"]} == {"o1": 0, "o2": len(receipts), "o3": 0}
        for receipt in receipts:
            check = phones[0].call("check_receipt", {"receipt": receipt})
            assert check["ok"] and check["ballot"] == {"options": ["o2"]}
        snap = staff.call("snapshot", {})["snapshot"]
        assert [p["state"] for p in snap["polls"]] == ["closed"]
    finally:
        for phone in phones:
            phone.close()
        staff.close()
