"""Revocation status of a certificate from its CA's certificate revocation list (RFC 5280).

NCA RK's OCSP responder is known to answer "try again"; its CAs also publish CRLs, named
in each certificate's CRL distribution points (and a delta CRL in its "freshest CRL"
extension). ``check`` fetches the CRL over HTTP (with a timeout and a size limit), keeps
it in a cache folder keyed by its URL and reuses it until its nextUpdate, and counts it
only when:

- its issuer is the certificate's issuer (name, and authority key identifier when given)
  and its signature verifies with the issuer's key (RSA or GOST 34.10-2015, as
  ``crypto`` checks certificates);
- it is fresh: thisUpdate not in the future (``SKEW`` allowed), nextUpdate present and
  not passed;
- it covers every certificate (no issuing distribution point limiting it to CA or
  attribute certificates, or to some reasons) and has no critical extension unknown here.

Then the certificate's serial number is looked up. A delta CRL is used when the
certificate names one and it can be fetched and checked: a serial it lists is revoked
(or released, "removeFromCRL", from a hold); a delta that cannot be had leaves the full
CRL's answer, which is fresh on its own. ``Outcome.facts`` is the evidence kept with an
accepted signature: URL, CRL number, thisUpdate, nextUpdate and SHA-256 of each list used.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from asn1crypto import crl as asn1_crl
from asn1crypto import pem, x509
from cryptography import x509 as rust_x509

from portal.services.eds import ocsp

MAX_BYTES = 128 * 1024 * 1024  # a bound against an answer without end, far above a CRL's size
SKEW = timedelta(minutes=5)  # a thisUpdate this far in the future is the clocks' drift
CODES = ("crl-unavailable", "crl-invalid", "crl-stale")
# the critical CRL extensions understood here (RFC 5280 5.2: an unknown one refuses the list)
UNDERSTOOD = {"crl_number", "delta_crl_indicator", "issuing_distribution_point"}


class CrlError(Exception):
    """A CRL that cannot be used; ``code`` is one of ``CODES``."""

    def __init__(self, code: str, detail: str):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Outcome:
    """``status`` "good" or "revoked" when a usable CRL answered, else None and ``code``
    says why ("crl-unavailable", "crl-invalid", "crl-stale")."""

    status: str | None
    code: str = ""
    detail: str = ""
    revoked_at: datetime | None = None
    reason: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)


# --- reading and checking a list -------------------------------------------------------


def _points(value: Any) -> list[str]:
    urls = []
    for point in value or []:
        name = point["distribution_point"]
        if name.name != "full_name":
            continue
        for general in name.chosen:
            if general.name == "uniform_resource_identifier":
                url = general.native
                if url.lower().startswith(("http://", "https://")) and url not in urls:
                    urls.append(url)
    return urls


def distribution_points(cert: x509.Certificate) -> list[str]:
    """The HTTP(S) addresses of the certificate's full CRL."""
    return _points(cert.crl_distribution_points_value)


def delta_points(cert: x509.Certificate) -> list[str]:
    """The HTTP(S) addresses of its delta CRL (the "freshest CRL" extension)."""
    return _points(cert.freshest_crl_value)


def load(data: bytes) -> asn1_crl.CertificateList:
    """A CRL from DER or PEM bytes; ``CrlError("crl-invalid")`` if it is none."""
    try:
        if pem.detect(data):
            data = pem.unarmor(data)[2]
        certificate_list = asn1_crl.CertificateList.load(data, strict=True)
        certificate_list["tbs_cert_list"]["this_update"].native  # noqa: B018 - parses it
        return certificate_list
    except (ValueError, TypeError, KeyError) as error:
        raise CrlError("crl-invalid", f"not a CRL: {error}") from None


def number(certificate_list: asn1_crl.CertificateList) -> int | None:
    value = certificate_list.crl_number_value
    return value.native if value is not None else None


def facts(certificate_list: asn1_crl.CertificateList, url: str, der: bytes) -> dict[str, Any]:
    """What identifies the list: its URL, number, thisUpdate, nextUpdate and SHA-256."""
    tbs = certificate_list["tbs_cert_list"]
    next_update = tbs["next_update"].native
    return {
        "url": url,
        "number": number(certificate_list),
        "this_update": tbs["this_update"].native.isoformat(),
        "next_update": next_update.isoformat() if next_update else None,
        "sha256": hashlib.sha256(der).hexdigest(),
    }


def verify_list(
    certificate_list: asn1_crl.CertificateList,
    issuer: x509.Certificate,
    now: datetime,
    *,
    signature_checked: bool = False,
) -> None:
    """Raise ``CrlError`` unless ``issuer`` signed the list and it is fresh at ``now``
    (``signature_checked``: the cache knows these very bytes were checked with this key)."""
    if certificate_list.issuer != issuer.subject:
        raise CrlError("crl-invalid", "the CRL's issuer is not the certificate's issuer")
    authority = certificate_list.authority_key_identifier
    if authority is not None and issuer.key_identifier not in (None, authority):
        raise CrlError("crl-invalid", "the CRL names another key of its issuer")
    if not signature_checked and not ocsp.signed_by(
        certificate_list["tbs_cert_list"].dump(),
        certificate_list["signature_algorithm"],
        certificate_list["signature"].native,
        issuer,
    ):
        raise CrlError("crl-invalid", "the CRL's signature does not verify with its issuer's key")
    unknown = certificate_list.critical_extensions - UNDERSTOOD
    if unknown:
        raise CrlError("crl-invalid", f"unknown critical extension {', '.join(sorted(unknown))}")
    scope = certificate_list.issuing_distribution_point_value
    if scope is not None:
        native = scope.native
        if (
            native.get("only_contains_ca_certs")
            or native.get("only_contains_attribute_certs")
            or native.get("only_some_reasons")
            or native.get("indirect_crl")
        ):
            raise CrlError("crl-invalid", "the CRL covers only part of its issuer's certificates")
    tbs = certificate_list["tbs_cert_list"]
    this_update = tbs["this_update"].native
    next_update = tbs["next_update"].native
    if this_update > now + SKEW:
        raise CrlError("crl-stale", f"the CRL is dated {this_update.isoformat()}, in the future")
    if next_update is None or next_update < now:
        when = next_update.isoformat() if next_update else "never"
        raise CrlError("crl-stale", f"the CRL expired: next update {when}")


@dataclass(frozen=True)
class Entry:
    """A serial's entry in a CRL: when it was revoked and why (asn1crypto's reason names:
    "key_compromise", "certificate_hold", "remove_from_crl"...; None when not given)."""

    revoked_at: datetime
    reason: str | None = None


def entry(certificate_list: asn1_crl.CertificateList, serial: int) -> Entry | None:
    """The list's entry for ``serial``, or None.

    ``cryptography`` (Rust) finds it: a million entries in a fraction of a second, where
    walking them with asn1crypto takes many seconds. A list it cannot read is walked.
    """
    try:
        found = rust_x509.load_der_x509_crl(certificate_list.dump())
        revoked = found.get_revoked_certificate_by_serial_number(serial)
        if revoked is None:
            return None
        try:
            reason = revoked.extensions.get_extension_for_class(rust_x509.CRLReason).value
            reason_name = reason.reason.name  # the names asn1crypto gives too
        except rust_x509.ExtensionNotFound:
            reason_name = None
        return Entry(revoked.revocation_date_utc, reason_name)
    except ValueError:
        pass
    for item in certificate_list["tbs_cert_list"]["revoked_certificates"] or []:
        if item["user_certificate"].native == serial:
            reason = item.crl_reason_value
            return Entry(
                item["revocation_date"].native, reason.native if reason is not None else None
            )
    return None


# --- fetching, with a cache ------------------------------------------------------------


def _key_digest(issuer: x509.Certificate) -> str:
    return hashlib.sha256(issuer["tbs_certificate"]["subject_public_key_info"].dump()).hexdigest()


class Cache:
    """CRLs kept in ``folder``, one file per URL (its SHA-256), reused until nextUpdate.

    Beside each list, a ``.checked`` file names the SHA-256 of the bytes whose signature
    was checked and of the key that checked it: a list read back is not checked again
    (a GOST list costs seconds a megabyte: Streebog in pure Python), unless its bytes or
    the issuer differ.
    """

    def __init__(self, folder: str | Path | None):
        self.folder = Path(folder) if folder else None

    def path(self, url: str) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / f"{hashlib.sha256(url.encode()).hexdigest()}.crl"

    def get(self, url: str, now: datetime) -> bytes | None:
        """The cached DER for ``url`` while its nextUpdate has not passed."""
        path = self.path(url)
        if path is None or not path.is_file():
            return None
        der = path.read_bytes()
        try:
            next_update = load(der)["tbs_cert_list"]["next_update"].native
        except CrlError:
            return None
        return der if next_update is not None and now <= next_update else None

    def find(self, url: str, sha256: str) -> bytes | None:
        """The cached DER for ``url`` if it is exactly the list with that SHA-256."""
        path = self.path(url)
        if path is None or not path.is_file():
            return None
        der = path.read_bytes()
        return der if hashlib.sha256(der).hexdigest() == sha256 else None

    def checked(self, url: str, der: bytes, issuer: x509.Certificate) -> bool:
        """Whether these bytes' signature was checked with ``issuer``'s key when cached."""
        path = self.path(url)
        if path is None:
            return False
        try:
            mark = path.with_suffix(".checked").read_text(encoding="ascii")
        except (OSError, ValueError):
            return False
        return mark == f"{hashlib.sha256(der).hexdigest()} {_key_digest(issuer)}"

    def put(self, url: str, der: bytes, issuer: x509.Certificate | None = None) -> None:
        """Keep ``der`` for ``url`` (and, with ``issuer``, that its signature checked)."""
        path = self.path(url)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self._write(path, der)
        if issuer is not None:
            mark = f"{hashlib.sha256(der).hexdigest()} {_key_digest(issuer)}"
            self._write(path.with_suffix(".checked"), mark.encode("ascii"))

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, path)  # another process sees the old file or the new
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def download(url: str, *, session: requests.Session | None, timeout: Any) -> bytes:
    """The bytes at ``url`` (at most ``MAX_BYTES``); ``CrlError("crl-unavailable")``."""
    http = session or requests
    try:
        with http.get(url, timeout=timeout, stream=True) as response:
            if response.status_code != 200:
                raise CrlError("crl-unavailable", f"HTTP {response.status_code} from {url}")
            data = bytearray()
            for chunk in response.iter_content(64 * 1024):
                data.extend(chunk)
                if len(data) > MAX_BYTES:
                    raise CrlError("crl-unavailable", f"more than {MAX_BYTES} bytes at {url}")
            return bytes(data)
    except requests.RequestException as error:
        raise CrlError("crl-unavailable", f"{type(error).__name__} from {url}") from None


def fetch(
    url: str,
    issuer: x509.Certificate,
    now: datetime,
    *,
    cache: Cache,
    session: requests.Session | None = None,
    timeout: Any = (5.0, 15.0),
) -> tuple[asn1_crl.CertificateList, dict[str, Any]]:
    """The checked list at ``url`` and its facts: from the cache while it is fresh and
    still checks, else downloaded, checked, and cached."""
    der = cache.get(url, now)
    if der is not None:
        try:
            certificate_list = load(der)
            checked = cache.checked(url, der, issuer)
            verify_list(certificate_list, issuer, now, signature_checked=checked)
            return certificate_list, facts(certificate_list, url, der)
        except CrlError:
            pass  # a cached list that no longer checks: fetch it again
    der = download(url, session=session, timeout=timeout)
    certificate_list = load(der)
    verify_list(certificate_list, issuer, now)
    cache.put(url, der, issuer)
    return certificate_list, facts(certificate_list, url, der)


def _first(
    urls: list[str], issuer: x509.Certificate, now: datetime, **options: Any
) -> tuple[asn1_crl.CertificateList, dict[str, Any]]:
    errors: list[CrlError] = []
    for url in urls:
        try:
            return fetch(url, issuer, now, **options)
        except CrlError as error:
            errors.append(error)
    worst = next((e for e in errors if e.code != "crl-unavailable"), errors[0])
    raise CrlError(worst.code, "; ".join(e.detail for e in errors))


def _revoked(found: Entry, facts_: dict[str, Any]) -> Outcome:
    return Outcome(
        "revoked",
        "revoked",
        f"listed in CRL {facts_.get('number')} from {facts_['url']}",
        revoked_at=found.revoked_at,
        reason=found.reason,
        facts=facts_,
    )


def check(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    *,
    cache: Cache | None = None,
    session: requests.Session | None = None,
    timeout: Any = (5.0, 15.0),
    now: datetime | None = None,
) -> Outcome:
    """Whether the issuer's CRL lists ``cert``: "good" or "revoked" with the evidence."""
    now = now or datetime.now(UTC)
    options = {"cache": cache or Cache(None), "session": session, "timeout": timeout}
    urls = distribution_points(cert)
    if not urls:
        return Outcome(None, "crl-unavailable", "the certificate names no CRL distribution point")
    try:
        full, full_facts = _first(urls, issuer, now, **options)
    except CrlError as error:
        return Outcome(None, error.code, error.detail)
    if full.delta_crl_indicator_value is not None:
        return Outcome(None, "crl-invalid", "the distribution point serves a delta CRL")
    evidence = dict(full_facts)
    delta = None
    if delta_points(cert):
        try:
            delta, delta_facts = _first(delta_points(cert), issuer, now, **options)
        except CrlError as error:
            evidence["delta_error"] = error.detail
        else:
            base = delta.delta_crl_indicator_value
            if base is None or (number(full) or 0) < base.native:
                evidence["delta_error"] = "the delta CRL does not apply to this full CRL"
                delta = None
            else:
                evidence["delta"] = delta_facts
    serial = cert.serial_number
    listed = entry(delta, serial) if delta is not None else None
    if listed is not None:
        if listed.reason == "remove_from_crl":
            return Outcome("good", detail="released from hold by the delta CRL", facts=evidence)
        return _revoked(listed, evidence)
    listed = entry(full, serial)
    if listed is not None:
        return _revoked(listed, evidence)
    return Outcome("good", facts=evidence)


def recheck(
    evidence: dict[str, Any],
    cert: x509.Certificate,
    issuer: x509.Certificate,
    cache: Cache,
    at: datetime | None = None,
) -> str:
    """Re-check recorded CRL evidence without the network: "checked" when the very list
    (same SHA-256) is still in the cache, was signed by ``issuer`` and does not list
    ``cert`` (or lists it revoked only after ``at``, the proven time of signing);
    "recorded" when the list is gone (the recorded facts stand); raises ``CrlError`` when
    the cached list contradicts them."""
    der = cache.find(evidence.get("url") or "", evidence.get("sha256") or "")
    if der is None:
        return "recorded"
    certificate_list = load(der)
    this_update = certificate_list["tbs_cert_list"]["this_update"].native
    verify_list(certificate_list, issuer, this_update)
    listed = entry(certificate_list, cert.serial_number)
    if listed is not None and not (at is not None and listed.revoked_at > at):
        raise CrlError("crl-invalid", "the recorded CRL lists the certificate")
    return "checked"
