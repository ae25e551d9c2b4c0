"""Errors a user can cause, with a stable code and a message in the user's language."""

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
    "announcement_empty": _l("Please write the announcement."),
    "invitation_unknown": _l("This invitation link or code is not valid. Please check it or ask the staff."),
    "invitation_used": _l("This invitation has already been used on another phone. Please ask the staff for help."),
    "nickname_invalid": _l("Please choose a nickname of 1 to 20 characters."),
    "op_id": _l("The request was not understood. Please reload the page."),
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
