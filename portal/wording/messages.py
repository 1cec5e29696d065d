"""Campaign decisions as sentences in the reader's language: imports, eligibility, draws."""

from __future__ import annotations

import re
from datetime import date

from flask import current_app
from flask_babel import force_locale, format_decimal, ngettext, pgettext
from flask_babel import gettext as _

from portal.campaign import LANGUAGES
from portal.campaign.conditions import Check, Condition, ConditionsRefused, Month, of_campaign
from portal.campaign.draws import Check as DrawCheck
from portal.campaign.draws import DrawRefused, Verdict, month_slots
from portal.campaign.eligibility import MonthFrozen
from portal.campaign.imports import Problem
from portal.campaign.links import Links
from portal.campaign.periods import PeriodNotFound, resolve_period, valid_period_key
from portal.campaign.protocol_signatures import SignatureRefused as ProtocolSignatureRefused
from portal.campaign.winners import Standing, WinnerRefused
from portal.models.mixins import current_language
from portal.services.markup import escape_markdown
from portal.services.randomorg import ERROR_CODES, RandomOrgError
from portal.wording.eds import describe_eds_check
from portal.wording.formats import (
    format_day,
    format_moment,
    format_money,
    format_month,
    format_period,
)
from portal.wording.uploads import describe_upload_refusal

# Problems whose detail is a limit, a number to write as the reader writes numbers.
LIMIT_PROBLEMS = ("too-many-rows", "too-many-columns", "xlsx-too-large", "xlsx-too-many-texts")


def describe_problem(problem: Problem) -> str:
    """One problem as a sentence: where it is and what is wrong."""
    messages = {
        "missing-column": _("The header has no column %(column)s."),
        "duplicate-column": _("The header has the column %(column)s twice."),
        "not-utf8": _("The file is not UTF-8 text (save the CSV as UTF-8) nor an XLSX workbook."),
        "bad-csv": _("The file cannot be read as CSV."),
        "bad-xlsx": _("The file cannot be read as an XLSX workbook."),
        "too-many-rows": _(
            "The file has more than %(detail)s rows after its header: the import takes no more."
        ),
        "too-many-columns": _(
            "The header has more than %(detail)s columns: remove the columns the import does not read."
        ),
        "xlsx-too-large": _(
            "The workbook would unpack to more than %(detail)s MB, or to far more than its own size: save it again, or as CSV (UTF-8)."
        ),
        "xlsx-too-many-texts": _(
            "The workbook holds more than %(detail)s different texts: save it as CSV (UTF-8)."
        ),
        "empty": _("The file is empty."),
        "no-rows": _("The file has a header but no rows."),
        "extra-cells": _("The row has more cells than the header."),
        "nul-character": _("%(column)s contains a NUL character (a damaged file?)."),
        "required": _("%(column)s is empty."),
        "too-long": _("%(column)s is longer than %(detail)s characters."),
        "account-format": _(
            "%(column)s may hold only letters, digits and the signs - / . _ (no spaces, commas or quotes)."
        ),
        "duplicate-account": _("This account number is already in row %(detail)s."),
        "bin-iin-invalid": _("%(column)s is not 12 digits with a valid control digit."),
        "bin-iin-changed": _("This account had another BIN/IIN in an earlier month."),
        "email-format": _("%(column)s is not an e-mail address."),
        "date-format": _("%(column)s is not a date in the form YYYY-MM-DD."),
        "date-invalid": _("%(column)s is not a real date."),
        "date-future": _("%(column)s is in the future."),
        "count-format": _("%(column)s is not a whole number."),
        "count-negative": _("%(column)s is negative."),
        "already-imported": _(
            "The month received other data meanwhile; start again to replace it."
        ),
        "month-drawn": _(
            "The month was drawn meanwhile (draw No. %(detail)s): its data can no longer be replaced."
        ),
        "internal": _(
            "The import stopped on an error of the portal; nothing was stored. The error is logged."
        ),
        "interrupted": _(
            "Interrupted: the worker stopped before the import ended; nothing was stored. Import the file again."
        ),
    }
    detail = problem.detail
    if problem.code in LIMIT_PROBLEMS and detail.isdigit():
        detail = format_decimal(int(detail))  # 1 000 000, as the reader writes numbers
    text = messages.get(problem.code, problem.code) % {
        "column": problem.column,
        "detail": detail,
    }
    if problem.row:
        return _("Row %(row)s: %(problem)s", row=problem.row, problem=text)
    return text


def describe_frozen(refusal: MonthFrozen) -> str:
    """Why a drawn month's data can no longer be imported, replaced or computed again."""
    d = refusal.details
    if refusal.code == "month-drawing":
        return _(
            "A draw of %(month)s is under way since %(time)s (draw No. %(draw)s): its data cannot be imported, replaced or computed again meanwhile.",
            month=format_period(d["period"]),
            time=format_moment(d["drawn_at"]),
            draw=d["draw"],
        )
    return _(
        "%(month)s was drawn on %(date)s (draw No. %(draw)s): its data can no longer be imported, replaced or computed again.",
        month=format_period(d["period"]),
        date=format_day(d["drawn_at"]),
        draw=d["draw"],
    )


# The 2022 campaign's condition codes: a staff page that names a winner's failed
# condition without its campaign at hand (the winner's record) names it so.
NAMES_2022 = ("app", "ekassa", "paid", "receipts", "legal_form")


def condition_name(condition: str | Condition, conditions: list[Condition] | None = None) -> str:
    """The name of an eligibility condition in the reader's language: from the condition
    itself, or its code looked up among ``conditions``; a 2022 code without them."""
    if isinstance(condition, str) and conditions:
        condition = next((c for c in conditions if c.code == condition), condition)
    if isinstance(condition, Condition):
        return condition.name.get(current_language()) or condition.code
    return {
        "app": _("Authorised in the Ismet.kz app"),
        "ekassa": _("E-kassa connected during the campaign"),
        "paid": _("Service paid"),
        "receipts": _("Receipts issued through the app"),
        "legal_form": _("Legal form IE or LLP"),
    }.get(condition, condition)


def condition_sentence(condition: Condition, campaign) -> str:
    """What ``condition`` asks of a participant, as the campaign page's "how to take
    part" states it: its name, then its threshold or deadline, in one sentence."""
    name = condition.name.get(current_language()) or condition.code
    params = condition.params
    if condition.kind == "legal-form-in":
        forms = ", ".join(legal_form_name(form) for form in params["forms"])
        return _("Legal form: %(forms)s.", forms=forms)
    if condition.kind == "date-by-period-end":
        return _("%(name)s: no later than the last day of the reporting month.", name=name)
    if condition.kind == "date-within":
        campaign_dates = Month(campaign.starts_on, campaign.ends_on, campaign.ends_on)
        start = format_day(campaign_dates.end(params["from"]))
        ends = params["to"] if isinstance(params["to"], list) else [params["to"]]
        if "period-end" in ends:
            return _(
                "%(name)s: from %(start)s, no later than the last day of the reporting month.",
                name=name,
                start=start,
            )
        end = format_day(campaign_dates.end(ends))
        return _("%(name)s: from %(start)s to %(end)s.", name=name, start=start, end=end)
    if re.search(rf"(?<!\d){condition.minimum}(?!\d)", name):
        return f"{name.rstrip('.')}."  # its name states its threshold already
    minimum = format_decimal(condition.minimum)
    if condition.kind == "count-at-least":
        return _("%(name)s: at least %(num)s in the reporting month.", name=name, num=minimum)
    return _("%(name)s: at least %(num)s.", name=name, num=minimum)


def prize_of_month(prize) -> str:
    """A prize and how many of it a month gives: "Сертификат Chocomart номиналом
    100 000 ₸ — 2 шт.", as the campaign list and the campaign page show it."""
    return _(
        "%(name)s worth %(value)s — %(num)s pcs.",
        name=prize.tr("name"),
        value=format_money(prize.nominal_kzt),
        num=prize.count_per_period,
    )


def condition_namer(conditions: list[Condition]):
    """``condition_name`` for the pages of one campaign (its codes to its names)."""
    return lambda condition: condition_name(condition, conditions)


class _Facts(dict):
    """A sentence's placeholders: one the data has not is left as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fact(value) -> str:
    if isinstance(value, date):
        return format_day(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return ", ".join(_fact(v) for v in value)
    if value is None:
        return "—"
    return legal_form_name(str(value))


def describe_check(check: Check) -> str:
    """The evidence of one condition, in the condition's own sentence: what the data says,
    against what is needed (dates, numbers and legal forms as the reader writes them)."""
    spec = check.spec
    if spec is None:  # no condition behind it (a winner with no activity on record)
        return ""
    lang = current_language()
    sentences = {
        "holds": spec.holds,
        "fails": spec.fails,
        "missing": spec.missing,
        "early": spec.early,
    }
    sentence = sentences.get(check.reason, {}).get(lang) or spec.fails.get(lang, "")
    facts = _Facts({name: _fact(value) for name, value in check.values.items()})
    try:
        return sentence.format_map(facts)
    except (ValueError, IndexError, AttributeError):  # a sentence with a stray brace
        return sentence


def describe_conditions_refusal(refusal: ConditionsRefused) -> str:
    """Why a campaign's set of eligibility conditions cannot be applied."""
    messages = {
        "none": _("A campaign needs at least one eligibility condition."),
        "kind-unknown": _("The portal knows no condition of the kind %(detail)s."),
        "slot-unknown": _("There is no place %(detail)s to store a condition's figure."),
        "slot-kind": _(
            "The condition %(detail)s is stored in a place meant for another kind of figure."
        ),
        "slot-taken": _(
            "The conditions do not fit: a campaign has at most two date conditions, two number conditions and one legal form condition, each in its own place (%(detail)s takes one already taken)."
        ),
        "code": _("The condition code %(detail)s is empty, too long or used twice."),
        "column": _("The import column %(detail)s is empty, too long or used twice."),
        "legal-form-column": _(
            "The legal form condition reads the import column legal_form, not %(detail)s."
        ),
        "column-identity": _(
            "The import column %(detail)s is one of the client's own columns; name the condition's column otherwise."
        ),
        "name": _("The condition %(detail)s needs its name in Kazakh and in Russian."),
        "sentences": _(
            "The condition %(detail)s needs its sentences for a condition met and not met, in Kazakh and in Russian."
        ),
        "parameters": _("The parameters of the condition %(detail)s are not valid for its kind."),
    }
    return messages.get(refusal.code, refusal.code) % {"detail": refusal.detail}


def legal_form_name(form: str) -> str:
    """A legal form as the reader's language abbreviates it: ЖК / ИП, ЖШС / ТОО, АҚ / АО;
    any other form (a cooperative, ...) as the import gave it."""
    names = {"IE": _("IE"), "LLP": _("LLP"), "JSC": _("JSC")}
    return names.get(form.strip().upper(), form)


# A legal form written into a registered name, in any of the languages ("ТОО «Ромашка»").
NAME_WITH_FORM = re.compile(r"(?<!\w)(?:ЖК|ЖШС|АҚ|ИП|ТОО|АО|IE|LLP|JSC)(?!\w)")


def company_title(name: str, form: str) -> str:
    """A company as the reader's language names it, its registered name said once:
    "ТОО «Салон Жумабаев»" / "«Салон Жумабаев» ЖШС".

    A name that carries its legal form already, or whose form has no abbreviation here,
    is shown as registered, nothing added. Where a page has its own legal form column,
    it shows the registered name alone beside ``legal_form_name``.
    """
    name = name.strip()
    label = legal_form_name(form)
    if label == form or NAME_WITH_FORM.search(name):
        return name
    if name[:1] in '«"“':
        return _("%(form)s %(name)s", form=label, name=name)
    return _("%(form)s “%(name)s”", form=label, name=name)


def month_of_key(key: str | None) -> str:
    """A reporting period's key as a sentence says it: a month (``2022-09``) as
    ``сентябрь 2022 г.``; a custom period (``2023-03-01``) by ``format_period`` (by its
    first day when several campaigns have a period of that key)."""
    if not key:
        return ""
    if len(key) == 7:
        year, month = key.split("-")
        return format_month(int(year), int(month), in_text=True)
    try:
        return format_period(resolve_period(key), in_text=True)
    except PeriodNotFound:
        return format_day(date.fromisoformat(key)) if valid_period_key(key) else key


def describe_refusal(refusal: DrawRefused) -> str:
    """Why a draw was not made."""
    d = {**refusal.details, "month": month_of_key(refusal.details.get("month"))}
    messages = {
        "month-not-ended": lambda: _(
            "The month %(month)s has not ended yet: its draw is held after its last day.",
            month=d.get("month"),
        ),
        "no-eligibility": lambda: _(
            "Eligibility for %(month)s has not been computed: import the month's data first.",
            month=d.get("month"),
        ),
        "already-drawn": lambda: (
            _(
                "The prizes of %(month)s have already been drawn; a new draw can only be a redraw.",
                month=d.get("month"),
            )
            if (d.get("prizes") or 1) > 1
            else _(
                "The prize of %(month)s has already been drawn; a new draw can only be a redraw.",
                month=d.get("month"),
            )
        ),
        "no-prizes": lambda: _(
            "The campaign's rules set no prize for %(month)s.", month=d.get("month")
        ),
        "already-replaced": lambda: _(
            "Draw %(draw)s has already been replaced by a redraw.", draw=d.get("draw")
        ),
        "redraw-reason-required": lambda: _("A redraw needs its reason, in Kazakh and in Russian."),
        "fallback-admin-only": lambda: _("Only an administrator may choose the local fallback."),
        "fallback-reason-required": lambda: _(
            "Drawing without random.org needs its reason, in Kazakh and in Russian."
        ),
        "commission-too-small": lambda: _(
            "At least %(minimum)s commission members must be present, each with a name and a position in Kazakh and in Russian.",
            minimum=d.get("minimum"),
        ),
        "place-required": lambda: _("Say where the draw is held, in Kazakh and in Russian."),
        "late-reason-required": lambda: _(
            "The deadline for this draw was %(deadline)s: a late draw needs a written reason, in Kazakh and in Russian.",
            deadline=format_day(d.get("deadline")),
        ),
        "pool-changed": lambda: _(
            "The pool changed after it was shown (eligibility was recomputed?): look at it again before confirming."
        ),
        "empty-pool": lambda: _(
            "Nobody is eligible in %(month)s: there is nobody to draw.", month=d.get("month")
        ),
        "winner-standing": lambda: _(
            "The winner of draw %(draw)s has not fallen away: a prize is drawn again only after a failed check, ten days of silence or a forfeit (rules 8, 9 and 12).",
            draw=d.get("draw"),
        ),
        "draw-in-progress": lambda: (
            _(
                "A draw of %(month)s is under way (started by %(by)s at %(since)s): wait for its outcome on the draws page. If it is never recorded, its reservation lapses at %(until)s.",
                month=d.get("month"),
                by=d.get("by") or "—",
                since=format_moment(d.get("since")),
                until=format_moment(d.get("until")),
            )
            if d.get("since")
            else _(
                "Another draw of %(month)s was confirmed at the same moment and is under way: wait for its outcome on the draws page.",
                month=d.get("month"),
            )
        ),
        "not-announced": lambda: _(
            "The pool of this draw of %(month)s has not been announced: announce it first; the draw may be confirmed once its waiting time has passed.",
            month=d.get("month"),
        ),
        "announcement-spent": lambda: _(
            "An attempt at this draw of %(month)s received random.org's answer and failed: the pool must be announced again (a new time) before the next attempt.",
            month=d.get("month"),
        ),
        "not-the-announced-pool": lambda: _(
            "The pool to draw is not the one announced at %(since)s (its SHA-256 differs: the month's data changed?). Announce the new pool; the draw may be confirmed after its waiting time.",
            since=format_moment(d.get("since")),
        ),
        "announcement-wait": lambda: _(
            "The pool was announced at %(since)s: the draw may be confirmed from %(until)s, not before.",
            since=format_moment(d.get("since")),
            until=format_moment(d.get("until")),
        ),
        "already-announced": lambda: _(
            "This pool was already announced at %(since)s; the draw may be confirmed from %(until)s.",
            since=format_moment(d.get("since")),
            until=format_moment(d.get("until")),
        ),
        "attempt-expired": lambda: _(
            "random.org answered too late: the reservation of this draw of %(month)s had lapsed, so nothing was recorded. Conduct the draw again.",
            month=d.get("month"),
        ),
    }
    return messages.get(refusal.code, lambda: refusal.code)()


def describe_attempt(attempt) -> str:
    """Why a draw attempt did not become a draw (a ``DrawAttempt``), for the staff."""
    if attempt.state == "pending":
        return _(
            "Under way: waiting for random.org's answer; the reservation lapses at %(until)s.",
            until=format_moment(attempt.expires_at),
        )
    if attempt.failure == "expired":
        return _(
            "Lapsed: no answer was recorded before %(until)s (the process that made it stopped?).",
            until=format_moment(attempt.expires_at),
        )
    if attempt.failure == "internal":
        return _("Failed: an error of the portal (see its log).")
    if attempt.failure in ERROR_CODES:
        return describe_random_org_error(RandomOrgError(attempt.failure))
    return describe_refusal(DrawRefused(attempt.failure, month=attempt.period.key))


def describe_random_org_error(error: RandomOrgError) -> str:
    """What went wrong with random.org, and what the staff can do about it."""
    messages = {
        "no-key": _(
            "No random.org API key is configured (RANDOM_ORG_API_KEY): the draw cannot use random.org."
        ),
        "key-unknown": _("random.org does not know the configured API key."),
        "key-not-running": _(
            "The random.org API key is not running: start it in the random.org account."
        ),
        "key-not-permitted": _(
            "The random.org API key may not make signed requests of this API release."
        ),
        "requests-exceeded": _("The random.org API key has no requests left for today."),
        "bits-exceeded": _("The random.org API key has no random bits left for today."),
        "invalid-parameters": _("random.org refused the request's parameters."),
        "invalid-request": _("random.org did not accept the request."),
        "service-error": _("random.org reported an error of its own."),
        "offline": _("random.org cannot be reached at the moment."),
        "timeout": _("random.org did not answer in time."),
        "malformed": _("random.org's answer was not a valid signed result for this request."),
        "bad-signature": _(
            "random.org's answer does not carry a valid signature of the configured key."
        ),
    }
    text = messages.get(error.code, error.code)
    return _("%(problem)s No draw was made.", problem=text)


def describe_draw_check(check: DrawCheck) -> tuple[str, str]:
    """One step of a draw's verification: what is checked, and what was found."""
    titles = {
        "pool-digest": _("The pool file's SHA-256 is the pool digest"),
        "pool-size": _("The pool file has as many entries as the pool"),
        "user-data": _("The signed result names this draw, its month, its pool digest and size"),
        "request": _("The signed result asked for distinct numbers from 1 to the pool size"),
        "signature": _("The signature verifies (RSA, SHA-512)"),
        "random-org-key": _("The signing key is random.org's"),
        "winners": _("The winners are the pool positions of the numbers drawn"),
        "prizes": _(
            "Each number took its prize in the published order: the first numbers the first prize, as many as it counts, and so on"
        ),
        "protocol": _("The protocol is the one stored at the draw"),
        "local-fallback": _("Randomness from random.org"),
        "ledger": _(
            "No other random.org answer of the key lies between the pool's announcement and the draw"
        ),
    }
    if check.code in ("protocol-signature", "protocol-paper"):
        return describe_protocol_check(check)
    if check.code == "ledger":
        found = describe_ledger_check(check.detail)
    elif check.code == "local-fallback":
        found = _("No: drawn locally (Python's secrets) by the administrator's decision.")
    elif check.code == "random-org-key":
        found = (
            _("Yes (key SHA-256 %(fingerprint)s).", fingerprint=check.detail)
            if check.ok
            else _(
                "No: signed with another key (SHA-256 %(fingerprint)s), such as the test stand-in's. This draw proves nothing about random.org.",
                fingerprint=check.detail,
            )
        )
    else:
        found = _("Yes") if check.ok else _("No")
    return titles.get(check.code, check.code), found


def describe_ledger_check(found: str) -> str:
    """What the ledger check found (``portal.campaign.ledger.check``)."""
    sentences = {
        "first-answer": _("Yes: the draw's answer is the key's first, nothing precedes it."),
        "previous-before-announcement": _(
            "Yes: the key's answer just before the draw's was made before the pool was announced."
        ),
        "not-applicable": _(
            "Not applicable: this draw was made before pools were announced ahead of the draw."
        ),
        "answer-before-announcement": _(
            "No: the draw's own answer was made before the pool was announced: its numbers were known before the pool was published."
        ),
        "no-previous-answer": _(
            "No: the key's answer just before the draw's is not on the portal's record."
        ),
        "other-key": _("No: the previous answer is of another key."),
        "not-consecutive": _(
            "No: the previous answer's serial number is not the one before the draw's."
        ),
        "bad-signature": _("No: the previous answer's signature does not verify."),
        "bad-time": _("No: the previous answer has no valid completion time."),
        "previous-after-announcement": _(
            "No: another answer of the key was made after the pool was announced, before the draw."
        ),
    }
    return sentences.get(found, found)


def describe_protocol_check(check: DrawCheck) -> tuple[str, str]:
    """A commission member's signature of the protocol, as the draw's verification lists it
    (``protocol_signatures.checks``): an EDS one checked again, a paper one listed."""
    member, _sep, failure = check.detail.partition("|")
    if check.code == "protocol-paper":
        return (
            _("%(member)s signed the printed protocol", member=member),
            _("On paper: listed, it cannot be checked online."),
        )
    title = _("The EDS signature of %(member)s verifies over the Kazakh protocol", member=member)
    if check.ok:
        return title, _("Yes")
    reasons = {
        "cms-changed": _("No: the stored signature file is not the one accepted."),
        "protocol-changed": _("No: the protocol is not the one that was signed."),
        "other-certificate": _("No: it is not the certificate that was accepted."),
        "not-individual": _("No: the certificate is a legal entity's, not a person's."),
        "wrong-name": _("No: the certificate names another person."),
    }
    return title, reasons.get(
        failure,
        _("No: the signature does not verify over the protocol (%(code)s).", code=failure),
    )


def describe_protocol_refusal(refusal) -> str:
    """Why a member's signature of the protocol was not accepted
    (``protocol_signatures.SignatureRefused``); nothing was stored."""
    d = refusal.details
    messages = {
        "unknown-member": lambda: _("Choose a member of this draw's commission."),
        "already-signed": lambda: _(
            "%(member)s has already signed this protocol: a signature is never replaced.",
            member=d.get("member"),
        ),
        "no-protocol": lambda: _("This draw has no stored protocol in Kazakh to sign."),
        "bad-signature-file": lambda: _(
            "The file is not a signature (CMS, .cms or .p7s) or is too large."
        ),
        "eds-refused": lambda: _("The signature was not accepted: see why below."),
        "not-individual": lambda: _(
            "The signature was made with a legal entity's certificate (%(signer)s): a commission member signs with a personal certificate.",
            signer=d.get("signer"),
        ),
        "wrong-name": lambda: _(
            "The certificate is %(signer)s's, not %(member)s's: each member signs with a certificate in their own name.",
            signer=d.get("signer"),
            member=d.get("member"),
        ),
    }
    return messages.get(refusal.code, lambda: refusal.code)()


def describe_signing_failure(check) -> str:
    """A failed check of an EDS signature (``eds.Check``), or of a commission member's
    identity (``identity``: a legal entity's certificate, another person's name)."""
    if check.name == "identity":
        return describe_protocol_refusal(ProtocolSignatureRefused(check.code, **check.params))
    return describe_eds_check(check)


def describe_verdict(verdict: Verdict) -> str:
    """What a draw's verification comes to, the same sentence on the public record, the
    staff's draw page and in ``flask draw verify``."""
    if verdict.code == "verified-random-org":
        return _(
            "Verified: the winners come from this pool and from numbers random.org signed for it."
        )
    if verdict.code == "verified-other-key":
        return _(
            "Not verified by random.org: the record holds together, but it was signed by another key (SHA-256 %(fingerprint)s), not random.org's. It proves nothing about the randomness of the numbers: a demonstration or test draw.",
            fingerprint=verdict.key_sha256 or "—",
        )
    if verdict.code == "local-fallback":
        return _(
            "Cannot be verified: this draw was made without random.org, with the local fallback, and has no signed randomness to check."
        )
    return _("Verification FAILED: this record does not hold together.")


def describe_changed_verdict(previous: Verdict, draw_id: int) -> str:
    """Said loudly to staff (and by ``flask draw verify``) when a draw verified again
    no longer gives the verdict kept for it."""
    return _(
        "The verdict has CHANGED since the last verification (it was: %(previous)s). Something in the stored record of draw No. %(id)s is no longer as it was; this is recorded in the audit trail.",
        previous=describe_verdict(previous),
        id=draw_id,
    )


# --- campaigns ----------------------------------------------------------------------


def campaign_status_name(status: str) -> str:
    """Whether a campaign is on the public site yet, as staff read it."""
    names = {
        "draft": pgettext("campaign status", "Draft"),
        "published": pgettext("campaign status", "Published"),
    }
    return names.get(status, status)


# --- winners ------------------------------------------------------------------------


def winner_status_name(status: str) -> str:
    """A winner's step, as staff and the winner read it."""
    names = {
        "drawn": _("Drawn, being verified"),
        "verified": _("Verified"),
        "disqualified": _("Disqualified"),
        "contacted": _("In touch"),
        "no_response": _("No response within 10 days"),
        "act_issued": _("Act issued"),
        "act_signed": _("Act signed"),
        "forfeited": _("Prize forfeited"),
        "delivered": _("Prize delivered"),
        "published": _("Published with photo"),
    }
    return names.get(status, status)


def winner_outcome_name(outcome: str, conditions: list[Condition] | None = None) -> str:
    """Why a winner fell away: the failed condition (by its name among ``conditions``,
    the winner's campaign's), silence, or the rule 12 reason."""
    if any(c.code == outcome for c in conditions or ()) or outcome in (*NAMES_2022, "activity"):
        return _("Condition not met: %(condition)s", condition=condition_name(outcome, conditions))
    names = {
        "manual": _("Failed the manual checks"),
        "no-response": _("Did not get in touch within 10 days of the draw (rule 9)"),
        "no-identity-document": _("No identity document (rule 12)"),
        "refused-to-sign": _("Refused to sign the act (rule 12)"),
    }
    return names.get(outcome, outcome)


def winner_outcome(winner) -> str:
    """Why ``winner`` fell away, a failed condition named as its campaign names it."""
    return winner_outcome_name(winner.outcome, of_campaign(winner.period.campaign))


def winner_standing(standing: Standing) -> str:
    """Where a winner's prize stands, as the public record, the month page, the winner's
    self-check and the staff's pages all say it: rules named, nothing personal."""
    if standing.code == "fell-away":
        reason = standing.reason
        if standing.condition is not None or reason in NAMES_2022:
            why = _(
                "Disqualified at the check (rule 8): the condition \u201c%(condition)s\u201d is not met.",
                condition=condition_name(standing.condition or reason),
            )
        elif reason == "activity":
            why = _("Disqualified at the check (rule 8): no activity of the month is on record.")
        elif reason == "manual":
            why = _("Disqualified at the check (rule 8): the organizer's checks were not passed.")
        elif reason == "no-response":
            why = _("Fell away: did not get in touch within 10 days of the draw (rule 9).")
        elif reason == "no-identity-document":
            why = _("Prize forfeited: no identity document was presented (rule 12).")
        elif reason == "refused-to-sign":
            why = _("Prize forfeited: the act was not signed (rule 12).")
        else:
            why = _("Fell away.")
        then = (
            _("The prize was drawn again in draw No. %(id)s.", id=standing.redraw_id)
            if standing.redraw_id
            else _("The prize will be drawn again.")
        )
        return f"{why} {then}"
    if standing.code == "published":
        if standing.delivered_on:
            return _(
                "Verified and published; the prize was handed over on %(date)s.",
                date=format_day(standing.delivered_on),
            )
        return _("Verified and published; the prize is being handed over.")
    if standing.code == "delivered":
        return _(
            "Verified; the prize was handed over on %(date)s.",
            date=format_day(standing.delivered_on),
        )
    if standing.code == "handing-over":
        return _("Verified; the act and the handing over of the prize are under way.")
    if standing.code == "verified":
        return _("Verified; waiting for the winner to get in touch (rule 9).")
    return _("Drawn; being verified against the rules (rule 8).")


def redraw_reasons(winners) -> dict[str, str]:
    """The reason offered for the redraw after ``winners`` fell away, in each of the
    campaign's languages: the public record and the protocol show the reader's own."""
    reasons = {}
    for lang in LANGUAGES:
        with force_locale(lang):
            reasons[lang] = " ".join(redraw_reason(w) for w in winners)
    return reasons


def redraw_reason(winner) -> str:
    """The reason offered to the commission for the redraw after ``winner`` fell away.

    It goes to the public record, so it names the rule, not the staff's notes (which
    may speak of the company's affairs): the commission may add to it.
    """
    return _(
        "The winner drawn in draw No. %(draw)s fell away: %(outcome)s.",
        draw=winner.draw_id,
        outcome=winner_outcome_name(winner.outcome),
    )


def contact_channel_name(channel: str) -> str:
    names = {
        "phone": _("Phone call"),
        "email": _("E-mail"),
        "sms": _("SMS"),
        "messenger": _("Messenger"),
        "office": _("At the office"),
    }
    return names.get(channel, channel)


def delivery_method_name(method: str) -> str:
    names = {
        "electronic": _("Electronically (certificate code sent)"),
        "office": _("In person at a B2B sales office"),
    }
    return names.get(method, method)


def describe_winner_refusal(refusal: WinnerRefused) -> str:
    """Why a step in a winner's life cycle was not taken."""
    d = refusal.details
    messages = {
        "not-allowed": lambda: _(
            "A winner at the step \u201c%(status)s\u201d cannot move to \u201c%(to)s\u201d.",
            status=winner_status_name(d.get("status", "")),
            to=winner_status_name(d.get("to", "")),
        ),
        "note-required": lambda: _("Write down what was checked and found."),
        "contact-closed": lambda: _(
            "The contact step is closed: the winner has answered or has left it (%(status)s).",
            status=winner_status_name(d.get("status", "")),
        ),
        "bad-channel": lambda: _("Choose how the winner was contacted."),
        "bad-date": lambda: _(
            "The date must be between %(start)s and %(end)s.",
            start=format_day(d.get("start")),
            end=format_day(d.get("end")),
        ),
        "answer-too-late": lambda: _(
            "The winner had to get in touch by %(deadline)s (rule 9): an answer after that does not count. Mark the winner as not responding.",
            deadline=format_day(d.get("deadline")),
        ),
        "contact-not-due": lambda: _(
            "The winner has until %(deadline)s to get in touch (rule 9).",
            deadline=format_day(d.get("deadline")),
        ),
        "bad-forfeit-reason": lambda: _("Choose why the prize is forfeited."),
        "bad-delivery-method": lambda: _(
            "The certificate is handed over electronically or at a B2B sales office (rule 13); no cash or other prize (rule 15)."
        ),
        "office-required": lambda: _(
            "Name the sales office and the staff member who handed it over."
        ),
        "not-verified": lambda: _("Only a verified winner can be published."),
        "already-published": lambda: _("This winner is already published."),
        "not-delivered": lambda: _(
            "The photo with the certificate is added once the prize is delivered."
        ),
        "not-published": lambda: _("Publish the winner first."),
    }
    return messages.get(refusal.code, lambda: refusal.code)()


def deadline_text(item) -> str:
    """One line of what is due: what, for whom, by when."""
    month = format_period(item.period, in_text=True)
    participant = item.winner.participant if item.winner else None
    company = company_title(participant.company_name, participant.legal_form) if participant else ""
    texts = {
        "draw": lambda: _(
            "Draw of %(month)s, due by %(date)s (rule 5)", month=month, date=format_day(item.due)
        ),
        "verification": lambda: _(
            "Verify %(company)s, winner of %(month)s, by %(date)s (rule 8)",
            company=company,
            month=month,
            date=format_day(item.due),
        ),
        "contact": lambda: _(
            "%(company)s, winner of %(month)s, must get in touch by %(date)s (rule 9)",
            company=company,
            month=month,
            date=format_day(item.due),
        ),
        "redraw": lambda: _(
            "Redraw the prize of %(month)s: %(company)s fell away (%(outcome)s)",
            month=month,
            company=company,
            outcome=winner_outcome_name(item.winner.outcome),
        ),
    }
    return texts[item.kind]()


def month_state_name(state: str) -> str:
    """How a reporting month stands (``portal.campaign.months``), as the dashboard says it."""
    names = {
        "running": _("month running"),
        "draw-due": _("draw due"),
        "draw-due-soon": _("draw due soon"),
        "draw-overdue": _("draw overdue"),
        "being-verified": _("drawn, winner being verified"),
        "awaiting-redraw": _("winner fell away, redraw due"),
        "verified-unpublished": _("drawn, winner verified"),
        "published": _("winner published"),
    }
    return names.get(state, state)


def announcement_state_name(state: str) -> str:
    """What became of a pool's announcement (``PoolAnnouncement.state``)."""
    names = {
        "announced": _("announced, to be drawn"),
        "drawn": _("drawn"),
        "withdrawn": _("withdrawn: another pool announced"),
        "spent": _("spent: an attempt received random.org's answer and failed"),
    }
    return names.get(state, state)


def deadline_state_name(state: str) -> str:
    names = {
        "overdue": _("overdue"),
        "today": _("due today"),
        "soon": _("due soon"),
        "later": _("later"),
    }
    return names.get(state, state)


def rules_change_titles(number: int) -> dict[str, str]:
    """The title of the announcement of rules version ``number``, in every language."""
    titles = {}
    for lang in current_app.config["LANGUAGES"]:
        with force_locale(lang):
            titles[lang] = _("The rules have changed: version %(number)s", number=number)
    return titles


def winner_announcement(winner, links: Links) -> tuple[dict[str, str], dict[str, str]]:
    """The news item that publishes a winner, in every language: titles and bodies,
    linking to the public record of its draw (``links.draw_record``).

    The bodies are Markdown (for the link); the data in them (company, city, account,
    prize) is escaped, so an imported ``[x](https://…)`` is shown, never made a link.
    """
    titles, bodies = {}, {}
    participant, period, prize = winner.participant, winner.period, winner.prize
    several = len(month_slots(period)) > 1  # a month of several prizes: titled by each
    for lang in current_app.config["LANGUAGES"]:
        with force_locale(lang):
            month = format_period(period, lang, in_text=True)
            titles[lang] = (
                _(
                    "The winner of %(month)s: a prize of %(amount)s",
                    month=month,
                    amount=format_money(prize.nominal_kzt, lang),
                )
                if several
                else _("The winner of %(month)s", month=month)
            )
            sentences = [
                _winner_named(participant, month),
                _(
                    "The prize is %(prize)s with a nominal value of %(amount)s.",
                    prize=escape_markdown(in_sentence(prize.tr("name", lang))),
                    amount=format_money(prize.nominal_kzt, lang),
                ),
                _(
                    "The winner's account: %(account)s; city: %(city)s.",
                    account=escape_markdown(participant.account_masked),
                    city=escape_markdown(participant.city) or "—",
                ),
                _(
                    "[The public record of the draw](%(url)s) shows how the winner was drawn.",
                    url=links.draw_record(winner.draw_id, lang),
                ),
            ]
            bodies[lang] = " ".join(sentences)
    return titles, bodies


def _winner_named(participant, month: str) -> str:
    # Russian makes the verb agree with the legal form: "стало ТОО", "стал ИП".
    # data from the import, put into Markdown: escaped, so it reads as the text it is
    company = escape_markdown(company_title(participant.company_name, participant.legal_form))
    form = participant.legal_form.strip().upper()
    if form == "LLP":
        return pgettext(
            "a partnership",
            "The winner of the draw for %(month)s is %(company)s.",
            month=month,
            company=company,
        )
    if form == "IE":
        return pgettext(
            "an entrepreneur",
            "The winner of the draw for %(month)s is %(company)s.",
            month=month,
            company=company,
        )
    return _("The winner of the draw for %(month)s is %(company)s.", month=month, company=company)


def in_sentence(name: str) -> str:
    """A name that opens with a common noun ("Сертификат Chocomart"), as written within a
    sentence ("сертификат Chocomart"); a brand, an acronym or a Latin word stays as it is."""
    first = name.split(" ", 1)[0]
    if len(first) > 1 and re.fullmatch(r"[А-ЯЁӘҒҚҢӨҰҮҺІ][а-яёәғқңөұүһі]+", first):
        return name[:1].lower() + name[1:]
    return name


# --- acts ---------------------------------------------------------------------------


def identity_document_name(kind: str) -> str:
    return {"id_card": _("Identity card"), "passport": _("Passport")}.get(kind, kind)


def winner_file_name(kind: str) -> str:
    names = {
        "signed_act": _("Signed act (scan)"),
        "director_id": _("Director's identity card"),
        "power_of_attorney": _("Power of attorney"),
        "organizer_director_id": _("Organizer's director's identity card"),
    }
    return names.get(kind, kind)


def describe_act_refusal(refusal) -> str:
    """Why a step on the act was not taken."""

    d = refusal.details
    messages = {
        "not-verified": lambda: _("The winner has not been verified yet."),
        "bad-document-type": lambda: _("Choose the type of the identity document."),
        "document-date-future": lambda: _("The document's date of issue is in the future."),
        "act-closed": lambda: _("The act can no longer be changed or signed at this step."),
        "identity-required": lambda: _(
            "The director and the identity document must be entered before the act is issued."
        ),
        "not-in-touch": lambda: _(
            "The act is issued once the winner is verified and in touch (now: %(status)s).",
            status=winner_status_name(d.get("status", "")),
        ),
        "correction-reason-required": lambda: _(
            "A corrected act needs the reason for the correction."
        ),
        "submission-open": lambda: _("A submission is already waiting for the staff's decision."),
        "reason-required": lambda: _("Give the reason."),
        "file-required": lambda: _("Attach: %(file)s.", file=winner_file_name(d.get("kind", ""))),
        "bad-file": lambda: _(
            "%(file)s: %(problem)s",
            file=winner_file_name(d.get("kind", "")),
            problem=describe_upload_refusal(d["refusal"]),
        ),
        "submission-closed": lambda: _("This submission has already been decided."),
        "organizer-card-required": lambda: _(
            "Upload the organizer's director's identity card before accepting (rule 11)."
        ),
        "bad-signature-file": lambda: _(
            "The file is not a signature file (.cms, .p7s): choose the file your EDS tool saved."
        ),
    }
    return messages.get(refusal.code, lambda: refusal.code)()


def pool_announcement_news(announcement) -> dict[str, dict[str, str]]:
    """The news item that publishes an announced pool, in every language: its title and
    body (Markdown), giving the pool's size, SHA-256, the time and the earliest time of
    the draw (``campaign.draws.announce``'s ``news``)."""
    period = announcement.period
    worded: dict[str, dict[str, str]] = {"title": {}, "body": {}}
    for lang in current_app.config["LANGUAGES"]:
        with force_locale(lang):
            month = format_period(period, lang, in_text=True)
            if announcement.replaces_id is None:
                title = _("The pool of the draw of %(month)s is announced", month=month)
            else:
                title = _(
                    "The pool of the redraw of %(month)s is announced (it replaces draw No. %(draw)s)",
                    month=month,
                    draw=announcement.replaces_id,
                )
            sentences = [
                ngettext(
                    "The draw of %(month)s will be made over a pool of %(num)d participant.",
                    "The draw of %(month)s will be made over a pool of %(num)d participants.",
                    announcement.pool_size,
                    month=month,
                ),
                _(
                    "The SHA-256 of its pool file: `%(sha256)s`, announced at %(time)s.",
                    sha256=announcement.pool_sha256,
                    time=format_moment(announcement.announced_at, lang),
                ),
                _(
                    "To be drawn not before %(time)s, over exactly this pool: the draw's public record will give the same SHA-256, and random.org signs it with the numbers drawn.",
                    time=format_moment(announcement.not_before, lang),
                ),
            ]
            worded["title"][lang] = title
            worded["body"][lang] = " ".join(sentences)
    return worded
