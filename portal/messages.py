"""Campaign decisions as sentences in the reader's language: import problems, eligibility evidence."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from portal.campaign.eligibility import Check
from portal.campaign.imports import Problem


def describe_problem(problem: Problem) -> str:
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
        "already-imported": _(
            "The month received other data meanwhile; start again to replace it."
        ),
        "internal": _(
            "The import stopped on an error of the portal; nothing was stored. The error is logged."
        ),
    }
    text = messages.get(problem.code, problem.code) % {
        "column": problem.column,
        "detail": problem.detail,
    }
    if problem.row:
        return _("Row %(row)s: %(problem)s", row=problem.row, problem=text)
    return text


def condition_name(condition: str) -> str:
    """The name of an eligibility condition."""
    return {
        "app": _("Authorised in the Ismet.kz app"),
        "ekassa": _("E-kassa connected during the campaign"),
        "paid": _("Service paid"),
        "receipts": _("Receipts issued through the app"),
        "legal_form": _("Legal form IE or LLP"),
    }[condition]


def describe_check(check: Check) -> str:
    """The evidence of one condition: what the data says, against what is needed."""
    from portal.i18n import format_day

    v = check.values
    if check.reason == "app-never":
        return _("No authorisation in the app.")
    if check.reason == "app-on":
        return _("Authorised on %(date)s, by the end of the month", date=format_day(v["date"]))
    if check.reason == "app-late":
        return _("Authorised on %(date)s, after the end of the month", date=format_day(v["date"]))
    if check.reason == "ekassa-never":
        return _("No e-kassa connected.")
    if check.reason == "ekassa-before":
        return _("E-kassa connected on %(date)s, before the campaign", date=format_day(v["date"]))
    if check.reason == "ekassa-late":
        return _(
            "E-kassa connected on %(date)s, after the end of the month", date=format_day(v["date"])
        )
    if check.reason == "ekassa-on":
        return _("E-kassa connected on %(date)s, during the campaign", date=format_day(v["date"]))
    if check.reason == "paid":
        return ngettext(
            "%(num)d month paid of %(needed)d needed",
            "%(num)d months paid of %(needed)d needed",
            v["count"],
            needed=v["needed"],
        )
    if check.reason == "receipts":
        return ngettext(
            "%(num)d receipt of %(needed)d needed",
            "%(num)d receipts of %(needed)d needed",
            v["count"],
            needed=v["needed"],
        )
    return _("Legal form: %(form)s", form=v["form"])
