"""eGov Mobile's QR signing ("mobileSign"): the app's API 1 and API 2, and SIGEX's hosted flow.

The protocol (restated in /work/shared/SIGNING.md and docs/DESIGN.md): the page shows a
QR code whose text is ``mobileSign:`` and the address of API 1; the app reads API 1
(what is signed, for whom, until when, and where API 2 is with a one-time token), fetches
the document from API 2 with ``Authorization: Bearer <token>``, signs it on the phone,
and PUTs the same JSON back to API 2 with the CMS in place of the document. On the phone
itself, a link opens the app instead of the QR code.

Two providers, one interface (``provider_for``):

- ``EgovProvider`` ("egov", the default): the portal serves API 1 and API 2 itself; the
  signature arrives by the PUT (``pushes``). The portal's domain must be on eGov's list.
- ``SigexProvider`` ("sigex"): SIGEX's hosted service serves them (``POST /api/egovQr``
  registers a QR, ``POST dataURL`` hands it the documents and returns once the phone
  took them, ``GET signURL`` returns the signatures once signed); the worker collects the
  CMS (``collect``), which the portal verifies as any other.

This module only speaks the protocols; which act, which session and what is accepted is
``portal.campaign.egov_signing``'s.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

import qrcode
import requests
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.svg import SvgPathFillImage

SCHEME = "mobileSign:"
EGOV_MOBILE = (
    "https://m.egov.kz/mobileSign?link={link}&isi=1476128386&ibi=kz.egov.mobile&apn=kz.mobile.mgov"
)
EGOV_BUSINESS = "https://m.egov.kz/businessSign/?link={link}"
SIGN_METHOD = "CMS_SIGN_ONLY"  # a detached CMS: the act's bytes stay the portal's
PDF_MIME = "@file/pdf"
ALMATY = ZoneInfo("Asia/Almaty")
# A CMS in base64 the PUT may bring (the body is limited before it is read, too).
MAX_CMS_BASE64 = 4 * -(-1024 * 1024 // 3)


class ProtocolError(Exception):
    """A body that does not follow the protocol; the message says what, in English."""


class ProviderError(Exception):
    """The signing service did not answer as it should (SIGEX down, refused, timed out)."""


# --- what the page shows --------------------------------------------------------------


def qr_text(api1_url: str) -> str:
    return SCHEME + api1_url


def launch_links(api1_url: str) -> dict[str, str]:
    """The same-device links that open eGov Mobile and eGov Business on the phone."""
    link = quote(api1_url, safe="")
    return {
        "egov_mobile": EGOV_MOBILE.format(link=link),
        "egov_business": EGOV_BUSINESS.format(link=link),
    }


def qr_svg(text: str) -> str:
    """The QR code of ``text`` as an inline SVG element (no image file, no CDN)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=2)
    code.add_data(text)
    svg = code.make_image(image_factory=SvgPathFillImage).to_string(encoding="unicode")
    svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
    return re.sub(r'\swidth="[^"]*" height="[^"]*"', ' class="qr-code" role="img"', svg, count=1)


# --- API 1 and API 2 (the portal's side of "egov") ---------------------------------------


def api1_body(
    *,
    description: str,
    expires_at: datetime,
    organisation: dict[str, str],
    api2_url: str,
    token: str,
) -> dict[str, Any]:
    """API 1: what is to be signed, by whom it is asked, until when, and where API 2 is."""
    return {
        "description": description,
        "expiry_date": expiry_date(expires_at),
        "organisation": {
            "nameRu": organisation["ru"],
            "nameKz": organisation["kk"],
            "nameEn": organisation["en"],
            "bin": organisation["bin"],
        },
        "document": {"uri": api2_url, "auth_type": "Token", "auth_token": token},
    }


def expiry_date(moment: datetime) -> str:
    """As the app's examples write it, ``2022-09-29T16:21:37.06+0600``, in Almaty's time."""
    local = moment.astimezone(ALMATY)
    return f"{local:%Y-%m-%dT%H:%M:%S}.{local.microsecond // 10000:02d}{local:%z}"


def documents_to_sign(names: dict[str, str], pdf: bytes, meta: list[dict[str, str]]) -> list:
    return [
        {
            "id": 1,
            "nameRu": names["ru"],
            "nameKz": names["kk"],
            "nameEn": names["en"],
            "meta": meta,
            "document": {"file": {"mime": PDF_MIME, "data": base64.b64encode(pdf).decode("ascii")}},
        }
    ]


def api2_body(names: dict[str, str], pdf: bytes, meta: list[dict[str, str]]) -> dict[str, Any]:
    """API 2 (GET): the act's PDF, to be signed as a detached CMS."""
    return {"signMethod": SIGN_METHOD, "documentsToSign": documents_to_sign(names, pdf, meta)}


def cms_from_body(body: Any) -> bytes:
    """The CMS of the one document in API 2's PUT (or SIGEX's signURL answer)."""
    try:
        documents = body["documentsToSign"]
        if not isinstance(documents, list) or len(documents) != 1:
            raise ProtocolError("documentsToSign must hold exactly one document")
        data = documents[0]["document"]["file"]["data"]
    except (KeyError, TypeError, IndexError):
        raise ProtocolError("no documentsToSign[0].document.file.data") from None
    if not isinstance(data, str) or not data or len(data) > MAX_CMS_BASE64:
        raise ProtocolError("the signature is not base64 text of a CMS")
    text = "".join(data.split())
    if text.startswith("-----BEGIN"):
        return data.encode("ascii", "replace")  # PEM: the verifier reads it
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("the signature is not base64") from None


# --- the providers ----------------------------------------------------------------------


@dataclass
class Started:
    """A QR code ready to show: its text, the same-device links, what the provider keeps."""

    qr_text: str
    links: dict[str, str]
    data: dict[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None


class EgovProvider:
    """The portal is API 1 and API 2: the app PUTs the signature to the portal."""

    name = "egov"
    pushes = True

    def start(self, *, api1_url: str, description: str) -> Started:
        return Started(qr_text(api1_url), launch_links(api1_url))


class SigexProvider:
    """SIGEX's hosted API 1 / API 2 (https://sigex.kz/support/developers/#egov-qr)."""

    name = "sigex"
    pushes = False

    def __init__(self, base_url: str, timeout: tuple[float, float] = (5.0, 15.0)) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def start(self, *, api1_url: str, description: str) -> Started:
        """``POST /api/egovQr``: a QR code at SIGEX (``api1_url`` is not used)."""
        answer = self._call("post", f"{self.base_url}/api/egovQr", {"description": description})
        try:
            data = {key: answer[key] for key in ("dataURL", "signURL")}
        except KeyError:
            raise ProviderError("SIGEX's answer names no dataURL or signURL") from None
        links = {
            "egov_mobile": answer.get("eGovMobileLaunchLink") or "",
            "egov_business": answer.get("eGovBusinessLaunchLink") or "",
        }
        text = link_parameter(links["egov_mobile"])
        data["qr_image"] = "" if text else str(answer.get("qrCode") or "")
        return Started(
            qr_text(text) if text else "",
            links,
            data,
            _moment(answer.get("expireAt")),
        )

    def send_documents(self, data: dict[str, Any], documents: list, wait: float) -> None:
        """``POST dataURL``: SIGEX answers once the phone has taken the documents."""
        body = {"signMethod": SIGN_METHOD, "documentsToSign": documents}
        self._call("post", data["dataURL"], body, read_timeout=wait)

    def collect(self, data: dict[str, Any], wait: float) -> bytes:
        """``GET signURL``: the CMS, once the winner has signed (SIGEX blocks until then)."""
        answer = self._call("get", data["signURL"], None, read_timeout=wait)
        try:
            return cms_from_body(answer)
        except ProtocolError as error:
            raise ProviderError(f"SIGEX's signatures: {error}") from None

    def _call(self, method: str, url: str, body: Any, read_timeout: float | None = None) -> dict:
        timeout = (self.timeout[0], read_timeout or self.timeout[1])
        try:
            response = requests.request(method, url, json=body, timeout=timeout)
        except requests.RequestException as error:
            raise ProviderError(f"SIGEX did not answer: {type(error).__name__}") from None
        if response.status_code != 200:
            raise ProviderError(f"SIGEX answered HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise ProviderError("SIGEX's answer is not JSON") from None
        if not isinstance(answer, dict):
            raise ProviderError("SIGEX's answer is not a JSON object")
        if answer.get("message"):
            raise ProviderError(f"SIGEX refused: {str(answer['message'])[:200]}")
        return answer


def provider_for(config: Any) -> EgovProvider | SigexProvider:
    """The provider the settings choose (``EDS_QR_PROVIDER``: "egov" or "sigex")."""
    name = config.get("EDS_QR_PROVIDER") or "egov"
    if name == "egov":
        return EgovProvider()
    if name == "sigex":
        return SigexProvider(
            config.get("SIGEX_URL") or "https://sigex.kz",
            tuple(config.get("SIGEX_TIMEOUT") or (5.0, 15.0)),
        )
    raise ValueError(f"EDS_QR_PROVIDER must be 'egov' or 'sigex', not {name!r}")


def link_parameter(launch_link: str) -> str:
    """API 1's address in a launch link (its ``link`` parameter), or ""."""
    values = parse_qs(urlsplit(launch_link).query).get("link") if launch_link else None
    return values[0] if values else ""


def _moment(value: Any) -> datetime | None:
    """SIGEX's expireAt: milliseconds since 1970 or ISO 8601; None when neither."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None
