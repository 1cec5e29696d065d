"""Forms both the public site and the staff area show."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectChoice, StringField, SubmitField
from wtforms.validators import DataRequired, Length


class IdentityForm(FlaskForm):
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
