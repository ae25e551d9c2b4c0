"""Forms for staff and participant pages (Flask-WTF, CSRF on every POST)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError

from meeting.services import invitations


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    submit = SubmitField(_l("Log in"))


class MeetingForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    language = SelectField(_l("Language"), choices=[SelectChoice("ja", "日本語"), SelectChoice("en", "English")], default="ja")
    purpose = TextAreaField(_l("Purpose notice shown to participants"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Create meeting"))


class MeetingDetailsForm(FlaskForm):
    """When and where: printed on the letters and cards and in the report."""

    held_on = DateField(_l("Date"), validators=[Optional()])
    starts_at = TimeField(_l("Start time"), validators=[Optional()])
    ends_at = TimeField(_l("End time"), validators=[Optional()])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=300)])
    contact = StringField(_l("Contact line (printed on letters)"), validators=[Optional(), Length(max=300)])
    licence = SelectField(_l("Licence of the report and open data"), default="CC-BY-4.0",
                          choices=[SelectChoice("CC-BY-4.0", "CC BY 4.0"), SelectChoice("CC-BY-SA-4.0", "CC BY-SA 4.0"),
                                   SelectChoice("CC0-1.0", "CC0 1.0"), SelectChoice("ODbL-1.0", "ODbL 1.0")])
    language_fixed = BooleanField(_l("Always show the meeting's language (ignore the browser's language)"))
    submit = SubmitField(_l("Save the details"))

    def validate_ends_at(self, field):
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The end time must be after the start time."))


class ParticipantsForm(FlaskForm):
    count = IntegerField(_l("Number of participants"), validators=[Optional(), NumberRange(min=1, max=2000)])
    nicknames = TextAreaField(_l("Or a list of nicknames, one per line"), validators=[Optional(), Length(max=50000)])
    submit = SubmitField(_l("Add participants"))

    def validate_count(self, field):
        if not field.data and not (self.nicknames.data or "").strip():
            raise ValidationError(_l("Give a number of participants or a list of nicknames."))


class TablesForm(FlaskForm):
    count = IntegerField(_l("Number of tables"), validators=[DataRequired(), NumberRange(min=1, max=200)])
    submit = SubmitField(_l("Create tables and seat participants"))


class FacilitatorForm(FlaskForm):
    email = EmailField(_l("Facilitator's e-mail"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    password = PasswordField(_l("Password for a new account (optional)"), validators=[Optional(), Length(min=10, max=200)])
    submit = SubmitField(_l("Add facilitator"))


class CodeForm(FlaskForm):
    code = StringField(_l("Invitation code"), validators=[DataRequired(), Length(max=40)])
    submit = SubmitField(_l("Continue"))


class WelcomeForm(FlaskForm):
    nickname_choice = RadioField(_l("Choose a nickname"), validators=[Optional()], validate_choice=False)
    nickname = StringField(_l("Or write your own"), validators=[Optional(), Length(max=invitations.NICKNAME_MAX)])
    submit = SubmitField(_l("Join the table"))

    def chosen_nickname(self) -> str:
        return (self.nickname.data or "").strip() or (self.nickname_choice.data or "")
