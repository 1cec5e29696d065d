"""EDS checks as sentences in the reader's language (``portal.services.eds``)."""

from __future__ import annotations

import contextlib
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _

from portal.services.eds import Check
from portal.wording.formats import format_moment

MOMENTS = (
    "at",
    "not_after",
    "not_before",
    "revoked_at",
    "produced_at",
    "this_update",
    "next_update",
)


def _params(check: Check) -> dict[str, str]:
    """The check's parameters, its moments (ISO text) as the reader's language writes them."""
    params = dict(check.params)
    for name in MOMENTS:
        with contextlib.suppress(KeyError, TypeError, ValueError):  # not a moment: as it is
            params[name] = format_moment(datetime.fromisoformat(params[name]))
    return params


def _passed(check: Check) -> str:
    p = _params(check)
    if check.name == "cms":
        return _("The file is an EDS signature.")
    if check.name == "certificate":
        return _("The signer's certificate is in the signature.")
    if check.name == "algorithm":
        return _("The signature algorithm is supported: %(algorithm)s.", algorithm=check.detail)
    if check.name == "digest":
        return _("The signature covers exactly this document.")
    if check.name == "signature":
        return _("The signature is mathematically valid.")
    if check.name == "ncanode":
        return _("NCANode confirms the GOST 34.310-2004 signature.")
    if check.name == "trust":
        return _("The certificate was issued by NCA RK.")
    if check.name == "timestamp":
        if p.get("state") == "absent":
            return _("No timestamp: the time of signing is only as stated by the signer.")
        return _(
            "NCA RK's time-stamping service proves the signature existed at %(at)s.",
            at=p.get("at", ""),
        )
    if check.name == "validity":
        return _("The certificate was valid at %(at)s.", at=p.get("at", ""))
    if check.name == "key-usage":
        return _("The certificate is a signing key.")
    if check.name == "bin":
        return _("The certificate belongs to BIN %(bin)s.", bin=p.get("found", ""))
    if check.name == "role":
        return _("The signer may sign for the organisation (%(roles)s).", roles=p.get("roles", ""))
    if check.name == "iin":
        return _("The certificate belongs to IIN %(iin)s.", iin=p.get("found", ""))
    if check.name == "revocation":
        return _revocation_passed(check.params.get("method", ""), p)
    return check.name


def _failed(check: Check) -> str:
    p = _params(check)
    messages = {
        "malformed": _("The file is not an EDS signature, or it is damaged."),
        "no-signer": _("The signature file contains no signer."),
        "no-document": _("The signature is detached: the signed document is needed too."),
        "no-certificate": _("The signer's certificate is missing from the signature."),
        "unsupported-algorithm": _("The signature uses an algorithm the portal cannot check."),
        "gost-2004-unsupported": _(
            "The signature uses GOST 34.310-2004, which the portal cannot check; "
            "sign with an RSA or GOST 2015 key."
        ),
        "digest-mismatch": _(
            "The signature does not match this document: the document or the signature was changed."
        ),
        "bad-signature": _("The signature is not valid."),
        "untrusted": _("The certificate was not issued by NCA RK."),
        "expired": _(
            "The certificate %(certificate)s had expired on %(not_after)s (checked at %(at)s).",
            certificate=p.get("certificate", ""),
            not_after=p.get("not_after", ""),
            at=p.get("at", ""),
        ),
        "not-yet-valid": _(
            "The certificate %(certificate)s was valid only from %(not_before)s "
            "(checked at %(at)s).",
            certificate=p.get("certificate", ""),
            not_before=p.get("not_before", ""),
            at=p.get("at", ""),
        ),
        "not-signing-key": _(
            "The certificate is not a signing key (perhaps the authentication key was used)."
        ),
        "wrong-bin": _(
            "The certificate is not issued to BIN %(expected)s.", expected=p.get("expected", "")
        ),
        "not-legal-entity-role": _(
            "The signer is neither the first head nor a person with the right to sign."
        ),
        "wrong-iin": _(
            "The certificate is not issued to IIN %(expected)s.", expected=p.get("expected", "")
        ),
        "revoked": _("The certificate is revoked."),
        "ocsp-unknown": _("The OCSP service does not know the certificate."),
        "ocsp-unavailable": _("The OCSP service could not be reached; try again later."),
        "ocsp-invalid": _("The OCSP service's answer could not be trusted."),
        "crl-unavailable": _(
            "Neither the OCSP service nor the certificate revocation list could be reached; "
            "try again later."
        ),
        "crl-invalid": _(
            "The OCSP service did not answer and the certificate revocation list could not "
            "be trusted."
        ),
        "crl-stale": _(
            "The OCSP service did not answer and the certificate revocation list is out of "
            "date; try again later."
        ),
        "ncanode-error": _("The NCANode verification service could not be reached."),
        "ncanode-invalid": _("NCANode found the signature not valid."),
        "no-timestamp": _(
            "The signature has no timestamp from NCA RK's time-stamping service, which the "
            "portal requires: sign with NCALayer or eGov Mobile, which add it."
        ),
        "timestamp-invalid": _("The signature's timestamp is damaged or its seal is not valid."),
        "timestamp-mismatch": _("The signature's timestamp was made for another signature."),
        "timestamp-not-tsa": _(
            "The signature's timestamp was not made by a time-stamping service's certificate."
        ),
        "timestamp-untrusted": _(
            "The signature's timestamp was not made by NCA RK's time-stamping service."
        ),
        "timestamp-expired": _(
            "The time-stamping service's certificate was not valid at the timestamp's time."
        ),
    }
    return messages.get(check.code, check.code)


def describe_eds_check(check: Check) -> str:
    """One check as a sentence: what was confirmed, or what is wrong."""
    return _passed(check) if check.ok else _failed(check)


def signing_time_sentence(proven_time: datetime | None, signing_time: datetime | None) -> str:
    """When a signature was made: proven by a timestamp, or only the signer's word."""
    if proven_time is not None:
        return _(
            "Time of signing, proven by NCA RK's timestamp: %(moment)s.",
            moment=format_moment(proven_time),
        )
    if signing_time is not None:
        return _(
            "Time of signing, as stated by the signer (no timestamp): %(moment)s.",
            moment=format_moment(signing_time),
        )
    return _("No time of signing: the signature has no timestamp.")


def _revocation_passed(method: str, p: dict[str, str]) -> str:
    if p.get("revoked_at"):
        return _(
            "The certificate was revoked on %(revoked_at)s, after the time of signing proven "
            "by the timestamp (%(at)s): the signature was made while it was valid.",
            revoked_at=p["revoked_at"],
            at=p.get("at", ""),
        )
    if method == "crl":
        return _(
            "The certificate is not revoked: it is not in the revocation list no. %(number)s "
            "of %(this_update)s.",
            number=p.get("number", ""),
            this_update=p.get("this_update", ""),
        )
    if p.get("how") == "stored":
        return _(
            "The certificate was not revoked: the stored OCSP answer of %(produced_at)s says so.",
            produced_at=p.get("produced_at", ""),
        )
    return _("The certificate is not revoked (OCSP).")


def _revoked_after(facts: dict) -> str:
    """The evidence's revocation after the proven time of signing, if it tells one."""
    if not facts.get("revoked_at"):
        return ""
    moment = facts["revoked_at"]
    with contextlib.suppress(TypeError, ValueError):
        moment = format_moment(datetime.fromisoformat(moment))
    return " " + _(
        "The certificate was revoked on %(revoked_at)s, after the proven time of signing.",
        revoked_at=moment,
    )


def describe_revocation_evidence(method: str, facts: dict) -> str:
    """What proved a stored signature's certificate not revoked, as one sentence."""
    moments = {}
    for name in ("produced_at", "this_update", "next_update"):
        moments[name] = facts.get(name) or ""
        with contextlib.suppress(TypeError, ValueError):
            moments[name] = format_moment(datetime.fromisoformat(moments[name]))
    if method == "ocsp":
        return _(
            "Revocation: the OCSP answer of %(produced_at)s (%(url)s), kept with the signature.",
            produced_at=moments["produced_at"],
            url=facts.get("url") or "",
        ) + _revoked_after(facts)
    if method == "crl":
        text = _(
            "Revocation: the revocation list no. %(number)s of %(this_update)s (next update "
            "%(next_update)s) from %(url)s, SHA-256 %(sha256)s.",
            number=facts.get("number") if facts.get("number") is not None else "—",
            this_update=moments["this_update"],
            next_update=moments["next_update"],
            url=facts.get("url") or "",
            sha256=facts.get("sha256") or "",
        )
        delta = facts.get("delta")
        if delta:
            text += " " + _(
                "With the delta list no. %(number)s, SHA-256 %(sha256)s.",
                number=delta.get("number") if delta.get("number") is not None else "—",
                sha256=delta.get("sha256") or "",
            )
        if facts.get("ocsp_failure"):
            text += " " + _("The OCSP service had failed.")
        return text + _revoked_after(facts)
    return _("Revocation: not checked when the signature was accepted.")


def act_names(number: str) -> dict[str, str]:
    """The act's name in Kazakh, Russian and English, as eGov Mobile shows it."""
    names = {}
    for lang in ("kk", "ru"):
        with force_locale(lang):
            names[lang] = _("Acceptance-transfer act No. %(number)s", number=number)
    names["en"] = f"Acceptance-transfer act No. {number}"
    return names


def protocol_names(draw_id: int) -> dict[str, str]:
    """A draw's Kazakh protocol's name in Kazakh, Russian and English, as eGov Mobile shows
    it to the commission member who signs it."""
    names = {}
    for lang in ("kk", "ru"):
        with force_locale(lang):
            names[lang] = _("Protocol of draw No. %(id)s (in Kazakh)", id=draw_id)
    names["en"] = f"Protocol of draw No. {draw_id} (in Kazakh)"
    return names
