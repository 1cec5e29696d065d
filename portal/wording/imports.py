"""The import format in the reader's language: each column's meaning, whether it is
required, the form of its cells (from the campaign's ``portal.campaign.imports.Layout``)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from portal.campaign.imports import COLUMN, OPTIONAL, VALUE, Column, Layout
from portal.models.mixins import current_language


def column_meaning(column: Column, layout: Layout) -> str:
    """What the column holds: the identity columns and the 2022 campaign's as worded
    here, any other condition's column by its condition's name."""
    worded = {
        "account_number": _(
            "The client's personal account number: once per file, with the same BIN/IIN as in earlier months."
        ),
        "bin_iin": _("The client's BIN or IIN."),
        "legal_form": _(
            "The legal form as in the client's records (IE, LLP, JSC, …); eligibility decides."
        ),
        "company_name": _("The client's name as registered."),
        "director_name": _("The director's full name."),
        "email": _("The client's e-mail address."),
        "phone": _("The client's telephone number."),
        "city": _("The client's city."),
        "app_authorized_on": _("When the client first signed in to the Ismet.kz app."),
        "ekassa_connected_on": _(
            "When the e-kassa was connected at the fiscal data operator of Kazakhtelecom JSC."
        ),
        "paid_months": _("Months of service paid."),
        "receipts_in_period": _("Receipts issued through the app in the month."),
    }
    if column.name in worded:
        return worded[column.name]
    named = layout.names_of.get(column.name, {})
    return named.get(current_language(), column.name)


def column_requirement(column: Column) -> str:
    """Whether the column, and a value in each of its cells, are required."""
    return {
        VALUE: _("Required"),
        COLUMN: _("The column is required; a cell may be empty"),
        OPTIONAL: _("Optional (the column too)"),
    }[column.required]


def column_format(column: Column) -> str:
    """The form a cell must have."""
    if column.kind == "bin_iin":
        return _("12 digits, the last a valid control digit")
    if column.kind == "date":
        return _("A date as YYYY-MM-DD, not in the future")
    if column.kind == "count":
        return _("A whole number, 0 or more")
    if column.kind == "email":
        return ngettext(
            "An e-mail address, at most %(num)d character",
            "An e-mail address, at most %(num)d characters",
            column.limit,
        )
    return ngettext(
        "Text, at most %(num)d character", "Text, at most %(num)d characters", column.limit
    )


def columns_table(layout: Layout) -> list[dict[str, str | bool]]:
    """Every column of a campaign's format, in order, worded: for the import page and the
    templates."""
    return [
        {
            "name": column.name,
            "meaning": column_meaning(column, layout),
            "requirement": column_requirement(column),
            "required": column.required != OPTIONAL,
            "format": column_format(column),
            "example": column.example,
        }
        for column in layout.columns
    ]
