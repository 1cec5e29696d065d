"""The trust anchors checked before the portal serves: each file readable, none expired.

``check(source)`` reads the anchors the way ``load_trust_anchors`` does (None: the
shipped production folder; a folder; a file; or certificates given in code) and raises
``TrustAnchorError`` naming the first file that cannot be read as certificates or holds
a CA certificate that has expired (or is not yet valid): a portal that started with such
anchors would refuse every signature as "untrusted" or "expired" long after the fact.
``create_app`` calls it, so the app does not start (the error is in the operator's log);
``/readyz`` calls it again, so an anchor that expires while the app runs is seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asn1crypto import pem, x509
from cryptography.hazmat.primitives.serialization import Encoding

TRUST_FOLDER = Path(__file__).with_name("trust")
PRODUCTION_ANCHORS = TRUST_FOLDER / "production"
TEST_ANCHORS = TRUST_FOLDER / "test"
CERTIFICATE_SUFFIXES = (".cer", ".crt", ".pem", ".der")


class TrustAnchorError(RuntimeError):
    """A trust anchor the portal cannot use; ``where`` names its file (or position)."""

    def __init__(self, where: str, problem: str):
        super().__init__(
            f"EDS trust anchor {where}: {problem}. Replace or remove it in the folder "
            "EDS_TRUST_ANCHORS names (default portal/services/eds/trust/production/, see "
            "its SOURCES.md) before starting the portal."
        )
        self.where = where
        self.problem = problem


@dataclass(frozen=True)
class Anchor:
    """A CA certificate of the trust anchors and where it came from."""

    where: str
    cert: x509.Certificate


def anchor_files(folder_or_file: str | Path) -> list[Path]:
    """The certificate files of a folder (by suffix, sorted), or the one file given."""
    path = Path(folder_or_file).expanduser()
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in CERTIFICATE_SUFFIXES)
    return [path]


def certificates_in(data: bytes) -> list[x509.Certificate]:
    """The certificates of a file's bytes: DER, or PEM with one or more."""
    if pem.detect(data):
        return [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
    return [x509.Certificate.load(data)]


def load(source: Any = None) -> list[x509.Certificate]:
    """The CA certificates to trust.

    ``None``: the production NCA RK certificates shipped with the portal; a folder: every
    ``.cer``/``.crt``/``.pem``/``.der`` file in it (DER or PEM, several per PEM file);
    a file; or an iterable of certificates (DER/PEM bytes, asn1crypto or cryptography
    certificates).
    """
    if source is None:
        source = PRODUCTION_ANCHORS
    anchors = []
    if isinstance(source, (str, Path)):
        for file in anchor_files(source):
            anchors.extend(certificates_in(file.read_bytes()))
        return anchors
    for item in source:
        if isinstance(item, x509.Certificate):
            anchors.append(item)
        elif isinstance(item, (bytes, bytearray)):
            anchors.extend(certificates_in(bytes(item)))
        elif hasattr(item, "public_bytes"):  # a cryptography certificate
            anchors.append(x509.Certificate.load(item.public_bytes(Encoding.DER)))
        else:
            raise TypeError(f"not a certificate: {item!r}")
    return anchors


def read_anchors(source: Any) -> list[Anchor]:
    """Every certificate of ``source`` (a folder, a file or an iterable of certificates)
    with the name of the file it came from; ``TrustAnchorError`` for one unreadable."""
    if isinstance(source, (str, Path)):
        files = anchor_files(source)
        if not files:
            raise TrustAnchorError(str(source), "no certificate file (.cer, .crt, .pem, .der)")
        found = []
        for file in files:
            try:
                certs = load(file)
                for cert in certs:
                    _ = cert.subject, cert["tbs_certificate"]["validity"].native  # parse now
            except (OSError, ValueError, TypeError, KeyError) as error:
                raise TrustAnchorError(str(file), f"cannot be read ({error})") from None
            if not certs:
                raise TrustAnchorError(str(file), "holds no certificate")
            found.extend(Anchor(str(file), cert) for cert in certs)
        return found
    items: Iterable[Any] = source
    try:
        certs = load(list(items))
    except (ValueError, TypeError, KeyError) as error:
        raise TrustAnchorError("given in the settings", f"cannot be read ({error})") from None
    return [Anchor(f"#{index + 1} given in the settings", c) for index, c in enumerate(certs)]


def check(
    source: Any = None, *, now: datetime | None = None, allow_expired: bool = False
) -> list[Anchor]:
    """The anchors of ``source`` (None: the production folder) if every one is readable
    and valid ``now``; else ``TrustAnchorError`` naming the file. ``allow_expired``
    (``EDS_ALLOW_EXPIRED_ANCHORS``, for checking old signatures at their own time with
    NCA's expired test CAs) lets expired anchors through; unreadable ones never."""
    now = now or datetime.now(UTC)
    anchors = read_anchors(PRODUCTION_ANCHORS if source is None else source)
    for anchor in [] if allow_expired else anchors:
        validity = anchor.cert["tbs_certificate"]["validity"]
        not_before, not_after = validity["not_before"].native, validity["not_after"].native
        if now > not_after:
            name = anchor.cert.subject.human_friendly
            raise TrustAnchorError(
                anchor.where,
                f"{name} expired on {not_after.isoformat()} (only to check old signatures at "
                "their own time may EDS_ALLOW_EXPIRED_ANCHORS be true)",
            )
        if now < not_before:
            name = anchor.cert.subject.human_friendly
            raise TrustAnchorError(
                anchor.where, f"{name} is valid only from {not_before.isoformat()}"
            )
    return anchors
