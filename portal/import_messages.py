"""The problems of an activity import, in the reader's language (pages and commands)."""

from __future__ import annotations

from flask_babel import gettext as _

from portal.campaign.imports import Problem


def describe(problem: Problem) -> str:
    """One problem as a sentence: where it is and what is wrong."""
    messages = {
        "missing-column": _("The header has no column %(column)s."),
        "duplicate-column": _("The header has the column %(column)s twice."),
        "not-utf8": _("The file is not UTF-8 text (save the CSV as UTF-8) nor an XLSX workbook."),
        "bad-csv": _("The file cannot be read as CSV."),
        "bad-xlsx": _("The file cannot be read as an XLSX workbook."),
        "empty": _("The file is empty."),
        "no-rows": _("The file has a header but no rows."),
        "extra-cells": _("The row has more cells than the header."),
        "required": _("%(column)s is empty."),
        "too-long": _("%(column)s is longer than %(detail)s characters."),
        "duplicate-account": _("This account number is already in row %(detail)s."),
        "bin-iin-invalid": _("%(column)s is not 12 digits with a valid control digit."),
        "bin-iin-changed": _("This account had another BIN/IIN in an earlier month."),
        "legal-form": _("%(column)s must be IE or LLP."),
        "email-format": _("%(column)s is not an e-mail address."),
        "date-format": _("%(column)s is not a date in the form YYYY-MM-DD."),
        "date-invalid": _("%(column)s is not a real date."),
        "date-future": _("%(column)s is in the future."),
        "count-format": _("%(column)s is not a whole number."),
        "count-negative": _("%(column)s is negative."),
    }
    text = messages.get(problem.code, problem.code) % {"column": problem.column, "detail": problem.detail}
    if problem.row:
        return _("Row %(row)s: %(problem)s", row=problem.row, problem=text)
    return text
