"""Merging duplicates (votes carried over without double counting, undone exactly), pre-moderation,
and proxy entry, over Socket.IO (in-process clients): what each phone and the control room get."""

import time

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import AuditEvent, Vote
from tests.conftest import build_meeting, staff_socket
from tests.test_agenda import actions, call, snapshot

_kept: dict[int, list] = {}


def wait_for(sock, name, predicate=lambda message: True, timeout=5.0):
    """The first `name` broadcast matching `predicate`; unlike draining the queue, events not
    matched are kept for later waits (one client gets several events from one action)."""
    deadline = time.monotonic() + timeout
    kept = _kept.setdefault(id(sock), [])
    while True:
        kept += sock.get_received()
        for index, event in enumerate(kept):
            if event["name"] == name and predicate(event["args"][0]):
                return kept.pop(index)["args"][0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no {name} broadcast")
        time.sleep(0.02)


def received(sock, name) -> list[dict]:
    """Every `name` broadcast this client has had so far (kept ones included)."""
    kept = _kept.setdefault(id(sock), [])
    kept += sock.get_received()
    return [e["args"][0] for e in kept if e["name"] == name]


def _by_table(cards):
    tables: dict[int, list] = {}
    for card in cards:
        tables.setdefault(card["table_id"], []).append(card)
    return [tables[t] for t in sorted(tables)]


def test_merge_counts_each_voter_once_with_their_latest_vote_and_unmerge_restores_it(
        app, staff_auth, participant_socket):
    meeting_id, cards = build_meeting(app, participants=4, tables=2)
    (a1, a2), (b1, b2) = _by_table(cards)
    p1, p2 = participant_socket(a1["token"], "さくら"), participant_socket(a2["token"], "もみじ")
    p3, p4 = participant_socket(b1["token"], "かえで"), participant_socket(b2["token"], "すみれ")
    control = staff_socket(app, staff_auth, meeting_id)
    for sock in (p1, p2, p3, p4, control):
        snapshot(sock)  # as every client does on connecting: it joins the client's streams
    i1 = call(p1, "post_idea", text="公園にベンチを増やしてほしい")["idea"]["id"]
    i2 = call(p2, "post_idea", text="公園のベンチをもっと増やして")["idea"]["id"]
    i3 = call(p3, "post_idea", text="ベンチを公園に増やす")["idea"]["id"]
    for sock, idea, value in ((p1, i1, "agree"), (p2, i1, "agree"), (p1, i2, "disagree"),
                              (p3, i3, "agree"), (p4, i3, "disagree")):
        assert call(sock, "vote", idea_id=idea, value=value)["ok"]
    assert call(p3, "vote", idea_id=i1, value="agree")["error"] == "not_found"  # not shown at table B yet

    merged = call(control, "idea_merge", target_id=i1, source_ids=[i2, i3])
    assert merged["ok"], merged
    # p1 agreed on i1, then disagreed on i2: counted once, disagree. p2 agree; p3 agree; p4 disagree.
    assert merged["idea"]["tally"] == {"agree": 2, "disagree": 2, "pass": 0}
    assert [(s["id"], s["table"]) for s in merged["idea"]["sources"]] == [(i2, "1"), (i3, "2")]
    # Table B's phones: i3 goes, the merged idea comes in its place with its sources.
    assert wait_for(p4, "idea_hidden", lambda m: m["idea_id"] == i3)["merged_into_id"] == i1
    shown = wait_for(p4, "idea_posted", lambda m: m["idea"]["id"] == i1)["idea"]
    assert shown["tally"] == {"agree": 2, "disagree": 2, "pass": 0} and len(shown["sources"]) == 2
    # Each voter learns their own carried-over vote; the authors learn their idea was merged.
    assert wait_for(p1, "my_votes")["votes"] == {str(i1): "disagree"}
    assert wait_for(p4, "my_votes")["votes"] == {str(i1): "disagree"}
    assert wait_for(p2, "idea_moderated", lambda m: m["idea_id"] == i2)["what"] == "merged"
    assert [i["id"] for i in snapshot(p4)["ideas"]] == [i1]
    assert {i["id"]: i["my_vote"] for i in snapshot(p1)["ideas"]} == {i1: "disagree"}
    assert call(p4, "vote", idea_id=i3, value="pass")["error"] == "idea_merged"

    # p3, at table B, changes their mind on the merged idea: still one vote, the latest.
    assert call(p3, "vote", idea_id=i1, value="pass")["ok"]
    tallies = wait_for(p3, "tallies", lambda m: m["tallies"].get(str(i1), {}).get("pass") == 1)["tallies"]
    assert tallies[str(i1)] == {"agree": 1, "disagree": 2, "pass": 1}
    assert wait_for(control, "tallies", lambda m: m["tallies"].get(str(i1), {}).get("pass") == 1)

    undone = call(control, "idea_unmerge", idea_id=i3)
    assert undone["ok"], undone
    assert undone["idea"]["tally"] == {"agree": 1, "disagree": 1, "pass": 0}  # i3's own: p3 agree, p4 disagree
    # i1 keeps i2: p1 disagree (latest), p2 agree; p3's direct vote on i1 stays: pass.
    staff_view = wait_for(control, "idea_updated", lambda m: m["idea"]["id"] == i1 and len(m["idea"]["sources"]) == 1)
    assert staff_view["idea"]["tally"] == {"agree": 1, "disagree": 1, "pass": 1}
    assert wait_for(p4, "idea_posted", lambda m: m["idea"]["id"] == i3)["idea"]["merged_into_id"] is None
    assert wait_for(p4, "idea_hidden", lambda m: m["idea_id"] == i1)  # table B no longer shows i1
    assert sorted(i["id"] for i in snapshot(p4)["ideas"]) == [i3]
    assert call(control, "idea_unmerge", idea_id=i3)["error"] == "not_merged"
    assert {"idea.merge", "idea.unmerge"} <= set(actions(app, meeting_id))
    with app.app_context():  # every ballot is still there: merging moved nothing
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 6


def test_merge_refuses_what_it_cannot_merge(app, staff_auth, participant_socket):
    meeting_id, cards = build_meeting(app, participants=2, tables=1)
    other_meeting, _ = build_meeting(app, participants=1, tables=1, organizer_email="other@example.org")
    phone = participant_socket(cards[0]["token"])
    control = staff_socket(app, staff_auth, meeting_id)
    first = call(phone, "post_idea", text="駅前に駐輪場を")["idea"]["id"]
    second = call(phone, "post_idea", text="駐輪場を駅前に")["idea"]["id"]
    hidden = call(phone, "post_idea", text="隠される意見")["idea"]["id"]
    assert call(control, "hide_idea", idea_id=hidden, reason="重複")["ok"]
    assert call(control, "idea_merge", target_id=first, source_ids=[])["error"] == "merge_sources"
    assert call(control, "idea_merge", target_id=first, source_ids=[first])["error"] == "merge_sources"
    assert call(control, "idea_merge", target_id=first, source_ids=[True])["error"] == "not_found"
    assert call(control, "idea_merge", target_id=first, source_ids=[hidden])["error"] == "merge_hidden"
    assert call(phone, "idea_merge", target_id=first, source_ids=[second])["error"] == "forbidden"
    outsider = staff_socket(app, staff_auth, other_meeting, email="other@example.org")
    assert call(outsider, "idea_merge", target_id=first, source_ids=[second])["error"] == "not_found"
    assert call(control, "idea_merge", target_id=first, source_ids=[second])["ok"]
    assert call(control, "idea_merge", target_id=second, source_ids=[first])["error"] == "idea_merged"
    assert call(control, "restore_idea", idea_id=second, reason="戻す")["error"] == "idea_merged"


def test_pre_moderation_holds_ideas_until_approved_and_tells_the_author(app, staff_auth, participant_socket):
    meeting_id, cards = build_meeting(app, participants=2, tables=1)
    author = participant_socket(cards[0]["token"], "さくら")
    neighbour = participant_socket(cards[1]["token"], "もみじ")
    control = staff_socket(app, staff_auth, meeting_id)
    for sock in (author, neighbour, control):
        snapshot(sock)
    assert call(control, "meeting_settings", moderation="pre")["settings"]["moderation"] == "pre"
    assert call(control, "meeting_settings", moderation="later")["error"] == "bad_request"

    waiting = call(author, "post_idea", text="児童館の開館時間を延ばしてほしい")["idea"]
    rejected = call(author, "post_idea", text="隣の家の山田さんがうるさい")["idea"]
    assert waiting["pending"] is True
    queued = wait_for(control, "idea_posted", lambda m: m["idea"]["id"] == waiting["id"])["idea"]
    assert queued["pending"] is True
    assert [i["id"] for i in snapshot(author)["ideas"] if i["pending"]] == [waiting["id"], rejected["id"]]
    assert snapshot(neighbour)["ideas"] == []
    assert call(author, "vote", idea_id=waiting["id"], value="agree")["error"] == "idea_pending"
    assert call(neighbour, "vote", idea_id=waiting["id"], value="agree")["error"] == "not_found"
    assert call(control, "hide_idea", idea_id=waiting["id"], reason="x")["error"] == "idea_pending_staff"

    assert call(control, "approve_idea", idea_id=waiting["id"])["ok"]
    # The neighbour's first sight of the idea is its approval.
    first = wait_for(neighbour, "idea_posted")["idea"]
    assert first["id"] == waiting["id"] and first["pending"] is False
    assert wait_for(author, "idea_moderated", lambda m: m["idea_id"] == waiting["id"])["what"] == "approved"
    assert call(control, "approve_idea", idea_id=waiting["id"])["error"] == "idea_decided"

    assert call(control, "reject_idea", idea_id=rejected["id"], reason="")["error"] == "reason_required"
    assert call(control, "reject_idea", idea_id=rejected["id"], reason="個人の名前があります")["ok"]
    told = wait_for(author, "idea_moderated", lambda m: m["idea_id"] == rejected["id"])
    assert told["what"] == "rejected" and told["reason"] == "個人の名前があります"
    assert [i["id"] for i in snapshot(author)["ideas"]] == [waiting["id"]]
    assert [i["id"] for i in snapshot(neighbour)["ideas"]] == [waiting["id"]]
    assert call(neighbour, "vote", idea_id=waiting["id"], value="agree")["ok"]
    assert {"idea.approve", "idea.reject"} <= set(actions(app, meeting_id))


def test_proxy_entry_goes_to_the_table_and_is_recorded_as_proxy(app, staff_auth, participant_socket):
    meeting_id, cards = build_meeting(app, participants=2, tables=1)
    phone = participant_socket(cards[1]["token"], "もみじ")
    resident = cards[0]["participant_id"]  # no phone
    control = staff_socket(app, staff_auth, meeting_id)
    snapshot(phone), snapshot(control)
    posted = call(control, "proxy_idea", participant_id=resident, text="バス停に屋根を")
    assert posted["ok"], posted
    idea_id = posted["idea"]["id"]
    assert wait_for(phone, "idea_posted", lambda m: m["idea"]["id"] == idea_id)
    assert wait_for(control, "idea_posted", lambda m: m["idea"]["id"] == idea_id)["idea"]["proxy"] is True
    assert call(control, "proxy_vote", participant_id=resident, idea_id=idea_id, value="agree")["ok"]
    assert wait_for(phone, "tallies", lambda m: m["tallies"].get(str(idea_id), {}).get("agree") == 1)
    assert call(control, "proxy_vote", participant_id=True, idea_id=idea_id, value="agree")["error"] == "not_found"
    assert call(phone, "proxy_idea", participant_id=resident, text="x")["error"] == "forbidden"
    with app.app_context():
        vote = db.session.scalar(sa.select(Vote).where(Vote.idea_id == idea_id))
        assert vote.participant_id == resident and vote.proxy_staff_id is not None
        logged = {e.action: e.detail for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.meeting_id == meeting_id))}
    assert logged["proxy.idea"]["participant_id"] == resident
    assert logged["proxy.vote"]["value"] == "agree"
