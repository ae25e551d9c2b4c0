"""Socket.IO events. The protocol is documented in docs/protocol.md."""

from dataclasses import dataclass
from functools import wraps

from flask import request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room, leave_room

from meeting import durability, loopstats
from meeting.broadcast import dispatch
from meeting.extensions import db, socketio
from meeting.models import Meeting
from meeting.realtime.errors import answer_failure
from meeting.realtime.wire import MALFORMED
from meeting.services import ideas, meetings, ops, plenary, presence, staff, validate
from meeting.services.errors import ServiceError
from meeting.services.events import last_stamped, meeting_stream, participant_stream, staff_stream, table_stream
from meeting.sessions import current_participant, current_seated


@dataclass
class Principal:
    meeting_id: int
    participant_id: int | None = None
    staff_id: int | None = None
    table_id: int | None = None  # the table room this connection is in
    device_id: int | None = None  # a shared device's link (the hall's projector): reads only

    @property
    def actor(self) -> str:
        return f"p{self.participant_id}" if self.participant_id else f"s{self.staff_id}"


# Who each connection is; a connection lives in one worker, so a local map is enough.
principals: dict[str, Principal] = {}

socketio.on_error_default(answer_failure)


@socketio.on("connect")
def connect(auth=None):
    """Accept a participant (session cookie), a staff member of the requested meeting, or the hall's
    projector (its link's token; whoever is signed in on that browser)."""
    if isinstance(auth, dict) and "projector" in auth:
        link = plenary.projector_link(None, auth["projector"])
        if link is None:
            raise ConnectionRefusedError("unauthorized")
        principals[request.sid] = Principal(link.meeting_id, device_id=link.id)
        join_room(meeting_stream(link.meeting_id))
        join_room(plenary.plenary_stream(link.meeting_id))
        dispatch(presence.connected(request.sid, link.meeting_id))
        return True
    person = current_seated()  # who, and at which table, in one query
    if person is not None:
        principals[request.sid] = Principal(person.meeting_id, participant_id=person.id, table_id=person.table_id)
        join_room(meeting_stream(person.meeting_id))
        join_room(participant_stream(person.id))  # what is for them alone: help, moderation, ...
        if person.table_id:
            join_room(table_stream(person.table_id))
        dispatch(presence.connected(request.sid, person.meeting_id, participant_id=person.id,
                                    table_id=person.table_id))
        return True
    meeting_id = auth.get("meeting_id") if isinstance(auth, dict) else None
    if validate.is_id(meeting_id) and staff.can_facilitate(current_user, meeting_id):
        principals[request.sid] = Principal(meeting_id, staff_id=current_user.id)
        join_room(staff_stream(meeting_id))
        dispatch(presence.connected(request.sid, meeting_id, staff_id=current_user.id))
        return True
    raise ConnectionRefusedError("unauthorized")


def _follow_seat(who: Principal, person) -> None:
    """Move this connection to the room of the participant's current table (seating changes)."""
    table_id = meetings.table_id_of(person)
    if table_id == who.table_id:
        return
    if who.table_id:
        leave_room(table_stream(who.table_id))
    if table_id:
        join_room(table_stream(table_id))
    who.table_id = table_id
    dispatch(presence.moved(request.sid, table_id))


@socketio.on("disconnect")
def disconnect(*_args):
    principals.pop(request.sid, None)
    dispatch(presence.disconnected(request.sid))


# The client events registered through client_event: name -> (role, read_only). The tests
# (fuzzing, authorization matrix) read the Socket.IO server's own registry; this says the role.
client_events: dict[str, tuple[str, bool]] = {}


def _refusal(who: Principal | None, role: str) -> ServiceError | None:
    """Why this connection may not send an event of `role` now, or None."""
    if who is None or who.device_id is not None or (role == "participant") != (who.participant_id is not None):
        return ServiceError("forbidden")
    try:
        _seated(who) if role == "participant" else _staff(who)
    except ServiceError as err:
        return err
    return None


def client_event(name: str, role: str, *, read_only: bool = False):
    """Register a client→server event that needs an op_id, a role, and gets an ack.

    The payload is checked here for every event (one object, no lone surrogates or NUL, no
    integer beyond 64 bits, bounded nesting), and the sender's session and role are checked
    again, so no event can forget it. Read-only events (`read_only`) need an op_id too but are
    not written to the op log: replaying one simply answers again.
    """

    def decorator(action):
        @wraps(action)
        def handler(*args):
            if len(args) != 1 or not isinstance(args[0], dict):
                return ServiceError("bad_request").as_ack()
            data = args[0]
            who = principals.get(request.sid)
            problem = validate.payload_problem(data)
            if problem:
                return ServiceError(problem).as_ack()
            refusal = _refusal(who, role)
            if refusal is not None:
                return refusal.as_ack()
            if read_only:
                if not validate.is_op_id(data.get("op_id")):
                    return ServiceError("op_id").as_ack()
                try:
                    result, _changes = action(who, data)
                except ServiceError as err:
                    db.session.rollback()
                    return err.as_ack()
                db.session.rollback()  # nothing to keep: close the read transaction
                return {"ok": True, **result}
            ack, changes = ops.run(who.actor, data.get("op_id"), who.meeting_id, lambda: action(who, data))
            if loopstats.noting and name == "vote" and who.table_id:  # the benchmark's (meeting/loopstats.py)
                loopstats.note(data["op_id"], last_stamped(table_stream(who.table_id)))
            dispatch(changes)  # the broadcasts leave at the commit,
            durability.settle(db.session)  # the ack once the commit is on disk
            return ack

        client_events[name] = (role, read_only)
        socketio.on_event(name, handler)
        return action

    return decorator


def _seated(who: Principal) -> meetings.Seated:
    """The connection's participant as their session cookie still names them, and their table."""
    seated = current_seated()
    if seated is None or seated.id != who.participant_id:
        raise ServiceError("forbidden")
    return seated


def _participant(who: Principal):
    person = current_participant()
    if person is None or person.id != who.participant_id:
        raise ServiceError("forbidden")
    return person


def _staff(who: Principal):
    if not staff.can_facilitate(current_user, who.meeting_id):
        raise ServiceError("forbidden")
    return current_user


@socketio.on(MALFORMED)
def malformed_frame(*_args):
    """A frame the decoder could not take (see realtime/wire.py): refuse it, quietly."""
    return ServiceError("bad_request").as_ack()


@socketio.on("snapshot")
def snapshot(*args):
    """Answer with everything this client may see now, and the stream positions."""
    who = principals.get(request.sid)
    if len(args) > 1 or (args and args[0] is not None and not isinstance(args[0], dict)):
        return ServiceError("bad_request").as_ack()
    if who is None:
        return ServiceError("forbidden").as_ack()
    try:
        if who.device_id is not None:
            if not plenary.link_holds(who.device_id):
                raise ServiceError("forbidden")
            # No snapshot extension runs for the projector: theirs may name participants.
            return {"ok": True, "snapshot": plenary.projector_snapshot(who.meeting_id)}
        if who.participant_id:
            person = _participant(who)
            _follow_seat(who, person)
            snap = ideas.participant_snapshot(person)
        else:
            person = _staff(who)
            snap = ideas.staff_snapshot(db.session.get(Meeting, who.meeting_id))
        for extend in snapshot_extensions:
            extend(who, person, snap)
        return {"ok": True, "snapshot": snap}
    except ServiceError as err:
        return err.as_ack()


# Other realtime modules add their part of a snapshot here: extend(principal, person or staff user, snapshot).
snapshot_extensions: list = []


@client_event("post_idea", role="participant")
def post_idea(who, data):
    return ideas.post_idea(_participant(who), data.get("text"))


@client_event("vote", role="participant")
def vote(who, data):
    return ideas.vote(_seated(who), data.get("idea_id"), data.get("value"))


@client_event("hide_idea", role="staff")
def hide_idea(who, data):
    return ideas.hide_idea(_staff(who), who.meeting_id, data.get("idea_id"), data.get("reason"))


@client_event("restore_idea", role="staff")
def restore_idea(who, data):
    return ideas.restore_idea(_staff(who), who.meeting_id, data.get("idea_id"), data.get("reason"))


@client_event("announce", role="staff")
def announce(who, data):
    return ideas.announce(_staff(who), who.meeting_id, data.get("text"))
