"""Forms of the public site."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectChoice,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, ValidationError

from portal.web.forms import PortalForm
from portal.web.i18n import LANGUAGE_NAMES

MAX_EMAIL_LENGTH = 254
MAX_LOCAL_PART_LENGTH = 64

# A deliberately strict, ASCII-only address: dot-atom local part, then a host name of
# letters, digits and inner hyphens with an alphabetic (or punycode) top-level domain.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TLD = r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})"
EMAIL_RE = re.compile(rf"(?P<local>{_ATOM}(?:\.{_ATOM})*)@(?P<domain>(?:{_LABEL}\.)+{_TLD})")

LANGUAGE_CHOICES = [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]


def is_valid_email(address: str) -> bool:
    """Whether ``address`` is a plain, well-formed e-mail address (no display name, no IP)."""
    if len(address) > MAX_EMAIL_LENGTH:
        return False
    match = EMAIL_RE.fullmatch(address)
    return match is not None and len(match.group("local")) <= MAX_LOCAL_PART_LENGTH


def normalize_email(address: str) -> str:
    """The address without surrounding white space and with its domain in lower case."""
    local, _at, domain = address.strip().rpartition("@")
    return f"{local}@{domain.lower()}"


def _strip(value: str | None) -> str | None:
    """Drop the white space a paste often brings along."""
    return value.strip() if isinstance(value, str) else value


class SubscribeForm(PortalForm):
    """An address and the language it wants the announcements in."""

    email = EmailField(_l("E-mail address"), filters=[_strip])
    # Without a choice in the request, the page's language given by the view stays.
    language = RadioField(_l("Language of the e-mails"), choices=LANGUAGE_CHOICES)
    submit = SubmitField(_l("Subscribe"))

    def validate_email(self, field: EmailField) -> None:
        """A strict check of the address, with a message in the page's language."""
        if not field.data:
            raise ValidationError(_("Enter your e-mail address."))
        if not is_valid_email(field.data):
            raise ValidationError(
                _("Enter a valid e-mail address, such as %(example)s.", example="name@example.kz")
            )


class CheckForm(PortalForm):
    """The eligibility self-check: account number and BIN/IIN together."""

    account_number = StringField(
        _l("Personal account number"), validators=[DataRequired(), Length(max=32)]
    )
    bin_iin = StringField(
        _l("BIN/IIN"), validators=[DataRequired(), Length(min=12, max=12, message=_l("12 digits."))]
    )
    submit = SubmitField(_l("Check"))


# --- the winner's private page ------------------------------------------------------


class SignatureForm(PortalForm):
    """A detached CMS signature of the act: a file from any NCA tool, or NCALayer's answer."""

    signature = FileField(_l("Signature file (.cms, .p7s)"))
    cms_base64 = HiddenField()
    submit = SubmitField(_l("Send the signature"))


class ManualSigningForm(PortalForm):
    """Rule 11: signing by hand, for a stated reason, with scans."""

    reason = TextAreaField(
        _l("Why the act cannot be signed with an EDS"),
        validators=[DataRequired(), Length(max=2000)],
    )
    signed_act = FileField(_l("The signed act (scan: PDF, JPEG or PNG)"))
    director_id = FileField(_l("The director's identity card (scan)"))
    by_proxy = BooleanField(_l("The act was signed by a person acting under a power of attorney"))
    power_of_attorney = FileField(_l("The power of attorney (scan)"))
    submit = SubmitField(_l("Send for checking"))
