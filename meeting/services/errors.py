"""Errors a user can cause, with a stable code and a message in the user's language."""

import sqlalchemy.exc as sa_exc
from flask_babel import lazy_gettext as _l

MESSAGES = {
    "bad_request": _l("The request was not understood. Please reload the page."),
    "forbidden": _l("You are not allowed to do this."),
    "not_found": _l("This item no longer exists."),
    "not_seated": _l("You do not have a table yet. Please wait for the staff to seat you."),
    "idea_empty": _l("Please write your idea before sending it."),
    "idea_too_long": _l("An idea can be at most %(max)s characters long."),
    "vote_value": _l("Please choose agree, disagree or pass."),
    "reason_required": _l("Please give a reason."),
    "reason_too_long": _l("A reason can be at most %(max)s characters long."),
    "announcement_empty": _l("Please write the announcement."),
    "announcement_too_long": _l("An announcement can be at most %(max)s characters long."),
    "invitation_unknown": _l("This invitation link or code is not valid. Please check it or ask the staff."),
    "invitation_used": _l("This invitation has already been used on another phone. Please ask the staff for help."),
    "nickname_invalid": _l("Please choose a nickname of 1 to 20 characters."),
    "nickname_taken": _l("“%(name)s” is already used in this meeting. How about “%(suggestion)s”? It is filled in below."),
    "op_id": _l("The request was not understood. Please reload the page."),
    # Unexpected failures (meeting/realtime/errors.py): "retry" is resent by the client itself.
    "retry": _l("The server is busy for a moment. Your answer will be sent again automatically."),
    "server": _l("Something went wrong on the server. Please try again in a moment."),
    "login_email": _l("Please enter your e-mail address."),
    "login_password": _l("Please enter your password (at most %(max)s characters)."),
    "login_failed": _l("The e-mail or password is not correct."),
    "login_wait": _l("Too many wrong passwords for this account. Please wait %(seconds)s seconds and try again."),
    "password_wrong": _l("The current password is not correct."),
    "password_length": _l("The new password needs %(min)s to %(max)s characters."),
    "staff_self": _l("You cannot remove yourself from a meeting."),
    "text_invalid": _l("This text contains characters that cannot be used (control or invisible characters)."),
    # Polls (staff)
    "poll_kind": _l("Please choose the kind of poll."),
    "poll_question": _l("Please write the question (at most %(max)s characters)."),
    "poll_options": _l("Please give the choices, one per line, without repeating one (at most %(max)s)."),
    "poll_option_label": _l("A choice can be at most %(max)s characters long."),
    "poll_rules": _l("Please check the limits of the poll."),
    "poll_table": _l("This table does not exist in this meeting."),
    "poll_closes_at": _l("The closing time must be in the future."),
    "poll_survey_link": _l("The second wave must follow a first-wave survey that has no second wave yet."),
    "poll_state": _l("This poll cannot do that now (it is already open or closed)."),
    "breakdown_open": _l("A breakdown is shown only after the poll is closed."),
    "breakdown_secret": _l("A secret poll cannot be broken down by group."),
    # Polls (participants)
    "poll_not_open": _l("This poll is not open for answers now."),
    "receipt_unknown": _l("No ballot was found for this receipt. Only a secret ballot gives a receipt."),
    "receipt_not_issued": _l("This poll gives no receipt: only a secret ballot does. Your own answer is shown with the poll."),
    # Ballots: the codes of meeting.core.tally.BallotError
    "malformed": _l("Your answer could not be read. Please try again."),
    "empty": _l("Please choose your answer before sending."),
    "unknown_option": _l("“%(option)s” is not one of the choices."),
    "duplicate_option": _l("You chose “%(option)s” twice."),
    "duplicate_rank": _l("“%(option)s” is in your ranking twice."),
    "invalid_vote": _l("Please choose agree, disagree or pass."),
    "out_of_range": _l("Please choose a value from %(min)s to %(max)s."),
    "too_many_approvals": _l("You can choose at most %(max)s (you chose %(count)s)."),
    "too_few_approvals": _l("Please choose at least %(min)s (you chose %(count)s)."),
    "too_many_dots": _l("You have %(max)s dots (you placed %(count)s)."),
    "too_few_dots": _l("Please place all %(required)s dots (you placed %(count)s)."),
    "too_many_on_one": _l("You can put at most %(max)s dots on “%(option)s”."),
    "too_few_ranked": _l("Please rank at least %(min)s (you ranked %(count)s)."),
    "too_many_ranked": _l("You can rank at most %(max)s (you ranked %(count)s)."),
    "text_answer_empty": _l("Please write your answer before sending."),
    "too_long": _l("An answer can be at most %(max)s characters long."),
    # Agenda and clock (staff)
    "step_kind": _l("Please choose a table round or a plenary step."),
    "step_title": _l("Please give the step a title (at most %(max)s characters)."),
    "step_question": _l("The question can be at most %(max)s characters long."),
    "step_duration": _l("Please give a duration from 0 to %(max)s minutes."),
    "step_extend": _l("Time can be extended by 1 second to %(max)s minutes at once."),
    "step_started": _l("This step has already started: only a planned step can be changed this way."),
    "step_done": _l("This step has ended; it stays as it ran."),
    "step_before_started": _l("A planned step cannot go before a step that has already run."),
    "agenda_over": _l("There is no planned step left. Add a step to the agenda first."),
    "no_running_step": _l("No step is running now."),
    "step_not_running": _l("The step is not running."),
    "step_not_paused": _l("The step is not paused."),
    "table_size": _l("Table sizes must be whole numbers from 1 to 100, the minimum not above the maximum."),
    # Seating (staff)
    "seating_conflict": _l("This seating is not possible: %(detail)s"),
    "no_table_round": _l("There is no table round to seat people for. Add a table round to the agenda."),
    "no_tables": _l("The meeting has no tables yet."),
    "nobody_present": _l("Nobody is present yet: people count once they joined on a phone or were checked in."),
    "host_stays": _l("A table's host stays at their table. Choose another host first."),
    "not_seated_both": _l("Both people must have a seat to swap them."),
    "seating_rule": _l("A rule needs at least two different people (at most 20)."),
    # Control room (help calls, people, moderation, plenary)
    "help_state": _l("This help call has already been answered."),
    "idea_unchanged": _l("The text is the same as before."),
    "idea_merged": _l("This idea was merged with a similar one. Please vote on the merged idea."),
    "idea_pending": _l("Your idea is waiting for the staff's approval. You can vote on it once it is shown."),
    "idea_pending_staff": _l("This idea is waiting for approval: approve or reject it."),
    "idea_decided": _l("This idea has already been approved or rejected."),
    "merge_sources": _l("Please choose at least two different ideas to merge."),
    "merge_hidden": _l("Hidden ideas and ideas waiting for approval cannot be merged."),
    "not_merged": _l("This idea is not merged."),
    "tablet_on_phone": _l("This person is using their own phone right now. Please use the phone, or ask the staff."),
    "tablet_link": _l("This tablet link is no longer valid. Please ask the staff for a new one."),
    "open_code_unknown": _l("This code does not open any meeting now. Please check it, or ask the staff for the current code."),
    "open_capacity": _l("The capacity must be a whole number from 1 to %(max)s, or empty for no limit."),
    "open_categories": _l("Please write each question on its own line as “category: value, value, …” "
                          "(at most 8 questions of 20 values)."),
    "not_open": _l("This meeting is not open to the public."),
    "video_url": _l("Please give the video room as a web address starting with https:// (at most %(max)s characters)."),
    "person_removed": _l("This person has already been removed from the meeting."),
    # Agenda (participants)
    "round_closed": _l("This round has ended, so no more ideas can be posted. You can still vote."),
    # Plenary: report-outs and the plenary poll (staff)
    "report_started": _l("This table has already reported (or is reporting now)."),
    "report_queue_over": _l("No table is waiting to report. Add a table to the queue first."),
    "no_report": _l("No table is reporting now."),
    "report_not_running": _l("The report-out is not running."),
    "report_not_paused": _l("The report-out is not paused."),
    "report_done": _l("This report-out has already ended."),
    "report_time": _l("Please give a time from 0 to %(max)s minutes (speaking at least 1 second)."),
    "projector_link": _l("This screen's link is not valid (any more). Please ask the facilitator for a new projector link."),
    "plenary_not_visible": _l(
        "Only a visible idea can go to the plenary (not hidden, not waiting for approval, not merged into another)."),
    "plenary_too_few": _l("The plenary list needs at least two ideas for a poll."),
}


class ServiceError(Exception):
    """A refusal the user should see: `code` is stable, `message` is localized."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def message(self) -> str:
        template = MESSAGES.get(self.code, MESSAGES["bad_request"])
        return str(template) % self.params if self.params else str(template)

    def as_ack(self) -> dict:
        return {"ok": False, "error": self.code, "message": self.message}


# SQLite's transient OperationalErrors; others ("no such table") will not pass by retrying.
SQLITE_TRANSIENT = ("database is locked", "database table is locked", "disk i/o error")


def retryable(exc: BaseException) -> bool:
    """Whether the database failed in a way a resend of the same operation may get past."""
    if isinstance(exc, (sa_exc.DisconnectionError, sa_exc.TimeoutError)):
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, sa_exc.InterfaceError):
        return True
    if isinstance(exc, sa_exc.OperationalError):
        if type(exc.orig).__module__.startswith("sqlite3"):
            return any(text in str(exc.orig).lower() for text in SQLITE_TRANSIENT)
        return True  # psycopg: cannot connect, server shutting down or starting up, connection lost
    return False
