"""A plenary poll on a real server process (gevent) with 200 real python-socketio clients."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.live import LiveServer, Phone, join_over_http, staff_login

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
        assert all(a["ok"] and a["receipt"] for a in acks), [a for a in acks if not a["ok"]][:3]
        expected = {f"o{k + 1}": sum(1 for c in choice.values() if c == f"o{k + 1}") for k in range(len(OPTIONS))}

        def final_seen(phone):
            results = [m["results"] for m in phone.named("poll_results") if m["poll_id"] == poll_id]
            return bool(results) and counts(results[-1]) == expected

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
            seqs = [data["seq"] for _, data in phone.received]
            assert seqs == sorted(seqs)
    finally:
        with ThreadPoolExecutor(max_workers=20) as pool:
            list(pool.map(lambda ph: ph.close(), phones))
        staff.close()
