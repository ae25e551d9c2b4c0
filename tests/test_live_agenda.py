"""The Setagaya day on a real server: 100 residents, 20 tables, a balanced first seating, three
timed World Café rounds with hosts staying, then the plenary: hosts mark their tables' ideas, the
report-outs run in order on the projector, and a plenary poll over the list runs to its result
(real python-socketio clients)."""

import itertools
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.live import Phone, close_all, join_over_http, serving, staff_login

pytestmark = pytest.mark.live


def each(function, items):
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(function, items))


def pairs(assignment: dict[int, int]) -> set[frozenset]:
    tables: dict[int, list[int]] = {}
    for person, table in assignment.items():
        tables.setdefault(table, []).append(person)
    return {frozenset(p) for members in tables.values() for p in itertools.combinations(members, 2)}


def test_the_setagaya_day(tmp_path):
    with serving("sqlite", tmp_path, extra_env={"MEETING_POLL_CLOCK_INTERVAL": "0.2"}) as server:
        demo = server.demo(participants=100, tables=20)
        meeting_id = demo["meeting_id"]
        phones = each(lambda p: Phone(server, join_over_http(p[1]["join_url"], f"区民{p[0]}")),
                      list(enumerate(demo["participants"])))
        http = staff_login(server, demo["facilitator"]["email"], demo["facilitator"]["password"])
        control = Phone(server, http, auth={"meeting_id": meeting_id})
        try:
            snaps = each(lambda phone: phone.call("snapshot", {})["snapshot"], phones)
            me = {id(phone): snap["me"]["id"] for phone, snap in zip(phones, snaps, strict=True)}
            sids = [phone.client.sid for phone in phones]
            staff_snap = control.call("snapshot", {})["snapshot"]
            steps = staff_snap["agenda"]["agenda"]
            assert [s["kind"] for s in steps] == ["table", "table", "table", "plenary"]
            for step in steps:  # short timed rounds
                assert control.call("agenda_edit", {"step_id": step["id"], "duration_s": 2})["ok"]

            # A balanced first seating over 20 tables, previewed, then applied.
            plan = control.call("seating_preview", {"mode": "first"})
            assert plan["ok"], plan
            plan = plan["plan"]
            assert plan["people"] == 100 and plan["max_deviation"] <= 1
            assert sorted(t["size"] for t in plan["tables"]) == [5] * 20
            assert control.call("seating_apply", {"step_id": plan["step_id"], "assignment": plan["assignment"]})["ok"]
            assignment = {int(p): t for p, t in plan["assignment"].items()}
            hosts = {}
            for table in plan["tables"]:
                host = table["members"][0]["id"]
                assert control.call("set_host", {"table_id": table["table_id"], "participant_id": host})["ok"]
                hosts[host] = table["table_id"]
            seatings = []
            posted: dict[int, list[tuple[int, int, int]]] = {}  # table -> (idea, author, round)

            for number, step in enumerate(steps[:3], start=1):
                if number > 1:
                    rotation = control.call("seating_preview", {"mode": "rotate"})
                    assert rotation["ok"], rotation
                    rotation = rotation["plan"]
                    assert rotation["step_id"] == step["id"]
                    assert rotation["repeats"] == rotation["repeat_lower_bound"] == 0
                    assert rotation["max_deviation"] <= 1
                    assignment = {int(p): t for p, t in rotation["assignment"].items()}
                    for host, table in hosts.items():
                        assert assignment[host] == table  # hosts stayed
                    assert all(assignment[p] != seatings[-1][p] for p in assignment if p not in hosts)
                    assert control.call("seating_apply", {"step_id": step["id"],
                                                          "assignment": rotation["assignment"]})["ok"]
                # Every phone follows its seat without reconnecting.
                tables = each(lambda phone: phone.call("snapshot", {})["snapshot"]["table"]["id"], phones)
                assert tables == [assignment[me[id(phone)]] for phone in phones]
                seatings.append(assignment)
                def work(phone, number=number, step=step):
                    person = me[id(phone)]
                    table = assignment[person]
                    if number > 1:
                        # A newcomer's vote on an earlier round's idea at this table counts.
                        earlier = [i for i, author, rnd in posted.get(table, []) if author != person and rnd != step["id"]]
                        assert earlier, (person, table)
                        assert phone.call("vote", {"idea_id": earlier[0], "value": "agree"})["ok"]
                    ack = phone.call("post_idea", {"text": f"第{number}ラウンドの意見（{person}）"})
                    return ack

                # The round's work (under the heavy load of a shared test machine it may take longer than
                # a short timer, so it is done while the round's seating is in force, before its clock runs).
                acks = each(work, phones)
                assert all(a["ok"] for a in acks), [a for a in acks if not a["ok"]][:3]
                for phone, ack in zip(phones, acks, strict=True):
                    if ack["ok"]:
                        posted.setdefault(ack["idea"]["table_id"], []).append((ack["idea"]["id"], me[id(phone)], step["id"]))
                for phone in phones:
                    phone.received.clear()
                started = control.call("step_start", {"step_id": step["id"]})
                assert started["ok"], started
                for phone in phones:
                    assert phone.wait_for(lambda p=phone: any(m["step"] and m["step"]["state"] == "running"
                                                              for m in p.named("round_changed")), 10)
                ends = {m["step"]["ends_at"] for phone in phones for m in phone.named("round_changed")
                        if m["step"]["state"] == "running"}
                assert len(ends) == 1, ends  # every phone got the same end time

                # The round ends by itself; posting is then refused.
                for phone in phones:
                    assert phone.wait_for(lambda p=phone: any(m["step"] and m["step"]["id"] == step["id"]
                                                              and m["step"]["state"] == "done"
                                                              for m in p.named("round_changed")), 15)
                refused = phones[0].call("post_idea", {"text": "時間切れの後"})
                assert refused["ok"] is False and refused["error"] == "round_closed"

            # No avoidable repeat encounter over the three rounds, and the tallies count newcomers' votes.
            met = [pairs(s) for s in seatings]
            assert not (met[0] & met[1]) and not (met[0] & met[2]) and not (met[1] & met[2])
            assert [phone.client.sid for phone in phones] == sids  # nobody reconnected
            final = control.call("snapshot", {})["snapshot"]
            first_round_ideas = [i for t in final["tables"] for i in t["ideas"] if i["round_id"] == steps[0]["id"]]
            assert first_round_ideas and sum(i["tally"]["agree"] for i in first_round_ideas) >= 1
            assert control.call("step_next", {})["step"]["kind"] == "plenary"
            the_plenary(server, control, phones, me, hosts, posted, final)
        finally:
            close_all(phones + [control])


def the_plenary(server, control, phones, me, hosts, posted, final):
    """Hosts bring one idea of their table each; the report-outs follow the queue on the projector;
    everyone votes on the plenary list."""
    link = control.call("projector_create", {})
    assert link["ok"], link
    projector = Phone(server, requests.Session(), auth={"projector": link["url"].rsplit("/", 1)[1]})
    try:
        assert projector.call("snapshot", {})["ok"]
        by_person = {me[id(phone)]: phone for phone in phones}
        marked = []
        for host, table in hosts.items():
            idea = posted[table][0][0]
            ack = by_person[host].call("plenary_mark_host", {"idea_id": idea, "plenary": True})
            assert ack["ok"], ack
            marked.append(idea)
        extra = posted[final["tables"][0]["id"]][1][0]  # the facilitator brings one more
        assert control.call("plenary_mark", {"idea_id": extra, "plenary": True})["ok"]
        marked.append(extra)
        listed = control.call("snapshot", {})["snapshot"]["plenary"]["ideas"]
        assert sorted(i["id"] for i in listed) == sorted(marked)  # every marked idea, each once
        assert projector.wait_for(lambda: any(sorted(i["id"] for i in m["plenary"]["ideas"]) == sorted(marked)
                                              for m in projector.named("plenary_changed")), 5)

        # The report-outs: every table that brings an idea, in table order, followed by the projector.
        queue = control.call("report_queue", {})
        assert queue["ok"], queue
        order = [t["id"] for t in final["tables"]]
        assert [r["table_id"] for r in queue["reports"]["queue"]] == order
        for table in order:
            assert control.call("report_next", {})["ok"]
            assert projector.wait_for(lambda t=table: any(
                m["reports"]["current"] and m["reports"]["current"]["table_id"] == t
                and m["reports"]["current"]["state"] == "running" for m in projector.named("report_changed")), 5)
        assert control.call("report_skip", {"report_id": queue["reports"]["queue"][-1]["id"]})["ok"]
        shown = [m["reports"]["current"]["table_id"] for m in projector.named("report_changed")
                 if m["reports"]["current"] and m["reports"]["current"]["state"] == "running"]
        assert list(dict.fromkeys(shown)) == order  # in queue order, none left out

        # A plenary poll over the list runs to its result, live on the projector.
        poll = control.call("plenary_poll", {"kind": "approval", "question": "区がまず取り組むべき意見は",
                                             "rules": {"max_approvals": 3}, "open": True})
        assert poll["ok"], poll
        poll = poll["poll"]
        assert [o["label"] for o in poll["options"]] == [i["text"] for i in listed]
        chosen = {id(phone): [poll["options"][n % len(poll["options"])]["id"]] for n, phone in enumerate(phones)}
        acks = each(lambda phone: phone.call("cast_ballot", {"poll_id": poll["id"], "ballot": {"options": chosen[id(phone)]}}),
                    phones)
        assert all(a["ok"] for a in acks), [a for a in acks if not a["ok"]][:3]
        assert projector.wait_for(lambda: any(m["poll_id"] == poll["id"] and m["results"]["ballots"] == len(phones)
                                              for m in projector.named("poll_results")), 5)
        assert control.call("close_poll", {"poll_id": poll["id"]})["ok"]
        assert projector.wait_for(lambda: projector.named("poll_closed"), 5)
        result = projector.named("poll_closed")[-1]["results"]
        expected = {o["id"]: sum(1 for c in chosen.values() if o["id"] in c) for o in poll["options"]}
        assert {r["id"]: r["value"] for r in result["rows"]} == expected and result["ballots"] == len(phones)
        assert result["winners"] == [o for o, n in expected.items() if n == max(expected.values())]
    finally:
        projector.close()
