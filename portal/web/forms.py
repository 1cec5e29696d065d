"""Forms both the public site and the staff area show, and what every form shares.

``PortalForm`` is the base of every form: its fields' ids may carry a prefix (two forms
of one page then name their fields apart, while the names posted stay the same), and
its CSRF token's hidden input has no id (a page may hold many forms). ``problems`` and
``chosen_files`` are what a form's error summary (``templates/_forms.html``) lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Field, RadioField, SelectChoice, StringField, SubmitField
from wtforms.meta import DefaultMeta
from wtforms.validators import DataRequired, Length

from portal.wording.messages import describe_act_refusal

HIDDEN_TYPES = {"HiddenField", "CSRFTokenField"}
FILE_TYPES = {"FileField", "MultipleFileField"}


class PortalForm(FlaskForm):
    """A form of the portal. ``id_prefix`` goes before each field's id (not its name)."""

    class Meta:
        id_prefix = ""

        def bind_field(self, form, unbound_field, options):
            if self.id_prefix:
                options = {**options, "id": f"{self.id_prefix}{options['prefix']}{options['name']}"}
            return DefaultMeta.bind_field(self, form, unbound_field, options)

        def render_field(self, field, render_kw):
            if field.type == "CSRFTokenField":
                render_kw = {"id": False, **render_kw}  # no id: many forms share a page
            return DefaultMeta.render_field(self, field, render_kw)

    def __init__(self, *args: Any, id_prefix: str = "", **kwargs: Any) -> None:
        if id_prefix:
            kwargs["meta"] = {**kwargs.get("meta", {}), "id_prefix": id_prefix}
        super().__init__(*args, **kwargs)


@dataclass(frozen=True)
class Problem:
    """One line of a form's error summary: what is wrong, and the id of the field to fix
    (empty for what no field of the page shows, such as an expired CSRF token)."""

    target: str
    label: str
    message: str


def field_target(field: Field) -> str:
    """The id of the element to focus for ``field``: a radio group's first option."""
    if isinstance(field, RadioField):
        return f"{field.id}-0"
    return field.id


def problems(form: FlaskForm) -> list[Problem]:
    """Every error of ``form``, field by field in the order shown, then the form's own."""
    found = []
    for field in _fields(form):
        for message in field.errors or ():
            hidden = field.type in HIDDEN_TYPES
            found.append(
                Problem("" if hidden else field_target(field), str(field.label.text), str(message))
            )
    found += [Problem("", "", str(message)) for message in getattr(form, "form_errors", ())]
    return found


def _fields(form):
    """The form's fields in order, those of its rows (``FieldList`` of ``FormField``, the
    campaign set-up's prizes and conditions) each in its place."""
    for field in form:
        if field.type in ("FieldList", "FormField"):
            yield from _fields(field)
        else:
            yield field


def chosen_file(field: Field) -> str:
    """The name of the file the visitor had chosen in ``field`` ("" when none)."""
    if field.type not in FILE_TYPES:
        return ""
    return getattr(field.data, "filename", "") or ""


def chosen_files(form: FlaskForm) -> list[str]:
    """The names of the files chosen in ``form``: a page shown again cannot keep them."""
    return [name for name in map(chosen_file, form) if name]


# the field an act's refusal is about, when it is about one (else its "kind" names the file)
FIELD_OF_REFUSAL = {
    "bad-document-type": "document_type",
    "document-date-future": "document_date",
    "reason-required": "reason",
    "bad-signature-file": "signature",
}


def refusal_on_form(form: FlaskForm, refusal: Any) -> None:
    """Show an act's refusal (``campaign.acts.ActRefused``) next to the field it is about,
    so the form's error summary lists it; else on top of the page."""
    name = FIELD_OF_REFUSAL.get(refusal.code) or refusal.details.get("kind", "")
    if name and name in form:
        form[name].errors.append(describe_act_refusal(refusal))
    else:
        flash(describe_act_refusal(refusal), "error")


class IdentityForm(PortalForm):
    """Rule 10: the director (signatory) and the identity document named in the act."""

    director_name = StringField(
        _l("Director's full name"), validators=[DataRequired(), Length(max=200)]
    )
    document_type = RadioField(
        _l("Identity document"),
        choices=[
            SelectChoice("id_card", _l("Identity card")),
            SelectChoice("passport", _l("Passport")),
        ],
        validators=[DataRequired()],
    )
    document_number = StringField(
        _l("Document number"), validators=[DataRequired(), Length(max=40)]
    )
    document_issuer = StringField(_l("Issued by"), validators=[DataRequired(), Length(max=200)])
    document_date = DateField(_l("Date of issue"), validators=[DataRequired()])
    submit = SubmitField(_l("Save"))

    def identity(self) -> dict:
        """What was entered, as ``campaign.acts.set_identity`` takes it."""
        return {
            "director_name": self.director_name.data,
            "document_type": self.document_type.data,
            "document_number": self.document_number.data,
            "document_issuer": self.document_issuer.data,
            "document_date": self.document_date.data,
        }
