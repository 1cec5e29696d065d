"""A campaign's set-up refusals (``portal.campaign.setup``) as sentences in the reader's
language."""

from __future__ import annotations

from flask_babel import gettext as _

from portal.campaign.conditions import ConditionsRefused
from portal.campaign.setup import SetupRefused
from portal.wording.messages import describe_conditions_refusal


def _field_name(name: str) -> str:
    names = {
        "title_kk": _("the title in Kazakh"),
        "title_ru": _("the title in Russian"),
        "organizer_kk": _("the organizer's name in Kazakh"),
        "organizer_ru": _("the organizer's name in Russian"),
        "territory_kk": _("the territory in Kazakh"),
        "territory_ru": _("the territory in Russian"),
        "slug": _("the address name"),
        "starts_on": _("the first day"),
        "ends_on": _("the last day"),
        "draw_deadline_day": _("the day the draws are due by"),
        "periods": _("the reporting periods"),
    }
    return names.get(name, name)


def describe_setup_refusal(refusal: SetupRefused | ConditionsRefused) -> str:
    """Why a campaign's set-up, or one piece of it, is refused."""
    if isinstance(refusal, ConditionsRefused):
        return describe_conditions_refusal(refusal)
    detail = refusal.detail
    if refusal.code == "field":
        return _("Fill in this field: %(field)s.", field=_field_name(detail))
    if refusal.code == "published-field":
        return _(
            "A published campaign keeps this field, which its rules and addresses name: %(field)s.",
            field=_field_name(detail),
        )
    if refusal.code == "rules":
        if detail == "kk":
            return _("Version 1 of the rules in Kazakh is missing or has no valid clauses.")
        return _("Version 1 of the rules in Russian is missing or has no valid clauses.")
    if refusal.code == "conditions":
        return _(
            "The eligibility conditions: %(why)s",
            why=describe_conditions_refusal(ConditionsRefused(detail)),
        )
    messages = {
        "slug": _(
            "The address name %(detail)s is not allowed: use lower-case Latin letters, digits "
            "and inner hyphens, at most 64, and none of the site's own words."
        ),
        "slug-taken": _("The address name %(detail)s belongs to another campaign already."),
        "dates": _("The first day comes after the last day."),
        "deadline-day": _("The day the draws are due by must be from 1 to 28, not %(detail)s."),
        "commission": _("The commission needs at least one member."),
        "bin": _("The BIN %(detail)s is not 12 digits with a valid control digit."),
        "email": _("The e-mail address %(detail)s is not valid."),
        "published": _(
            "The campaign is published: its conditions and prizes change only through a new "
            "version of its rules."
        ),
        "prize-field": _(
            "The prize at position %(detail)s needs its supplier and its name in Kazakh and "
            "in Russian."
        ),
        "prize-number": _(
            "The prize at position %(detail)s needs a position, a nominal value and a count "
            "greater than zero."
        ),
        "prize-period": _("The campaign has no month %(detail)s."),
        "prize-position": _("Two prizes share position %(detail)s in one month."),
        "period-line": _(
            "Line %(detail)s of the reporting periods is not: first day | last day | name in "
            "Kazakh | name in Russian (the days as YYYY-MM-DD, the names optional)."
        ),
        "periods-none": _("Custom reporting periods need at least one line."),
        "period-days": _("Reporting period %(detail)s ends before it starts."),
        "period-outside": _("Reporting period %(detail)s falls outside the campaign's dates."),
        "period-order": _(
            "Reporting period %(detail)s starts before the one above it: list them in order."
        ),
        "period-overlap": _("Reporting period %(detail)s overlaps the one above it."),
        "periods": _("The campaign has no reporting month: check its dates."),
        "prizes": _("The month %(detail)s has no prize."),
        "all-drawn": _("Every month of the campaign is drawn: no change can apply any more."),
        "prizes-empty": _("A new version cannot leave the months ahead without prizes."),
        "prize-period-drawn": _(
            "The month %(detail)s is drawn or comes before a drawn one: its prizes stay as "
            "they were."
        ),
        "version-published": _("A published version cannot be changed."),
    }
    return messages.get(refusal.code, refusal.code) % {"detail": detail}
