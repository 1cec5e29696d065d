"""EDS checks as sentences in the reader's language (``portal.services.eds``)."""

from __future__ import annotations

import contextlib
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _

from portal.services.eds import Check
from portal.wording.formats import format_moment

MOMENTS = ("at", "not_after", "not_before", "revoked_at")


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
        return _("The file is a CMS signature.")
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
        return _("The certificate is not revoked (OCSP).")
    return check.name


def _failed(check: Check) -> str:
    p = _params(check)
    messages = {
        "malformed": _("The file is not a valid CMS signature."),
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
        "ncanode-error": _("The NCANode verification service could not be reached."),
        "ncanode-invalid": _("NCANode found the signature not valid."),
    }
    return messages.get(check.code, check.code)


def describe_eds_check(check: Check) -> str:
    """One check as a sentence: what was confirmed, or what is wrong."""
    return _passed(check) if check.ok else _failed(check)


def act_names(number: str) -> dict[str, str]:
    """The act's name in Kazakh, Russian and English, as eGov Mobile shows it."""
    names = {}
    for lang in ("kk", "ru"):
        with force_locale(lang):
            names[lang] = _("Acceptance-transfer act No. %(number)s", number=number)
    names["en"] = f"Acceptance-transfer act No. {number}"
    return names
