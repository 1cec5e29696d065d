"""Forms of the staff area."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from portal.admin.setup_rows import ConditionRow, ParametersRow, PrizeRow
from portal.campaign.periods import local_today
from portal.campaign.rules import RULES_MAX_BYTES, rules_problems
from portal.campaign.staff import password_problems
from portal.models.staff import ROLES
from portal.web.forms import PortalForm
from portal.wording.staff import describe_password_problems

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
LANGUAGE_CHOICES = [SelectChoice("kk", "Қазақша"), SelectChoice("ru", "Русский")]


def role_names() -> dict[str, str]:
    """Each role's name in the current language."""
    return {
        "admin": _("Administrator"),
        "marketing": _("Marketing manager"),
        "commission": _("Commission member"),
        "auditor": _("Auditor"),
    }


def role_choices() -> list[SelectChoice]:
    names = role_names()
    return [SelectChoice(role, names[role]) for role in ROLES]


class LoginForm(PortalForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    submit = SubmitField(_l("Sign in"))


class LanguageForm(PortalForm):
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    submit = SubmitField(_l("Change"))


class UserForm(PortalForm):
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(),
            Regexp(EMAIL_PATTERN, message=_l("Enter a valid e-mail address.")),
            Length(max=254),
        ],
    )
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=role_choices)
    language = SelectField(_l("Interface language"), choices=LANGUAGE_CHOICES)
    # spaces only are a password to refuse, not an empty field
    password = PasswordField(_l("Password"), validators=[Optional(strip_whitespace=False)])
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))

    def validate_password(self, field):
        """The password rules (``campaign.staff.password_problems``), each reason said."""
        if not field.data:
            return
        problems = password_problems(field.data, self.email.data or "", self.name.data or "")
        if problems:
            raise ValidationError(" ".join(describe_password_problems(problems)))


def describe_rules_problem(problem) -> str:
    """A problem of a rules text, in the staff member's language."""
    if problem.kind == "too-large":
        return _(
            "The text is larger than %(limit)s KB (it has %(size)s KB): shorten it.",
            limit=RULES_MAX_BYTES // 1024,
            size=-(-problem.size // 1024),
        )
    if problem.kind == "no-clauses":
        return _('The text has no numbered clauses (a clause starts with its number, e.g. "5.").')
    return _("Clause %(number)s appears twice.", number=problem.number)


def rules_text(form, field) -> None:
    """Validator: the text parses as rules."""

    problems = rules_problems(field.data or "")
    if problems:
        raise ValidationError(" ".join(describe_rules_problem(p) for p in problems))


class RulesDraftForm(PortalForm):
    body_kk = TextAreaField(
        _l("Rules in Kazakh (Markdown)"), validators=[DataRequired(), rules_text]
    )
    body_ru = TextAreaField(
        _l("Rules in Russian (Markdown)"), validators=[DataRequired(), rules_text]
    )
    summary_kk = TextAreaField(
        _l("What changed, in Kazakh"), validators=[DataRequired(), Length(max=5000)]
    )
    summary_ru = TextAreaField(
        _l("What changed, in Russian"), validators=[DataRequired(), Length(max=5000)]
    )
    effective_on = DateField(_l("Effective from"), validators=[DataRequired()])
    submit = SubmitField(_l("Save draft"))

    def validate_effective_on(self, field):

        if field.data and field.data < local_today():
            raise ValidationError(_("The date cannot be in the past."))


class ImportForm(PortalForm):
    period = SelectField(_l("Reporting month"), choices=[])
    file = FileField(
        _l("File (CSV or XLSX)"),
        validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Only CSV or XLSX files."))],
    )
    replace = BooleanField(_l("Replace the data this month already has"))
    submit = SubmitField(_l("Import"))


class ParticipantSearchForm(PortalForm):
    """The participants' search, sent by POST: an account number or a BIN/IIN never
    travels in an address, so no access log, proxy or browser history keeps it."""

    q = StringField(
        _l("Account number, BIN/IIN or company name"),
        validators=[
            DataRequired(message=_l("Enter an account number, a BIN/IIN or a company name.")),
            Length(max=300),
        ],
    )
    submit = SubmitField(_l("Search"))


class ConfirmForm(PortalForm):
    """A button that only carries the CSRF token."""

    submit = SubmitField(_l("Confirm"))


class AnnouncementForm(PortalForm):
    title_kk = StringField(_l("Title in Kazakh"), validators=[DataRequired(), Length(max=300)])
    title_ru = StringField(_l("Title in Russian"), validators=[DataRequired(), Length(max=300)])
    body_kk = TextAreaField(_l("Text in Kazakh (Markdown)"), validators=[DataRequired()])
    body_ru = TextAreaField(_l("Text in Russian (Markdown)"), validators=[DataRequired()])
    submit = SubmitField(_l("Save draft"))


class AuditFilterForm(PortalForm):
    class Meta:
        csrf = False

    action = StringField(_l("Action"), validators=[Optional(), Length(max=64)])
    actor = StringField(_l("Who"), validators=[Optional(), Length(max=254)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])


COMMISSION_HINT = _l('One per line: "Name, position in Kazakh | position in Russian".')


class _DrawTexts:
    """What the commission writes for the public record and the protocol, in Kazakh and in
    Russian (``<name>_kk``, ``<name>_ru`` fields); the local fallback needs its reason in both."""

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.use_fallback.data:
            for f in (self.fallback_reason_kk, self.fallback_reason_ru):
                if not (f.data or "").strip():
                    f.errors = [*f.errors, _("Give the reason for drawing without random.org.")]
                    ok = False
        return ok

    def texts(self, name: str) -> dict[str, str]:
        """A text of the form in each language, as ``portal.campaign.draws`` takes it."""
        return {"kk": self[f"{name}_kk"].data or "", "ru": self[f"{name}_ru"].data or ""}

    def fallback_texts(self) -> dict[str, str]:
        return self.texts("fallback_reason") if self.use_fallback.data else {}


class DrawForm(_DrawTexts, PortalForm):
    """The commission's draw: who is present, where; a reason when late or without random.org.

    What the public record and the protocol show is written in Kazakh and in Russian."""

    commission = TextAreaField(
        _l("Commission members present"),
        validators=[DataRequired(), Length(max=4000)],
        description=COMMISSION_HINT,
    )
    place_kk = StringField(_l("Place, in Kazakh"), validators=[DataRequired(), Length(max=200)])
    place_ru = StringField(_l("Place, in Russian"), validators=[DataRequired(), Length(max=200)])
    late_reason_kk = TextAreaField(
        _l("Reason for holding the draw late, in Kazakh"), validators=[Length(max=2000)]
    )
    late_reason_ru = TextAreaField(
        _l("Reason for holding the draw late, in Russian"), validators=[Length(max=2000)]
    )
    use_fallback = BooleanField(_l("Draw without random.org (local fallback)"))
    fallback_reason_kk = TextAreaField(
        _l("Reason for drawing without random.org, in Kazakh"), validators=[Length(max=2000)]
    )
    fallback_reason_ru = TextAreaField(
        _l("Reason for drawing without random.org, in Russian"), validators=[Length(max=2000)]
    )
    nonce = HiddenField()
    pool_sha256 = HiddenField()
    submit = SubmitField(_l("Show the pool"))


class RedrawForm(_DrawTexts, PortalForm):
    reason_kk = TextAreaField(
        _l("Reason for the redraw, in Kazakh"), validators=[DataRequired(), Length(max=2000)]
    )
    reason_ru = TextAreaField(
        _l("Reason for the redraw, in Russian"), validators=[DataRequired(), Length(max=2000)]
    )
    commission = TextAreaField(
        _l("Commission members present"),
        validators=[DataRequired(), Length(max=4000)],
        description=COMMISSION_HINT,
    )
    place_kk = StringField(_l("Place, in Kazakh"), validators=[DataRequired(), Length(max=200)])
    place_ru = StringField(_l("Place, in Russian"), validators=[DataRequired(), Length(max=200)])
    use_fallback = BooleanField(_l("Draw without random.org (local fallback)"))
    fallback_reason_kk = TextAreaField(
        _l("Reason for drawing without random.org, in Kazakh"), validators=[Length(max=2000)]
    )
    fallback_reason_ru = TextAreaField(
        _l("Reason for drawing without random.org, in Russian"), validators=[Length(max=2000)]
    )
    submit = SubmitField(_l("Redraw"))


# --- winners ------------------------------------------------------------------------


class VerifyForm(PortalForm):
    """Rule 8: the campaign's conditions are re-checked by the portal; staff add their own checks."""

    manual_ok = SelectField(
        _l("Outcome of the manual checks"),
        choices=[SelectChoice("yes", _l("Passed")), SelectChoice("no", _l("Failed: disqualify"))],
        validators=[DataRequired()],
    )
    manual_note = TextAreaField(
        _l("What was checked by hand, and what was found"),
        validators=[DataRequired(), Length(max=4000)],
    )
    submit = SubmitField(_l("Record the verification"))


class ContactForm(PortalForm):
    on = DateField(_l("Date"), validators=[DataRequired()])
    channel = SelectField(_l("Channel"), validators=[DataRequired()])
    answered = BooleanField(_l("The winner answered"))
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])
    submit = SubmitField(_l("Record the attempt"))


class NoteForm(PortalForm):
    """A step that needs only a note (and the CSRF token)."""

    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])
    submit = SubmitField(_l("Confirm"))


class ForfeitForm(PortalForm):
    reason = SelectField(_l("Why the prize is forfeited"), validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Record the forfeit"))


class DeliveryForm(PortalForm):
    method = SelectField(_l("How the certificate was handed over"), validators=[DataRequired()])
    on = DateField(_l("Date"), validators=[DataRequired()])
    office = StringField(_l("Sales office"), validators=[Length(max=200)])
    staff = StringField(_l("Staff member who handed it over"), validators=[Length(max=200)])
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])
    submit = SubmitField(_l("Record the delivery"))


class PhotoForm(PortalForm):
    photo = FileField(
        _l("Photo of the winner with the certificate (JPEG or PNG)"), validators=[FileRequired()]
    )
    submit = SubmitField(_l("Publish the photo"))


class CalendarDayForm(PortalForm):
    day = DateField(_l("Date"), validators=[DataRequired()])
    working = SelectField(
        _l("The decree makes it"),
        choices=[
            SelectChoice("off", _l("a day off")),
            SelectChoice("working", _l("a working day")),
        ],
        validators=[DataRequired()],
    )
    note = StringField(_l("Decree"), validators=[DataRequired(), Length(max=300)])
    submit = SubmitField(_l("Add to the calendar"))


class StaffFileForm(PortalForm):
    file = FileField(
        _l("Organizer's director's identity card (PDF, JPEG or PNG)"), validators=[FileRequired()]
    )
    submit = SubmitField(_l("Upload"))


class ProtocolSignatureForm(PortalForm):
    """A commission member's EDS signature of the draw's protocol: a CMS file made with any
    NCA RK tool, or NCALayer's answer on this computer (``cms_base64``)."""

    member = SelectField(_l("Commission member"), coerce=int, validators=[DataRequired()])
    signature = FileField(_l("Signature file (.cms, .p7s)"))
    cms_base64 = HiddenField()


class PaperSignatureForm(PortalForm):
    """A commission member signed the printed protocol."""

    member = SelectField(_l("Commission member"), coerce=int, validators=[DataRequired()])


class EgovSignatureForm(PortalForm):
    """A QR code for a commission member to sign the protocol with eGov Mobile."""

    member = SelectField(_l("Commission member"), coerce=int, validators=[DataRequired()])


# --- a campaign's set-up (portal/campaign/setup.py) ----------------------------------------

PERIODS_HINT = _l(
    "For custom periods, one a line: first day | last day | name in Kazakh | name in Russian "
    "(the days as YYYY-MM-DD, in order, without overlaps, within the campaign's dates; the "
    "names optional: without them a period is named by its days)."
)


class CampaignCopyForm(PortalForm):
    slug = StringField(_l("Address name (slug)"), validators=[DataRequired(), Length(max=64)])
    starts_on = DateField(_l("First day"), validators=[DataRequired()])
    ends_on = DateField(_l("Last day"), validators=[DataRequired()])
    submit = SubmitField(_l("Make a copy"))


class CampaignForm(CampaignCopyForm):
    title_kk = StringField(_l("Title in Kazakh"), validators=[DataRequired(), Length(max=300)])
    title_ru = StringField(_l("Title in Russian"), validators=[DataRequired(), Length(max=300)])
    organizer_kk = StringField(
        _l("Organizer in Kazakh"), validators=[DataRequired(), Length(max=300)]
    )
    organizer_ru = StringField(
        _l("Organizer in Russian"), validators=[DataRequired(), Length(max=300)]
    )
    territory_kk = StringField(
        _l("Territory in Kazakh"), validators=[DataRequired(), Length(max=300)]
    )
    territory_ru = StringField(
        _l("Territory in Russian"), validators=[DataRequired(), Length(max=300)]
    )
    draw_deadline_day = IntegerField(
        _l("Draws due by this day of the next month"),
        default=20,
        validators=[DataRequired(), NumberRange(min=1, max=28)],
    )
    commission_min_members = IntegerField(
        _l("Commission members present at a draw, at least"),
        default=3,
        validators=[DataRequired(), NumberRange(min=1, max=20)],
    )
    period_kind = SelectField(
        _l("Reporting periods"),
        choices=[
            SelectChoice("monthly", _l("Calendar months of the campaign's dates")),
            SelectChoice("custom", _l("Custom periods, listed below")),
        ],
        default="monthly",
    )
    period_lines = TextAreaField(
        _l("Custom periods"), description=PERIODS_HINT, validators=[Optional()]
    )
    organizer_bin = StringField(_l("Organizer's BIN"), validators=[Optional(), Length(max=12)])
    organizer_address_kk = StringField(
        _l("Address in Kazakh"), validators=[Optional(), Length(max=500)]
    )
    organizer_address_ru = StringField(
        _l("Address in Russian"), validators=[Optional(), Length(max=500)]
    )
    organizer_hotline = StringField(_l("Hotline"), validators=[Optional(), Length(max=100)])
    organizer_email = StringField(_l("E-mail"), validators=[Optional(), Length(max=200)])
    organizer_signatory_kk = StringField(
        _l("Signatory in Kazakh"), validators=[Optional(), Length(max=300)]
    )
    organizer_signatory_ru = StringField(
        _l("Signatory in Russian"), validators=[Optional(), Length(max=300)]
    )
    organizer_position_kk = StringField(
        _l("Signatory's position in Kazakh"), validators=[Optional(), Length(max=300)]
    )
    organizer_position_ru = StringField(
        _l("Signatory's position in Russian"), validators=[Optional(), Length(max=300)]
    )
    # one row a prize and a condition (portal/admin/setup_rows.py), blank ones to add
    prizes = FieldList(FormField(PrizeRow))
    conditions = FieldList(FormField(ConditionRow))
    rules_kk = TextAreaField(_l("Rules, version 1, in Kazakh (Markdown)"), validators=[Optional()])
    rules_ru = TextAreaField(_l("Rules, version 1, in Russian (Markdown)"), validators=[Optional()])
    submit = SubmitField(_l("Save"))


class RulesSetupChangesForm(PortalForm):
    # one row a condition in force, its parameters prefilled
    parameters = FieldList(FormField(ParametersRow))
    change_prizes = BooleanField(_l("This version changes the prizes"))
    prizes = FieldList(FormField(PrizeRow))
    submit = SubmitField(_l("Save the changes"))
