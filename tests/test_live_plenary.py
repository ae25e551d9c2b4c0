"""The plenary on a real server (gevent, real python-socketio clients): marking ideas for the
plenary and every report-out timer action reach every affected phone and the projector within a
second and are in the audit log; a revoked projector link is refused and its socket closed."""

import json
import sqlite3

import pytest
import requests

from tests.live import LiveServer, Phone, close_all, join_over_http, staff_login

pytestmark = pytest.mark.live

WITHIN = 15.0  # seconds: a bound for a slow machine, not the promise (bench/ measures latency)


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    """8 residents at 4 tables, all joined, a host at the first table, the control room and a projector."""
    folder = tmp_path_factory.mktemp("live-plenary")
    server = LiveServer(folder, extra_env={"MEETING_POLL_CLOCK_INTERVAL": "0.1"}).start()
    demo = server.demo(participants=8, tables=4)
    phones = [Phone(server, join_over_http(p["join_url"], f"区民{i}")) for i, p in enumerate(demo["participants"])]
    control = Phone(server, staff_login(server, demo["facilitator"]["email"], demo["facilitator"]["password"]),
                    auth={"meeting_id": demo["meeting_id"]})
    snaps = [p.call("snapshot", {})["snapshot"] for p in phones]
    host = 0
    assert control.call("set_host", {"table_id": snaps[host]["table"]["id"], "participant_id": snaps[host]["me"]["id"]})["ok"]
    created = control.call("projector_create", {})
    assert created["ok"], created
    projector = Phone(server, requests.Session(), auth={"projector": created["url"].rsplit("/", 1)[1]})
    screen = projector.call("snapshot", {})
    assert screen["ok"], screen
    yield {"server": server, "phones": phones, "snaps": snaps, "control": control, "host": phones[host],
           "projector": projector, "link": created, "screen": screen["snapshot"], "db": folder / "live.sqlite3"}
    close_all(phones + [control, projector])
    server.stop()


def audit(hall, action: str) -> list[tuple]:
    with sqlite3.connect(hall["db"]) as conn:
        return conn.execute("SELECT action, staff_id, target, detail FROM audit_events WHERE action = ?",
                            (action,)).fetchall()


def arrives(phone: Phone, name: str, predicate=lambda m: True) -> dict:
    found = []
    assert phone.wait_for(lambda: found.extend(m for m in phone.named(name) if predicate(m)) or found,
                          timeout=WITHIN), f"no {name} within {WITHIN}s"
    return found[-1]


def at_table(hall, table_id: int) -> list[Phone]:
    return [p for p, s in zip(hall["phones"], hall["snaps"], strict=True) if s["table"]["id"] == table_id]


def no_participant_identifier(message: dict, hall) -> None:
    text = repr(message)
    for snap in hall["snaps"]:
        assert snap["me"]["nickname"] not in text
    assert "participant" not in text and "nickname" not in text


def test_the_projector_shows_no_participant_identifier(hall):
    screen = hall["screen"]
    assert set(screen) >= {"agenda", "reports", "plenary", "poll", "streams"}
    no_participant_identifier(screen, hall)


def test_host_marks_and_unmarks_and_every_phone_of_the_table_the_control_room_and_the_projector_follow(hall):
    host, control, projector = hall["host"], hall["control"], hall["projector"]
    table = hall["snaps"][0]["table"]["id"]
    idea = host.call("post_idea", {"text": "駅前に子ども向けの図書スペースを作る"})["idea"]
    marked = host.call("plenary_mark_host", {"idea_id": idea["id"], "plenary": True})
    assert marked["ok"], marked
    for phone in at_table(hall, table):
        arrives(phone, "plenary_marked", lambda m: m["idea_id"] == idea["id"] and m["plenary"])
    arrives(control, "plenary_marked", lambda m: m["idea_id"] == idea["id"])
    arrives(control, "plenary_changed", lambda m: [i["id"] for i in m["plenary"]["ideas"]] == [idea["id"]])
    shown = arrives(projector, "plenary_changed", lambda m: idea["id"] in [i["id"] for i in m["plenary"]["ideas"]])
    assert shown["plenary"]["ideas"][0]["table"] == hall["snaps"][0]["table"]["name"]
    no_participant_identifier(shown, hall)
    # A resident who is not the host cannot mark; the facilitator can, at any table.
    other = next(p for p in at_table(hall, table) if p is not host)
    assert other.call("plenary_mark_host", {"idea_id": idea["id"], "plenary": False})["error"] == "forbidden"
    assert host.call("plenary_mark_host", {"idea_id": idea["id"], "plenary": False})["ok"]
    for phone in at_table(hall, table):
        arrives(phone, "plenary_marked", lambda m: m["idea_id"] == idea["id"] and not m["plenary"])
    arrives(projector, "plenary_changed", lambda m: idea["id"] not in [i["id"] for i in m["plenary"]["ideas"]])
    assert control.call("plenary_mark", {"idea_id": idea["id"], "plenary": True})["ok"]
    arrives(projector, "plenary_changed", lambda m: idea["id"] in [i["id"] for i in m["plenary"]["ideas"]])
    assert json.loads(audit(hall, "plenary.mark")[0][3])["by"].startswith("participant:")
    assert len(audit(hall, "plenary.unmark")) == 1
    assert audit(hall, "plenary.mark")[1][1] is not None  # the facilitator's own mark names them


def test_a_hidden_idea_leaves_the_plenary_list_on_the_projector(hall):
    control, projector, snap = hall["control"], hall["projector"], hall["snaps"][2]
    idea = hall["phones"][2].call("post_idea", {"text": "公園のトイレを増やす"})["idea"]
    assert control.call("plenary_mark", {"idea_id": idea["id"], "plenary": True})["ok"]
    arrives(projector, "plenary_changed", lambda m: idea["id"] in [i["id"] for i in m["plenary"]["ideas"]])
    assert control.call("hide_idea", {"idea_id": idea["id"], "reason": "重複"})["ok"]
    arrives(projector, "plenary_changed", lambda m: idea["id"] not in [i["id"] for i in m["plenary"]["ideas"]])
    assert snap["table"]["id"] == idea["table_id"]


def state_of(message: dict) -> tuple:
    current = message["reports"]["current"]
    return (current["table_id"], current["state"]) if current else None


def test_each_report_out_timer_action_reaches_every_phone_and_the_projector(hall):
    control, projector, phones = hall["control"], hall["projector"], hall["phones"]
    tables = sorted({s["table"]["id"] for s in hall["snaps"]})
    assert control.call("report_settings", {"speak_s": 120, "questions_s": 60})["ok"]
    queued = control.call("report_queue", {"table_ids": tables[:3]})
    assert queued["ok"], queued
    assert [r["table_id"] for r in queued["reports"]["queue"]] == tables[:3]
    steps = [("report_start", {}, (tables[0], "running")), ("report_pause", {}, (tables[0], "paused")),
             ("report_resume", {}, (tables[0], "running")), ("report_next", {}, (tables[1], "running"))]
    for event, payload, expected in steps:
        ack = control.call(event, payload)
        assert ack["ok"], (event, ack)
        for client in phones + [projector, control]:
            got = arrives(client, "report_changed", lambda m, e=expected: state_of(m) == e)
        no_participant_identifier(got, hall)
    running = got["reports"]["current"]
    assert running["phase"] == "speaking" and 170 < running["remaining_s"] <= 180
    skipped = control.call("report_skip", {"report_id": queued["reports"]["queue"][2]["id"]})
    assert skipped["ok"], skipped
    for client in phones + [projector]:
        arrives(client, "report_changed", lambda m: len(m["reports"]["queue"]) == 3 and m["reports"]["queue"][2]["skipped"])
    for action in ("report.queue", "report.start", "report.pause", "report.resume", "report.skip", "report.settings"):
        assert audit(hall, action), action


def test_a_report_out_ends_by_itself_when_its_time_is_up(hall):
    control, projector = hall["control"], hall["projector"]
    tables = sorted({s["table"]["id"] for s in hall["snaps"]})
    assert control.call("report_settings", {"speak_s": 1, "questions_s": 0})["ok"]
    assert control.call("report_queue", {"table_ids": [tables[3]]})["ok"]
    assert control.call("report_start", {})["ok"]
    for client in hall["phones"] + [projector]:
        assert client.wait_for(lambda c=client: any(state_of(m) == (tables[3], "done") for m in c.named("report_changed")),
                               timeout=5)
    assert audit(hall, "report.timeout")


def test_a_merge_in_the_moderation_refreshes_the_plenary_list_with_its_sources(hall):
    control, projector, phones, snaps = hall["control"], hall["projector"], hall["phones"], hall["snaps"]
    first = next(i for i, s in enumerate(snaps) if s["table"]["id"] != snaps[0]["table"]["id"])
    a = phones[0].call("post_idea", {"text": "図書館の開館時間を夜まで延ばす"})["idea"]
    b = phones[first].call("post_idea", {"text": "図書館の開館時間を夜まで延ばしてほしい"})["idea"]
    for idea in (a, b):
        assert control.call("plenary_mark", {"idea_id": idea["id"], "plenary": True})["ok"]
    # Proposed for a one-click merge: the two tables' ideas fall in one near-duplicate group.
    arrives(control, "plenary_changed", lambda m: any({a["id"], b["id"]} <= set(g) for g in m["plenary"]["groups"]))
    merged = control.call("idea_merge", {"target_id": a["id"], "source_ids": [b["id"]]})
    assert merged["ok"], merged

    def merged_view(m):
        listed = {i["id"]: i for i in m["plenary"]["ideas"]}
        return a["id"] in listed and b["id"] not in listed and [s["id"] for s in listed[a["id"]]["sources"]] == [b["id"]]

    shown = arrives(projector, "plenary_changed", merged_view)
    target = next(i for i in shown["plenary"]["ideas"] if i["id"] == a["id"])
    assert target["sources"][0]["table"] == snaps[first]["table"]["name"]
    assert sorted(target["table_ids"]) == sorted({a["table_id"], b["table_id"]})
    arrives(control, "plenary_changed", merged_view)


def test_a_revoked_projector_link_is_refused_and_its_socket_closed(hall):
    server, control = hall["server"], hall["control"]
    created = control.call("projector_create", {})
    url = created["url"]
    assert requests.get(url, timeout=10).status_code == 200
    second = Phone(server, requests.Session(), auth={"projector": url.rsplit("/", 1)[1]})
    try:
        assert control.call("projector_revoke", {"link_id": created["link"]["id"]})["ok"]
        assert second.wait_for(lambda: not second.client.connected, timeout=WITHIN), "socket still open"
        # Every projector socket of the meeting closes; one whose link still holds connects again.
        hall["projector"].wait_for(lambda: not hall["projector"].client.connected, timeout=WITHIN)
        again = Phone(server, requests.Session(), auth={"projector": hall["link"]["url"].rsplit("/", 1)[1]})
        assert again.call("snapshot", {})["ok"]
        again.close()
        page = requests.get(url, timeout=10)
        assert page.status_code == 404 and 'role="alert"' in page.text and "data-token" not in page.text
        with pytest.raises(Exception):
            Phone(server, requests.Session(), auth={"projector": url.rsplit("/", 1)[1]})
        assert audit(hall, "projector.revoke")[0][2] == f"device:{created['link']['id']}"
    finally:
        second.close()
