"""SQLAlchemy models, one module per aggregate."""

from meeting.models.audit import AuditEvent, Connection, OpLog
from meeting.models.help import HelpCall
from meeting.models.idea import Announcement, Idea, Vote
from meeting.models.meeting import (
                                   DeviceLink,
                                   Meeting,
                                   OpenVisit,
                                   ReportOut,
                                   Round,
                                   Seat,
                                   SeatingRule,
                                   Stream,
                                   Table,
                                   TableHost,
                                   VideoRoom,
)
from meeting.models.opinion import OpinionMapSnapshot
from meeting.models.panel import PanelQuota, Roster, RosterPerson, Selection
from meeting.models.participant import Invitation, Participant
from meeting.models.poll import Ballot, Poll
from meeting.models.staff import LoginThrottle, MeetingStaff, StaffSession, StaffUser

__all__ = [
    "Announcement", "AuditEvent", "Ballot", "Connection", "DeviceLink", "HelpCall", "Idea", "Invitation",
    "LoginThrottle", "Meeting", "MeetingStaff",
    "OpLog", "OpenVisit", "OpinionMapSnapshot", "PanelQuota", "Participant", "Poll", "ReportOut", "Roster",
    "RosterPerson", "Round", "Selection", "Seat", "SeatingRule", "StaffSession", "StaffUser", "Stream", "Table",
    "TableHost", "VideoRoom", "Vote",
]
