"""Socket.IO events for polls; the protocol is documented in docs/protocol.md ("Polls")."""

from meeting.realtime.clock import DeadlineClock
from meeting.realtime.handlers import _participant, _staff, client_event, snapshot_extensions
from meeting.services import polls


@client_event("create_poll", role="staff")
def create_poll(who, data):
    return polls.create_poll(_staff(who), who.meeting_id, data)


@client_event("open_poll", role="staff")
def open_poll(who, data):
    result = polls.open_poll(_staff(who), who.meeting_id, data.get("poll_id"))
    if result[0]["poll"]["closes_at"]:
        clock.wake()
    return result


@client_event("close_poll", role="staff")
def close_poll(who, data):
    return polls.close_poll(_staff(who), who.meeting_id, data.get("poll_id"))


@client_event("poll_breakdown", role="staff", read_only=True)
def poll_breakdown(who, data):
    return polls.poll_breakdown(_staff(who), who.meeting_id, data.get("poll_id"), data.get("category"))


@client_event("cast_ballot", role="participant")
def cast_ballot(who, data):
    return polls.cast_ballot(_participant(who), data.get("poll_id"), data.get("ballot"))


@client_event("check_receipt", role="participant", read_only=True)
def check_receipt(who, data):
    return polls.check_receipt(_participant(who), data.get("receipt"), data.get("poll_id"))


def extend_snapshot(who, person, snap):
    snap["polls"] = polls.participant_polls(person) if who.participant_id else polls.staff_polls(who.meeting_id)
    if any(p["state"] == "open" and p["closes_at"] for p in snap["polls"]):
        clock.wake()  # e.g. after a restart, the first client to come back restarts the clock


snapshot_extensions.append(extend_snapshot)


# Close polls when their closing time comes. Ballots are refused after the closing time even
# before the clock has run.
clock = DeadlineClock(polls.close_due, polls.next_deadline)


@client_event("promote_answer", role="staff")
def promote_answer(who, data):
    return polls.promote_answer(_staff(who), who.meeting_id, data.get("poll_id"), data.get("ballot_id"),
                                data.get("table_id"))
