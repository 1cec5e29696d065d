"""An accepted EDS signature re-verified later, "as at acceptance" (issue 17, part 6).

A certificate expires, and its CA's OCSP responder and CRLs move on; the signature it
made stays provable. ``reverify`` checks the stored CMS over the act's stored bytes with
the same verifier, but:

- the certificates' validity at ``acceptance_time`` (not now): a certificate that expired
  since still shows valid when it signed;
- the revocation from the evidence stored with the signature (the OCSP answer, checked
  again; or the CRL's facts), without the network; a signature accepted without a
  revocation check is re-verified without one, as it was accepted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from portal.campaign.acts import expected_signer
from portal.models.acts import ActSignature
from portal.services import eds
from portal.services.eds.revocation import Evidence


def acceptance_time(signature: ActSignature) -> datetime:
    """The time a stored signature is re-verified at: the one place that chooses it.

    The proven time of signing (the genTime of its RFC 3161 timestamp, the
    ``proven_time`` column) when there is one, which the certificates were checked at
    when it was accepted; else the signing time the CMS stated; else the time it was
    accepted.
    """
    return signature.proven_time or signature.signing_time or signature.created_at


def stored_evidence(signature: ActSignature) -> Evidence | None:
    """The revocation evidence kept with the signature, None when none was kept."""
    return Evidence.stored(
        signature.revocation_method, signature.revocation_evidence, signature.revocation_der
    )


def reverify(signature: ActSignature, eds_settings: dict[str, Any]) -> eds.Report:
    """The stored signature checked again as at its acceptance (see the module)."""
    act = signature.act
    # no network; and a signature accepted without a timestamp (EDS_REQUIRE_TIMESTAMP off
    # then) is not refused for it later
    settings = {
        **eds_settings,
        "ocsp_url": None,
        "crl_fallback": False,
        "require_timestamp": False,
    }
    return eds.verify(
        act.pdf,
        signature.cms,
        at=acceptance_time(signature),
        revocation_evidence=stored_evidence(signature),
        **expected_signer(act.winner),
        **settings,
    )
