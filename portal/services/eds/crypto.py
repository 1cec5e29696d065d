"""Digests and signature checks for the algorithms NCA RK certificates use.

RSA (PKCS#1 v1.5 or PSS, SHA-1/2) goes to ``cryptography``; GOST 34.10-2015 512-bit
with Streebog-512 to ``eds_gost``. GOST 34.310-2004 and anything else raises
``Unsupported`` with the code the portal reports ("gost-2004-unsupported",
"unsupported-algorithm"), so that a signature is never called bad only because the
portal cannot check it.
"""

from __future__ import annotations

import hashlib

from asn1crypto import algos
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from portal.services.eds import gost

RSA_KEY = "1.2.840.113549.1.1.1"
RSA_PSS = "1.2.840.113549.1.1.10"
# hashlib name and cryptography hash of each digest OID
DIGESTS = {
    "1.3.14.3.2.26": ("sha1", hashes.SHA1),
    "2.16.840.1.101.3.4.2.4": ("sha224", hashes.SHA224),
    "2.16.840.1.101.3.4.2.1": ("sha256", hashes.SHA256),
    "2.16.840.1.101.3.4.2.2": ("sha384", hashes.SHA384),
    "2.16.840.1.101.3.4.2.3": ("sha512", hashes.SHA512),
}
STREEBOG_512 = (gost.STREEBOG_512, "1.2.643.7.1.1.2.3")
# RSA signature algorithms that name their digest
RSA_SIGNATURES = {
    "1.2.840.113549.1.1.5": "1.3.14.3.2.26",
    "1.2.840.113549.1.1.14": "2.16.840.1.101.3.4.2.4",
    "1.2.840.113549.1.1.11": "2.16.840.1.101.3.4.2.1",
    "1.2.840.113549.1.1.12": "2.16.840.1.101.3.4.2.2",
    "1.2.840.113549.1.1.13": "2.16.840.1.101.3.4.2.3",
}
GOST2015_SIGNATURES = (gost.GOST2015_SIGNATURE_512, gost.GOST2015_KEY_512)
DIGEST_NAMES = {
    "1.3.14.3.2.26": "SHA-1",
    "2.16.840.1.101.3.4.2.4": "SHA-224",
    "2.16.840.1.101.3.4.2.1": "SHA-256",
    "2.16.840.1.101.3.4.2.2": "SHA-384",
    "2.16.840.1.101.3.4.2.3": "SHA-512",
    gost.STREEBOG_512: "Streebog-512",
    "1.2.643.7.1.1.2.3": "Streebog-512",
    gost.GOST34311: "GOST 34.311-95",
}


class Unsupported(Exception):
    """The portal cannot check this algorithm; ``code`` says which kind of case it is."""

    def __init__(self, code: str, detail: str):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def _unsupported(oid: str, what: str) -> Unsupported:
    if gost.is_gost2004(oid):
        return Unsupported("gost-2004-unsupported", f"GOST 34.310-2004 {what} {oid}")
    return Unsupported("unsupported-algorithm", f"unknown {what} {oid}")


def digest(oid: str, data: bytes) -> bytes:
    """The digest of ``data`` with the algorithm ``oid``."""
    if oid in DIGESTS:
        return hashlib.new(DIGESTS[oid][0], data).digest()
    if oid in STREEBOG_512:
        return gost.streebog512(data)
    raise _unsupported(oid, "digest algorithm")


def algorithm_name(signature_oid: str, digest_oid: str | None = None) -> str:
    """A short human name such as "RSA/SHA-256" or "GOST 34.10-2015 512/Streebog-512"."""
    if signature_oid in RSA_SIGNATURES:
        return f"RSA/{DIGEST_NAMES[RSA_SIGNATURES[signature_oid]]}"
    if signature_oid in (RSA_KEY, RSA_PSS):
        kind = "RSA-PSS" if signature_oid == RSA_PSS else "RSA"
        return f"{kind}/{DIGEST_NAMES.get(digest_oid or '', digest_oid or '?')}"
    if signature_oid in GOST2015_SIGNATURES:
        return "GOST 34.10-2015 512/Streebog-512"
    if gost.is_gost2004(signature_oid):
        return "GOST 34.310-2004"
    return signature_oid


def verify_signed(
    spki_der: bytes,
    signature_oid: str,
    parameters_der: bytes | None,
    data: bytes,
    signature: bytes,
    digest_oid: str | None = None,
) -> bool:
    """Whether ``signature`` over ``data`` verifies with the key ``spki_der``.

    ``signature_oid``/``parameters_der`` name the signature algorithm; ``digest_oid`` is
    the digest when the signature algorithm is bare ``rsaEncryption`` (as CMS allows).
    Raises ``Unsupported`` for an algorithm that cannot be checked here.
    """
    key_oid = gost.key_info(spki_der)[0]
    if gost.is_gost2004(key_oid) or gost.is_gost2004(signature_oid):
        raise _unsupported(signature_oid if gost.is_gost2004(signature_oid) else key_oid, "key")
    if signature_oid in GOST2015_SIGNATURES:
        if key_oid != gost.GOST2015_KEY_512:
            return False
        if digest_oid is not None and digest_oid not in STREEBOG_512:
            return False
        try:
            return gost.verify(spki_der, data, signature)
        except ValueError as error:
            raise Unsupported("unsupported-algorithm", str(error)) from None
    if key_oid != RSA_KEY:
        raise _unsupported(key_oid, "key algorithm")
    key = serialization.load_der_public_key(spki_der)
    if not isinstance(key, rsa.RSAPublicKey):  # pragma: no cover - the OID says RSA
        return False
    if signature_oid in RSA_SIGNATURES or signature_oid == RSA_KEY:
        hash_oid = RSA_SIGNATURES.get(signature_oid, digest_oid)
        if hash_oid not in DIGESTS:
            raise _unsupported(str(hash_oid), "digest algorithm")
        scheme: padding.AsymmetricPadding = padding.PKCS1v15()
        hash_algorithm = DIGESTS[hash_oid][1]()
    elif signature_oid == RSA_PSS:
        params = algos.RSASSAPSSParams.load(parameters_der or b"\x30\x00")
        hash_oid = params["hash_algorithm"]["algorithm"].dotted
        mgf_hash = params["mask_gen_algorithm"]["parameters"]["algorithm"].dotted
        if hash_oid not in DIGESTS or mgf_hash not in DIGESTS:
            raise _unsupported(hash_oid, "digest algorithm")
        hash_algorithm = DIGESTS[hash_oid][1]()
        scheme = padding.PSS(
            mgf=padding.MGF1(DIGESTS[mgf_hash][1]()), salt_length=params["salt_length"].native
        )
    else:
        raise _unsupported(signature_oid, "signature algorithm")
    try:
        key.verify(signature, data, scheme, hash_algorithm)
    except InvalidSignature:
        return False
    return True
