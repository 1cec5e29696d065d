"""GOST R 34.10-2015 (512-bit) signatures and Streebog digests as NCA RK encodes them.

Kazakhstan's NCA RK (the national certification authority) signs with the Russian
GOST R 34.10-2012/2015 curves under its own object identifiers, and writes numbers the
way its Kalkan library does: each 64-byte half of a public key (x, y) and of a
signature (r, s) is little-endian, and the Streebog-512 digest is reversed before it is
turned into the number e. The CMS ``messageDigest`` attribute holds the digest in its
normal byte order. ``gostcrypto`` (pure Python, MIT) does the curve arithmetic with
big-endian numbers; this module translates.

GOST 34.310-2004, NCA's older algorithm (``1.2.398.3.10.1.1.1.*``), has no Python
implementation: such keys and signatures are recognised here only so that the caller
can say so.
"""

from __future__ import annotations

from typing import ClassVar

from asn1crypto import core
from gostcrypto import gosthash, gostsignature

# NCA RK object identifiers.
GOST2015_KEY_512 = "1.2.398.3.10.1.1.2.2"  # public key, 512 bits
GOST2015_PARAMS_512_A = "1.2.398.3.10.1.1.2.2.1"  # = id-tc26-gost-3410-12-512-paramSetA
GOST2015_SIGNATURE_512 = "1.2.398.3.10.1.1.2.3.2"  # signature with Streebog-512
STREEBOG_512 = "1.2.398.3.10.1.3.3"
GOST2004_PREFIX = "1.2.398.3.10.1.1.1."  # GOST 34.310-2004 keys and signatures
GOST34311 = "1.2.398.3.10.1.3.1"  # GOST 34.311-95, the 2004 digest

# The curve behind each parameter set NCA and TC 26 name (both spellings seen).
CURVES = {
    GOST2015_PARAMS_512_A: "id-tc26-gost-3410-12-512-paramSetA",
    "1.2.643.7.1.2.1.2.1": "id-tc26-gost-3410-12-512-paramSetA",
    "1.2.643.7.1.2.1.2.2": "id-tc26-gost-3410-12-512-paramSetB",
    "1.2.643.7.1.2.1.2.3": "id-tc26-gost-3410-2012-512-paramSetC",
}
HALF = 64  # bytes in each half of a 512-bit key or signature


class AlgorithmIdentifier(core.Sequence):
    """An AlgorithmIdentifier whatever its algorithm (asn1crypto's own knows a fixed set)."""

    _fields: ClassVar[list] = [
        ("algorithm", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class PublicKeyInfo(core.Sequence):
    """A SubjectPublicKeyInfo read without interpreting the key (asn1crypto's refuses GOST)."""

    _fields: ClassVar[list] = [("algorithm", AlgorithmIdentifier), ("public_key", core.BitString)]


class GostKeyParameters(core.Sequence):
    _fields: ClassVar[list] = [
        ("public_key_param_set", core.ObjectIdentifier),
        ("digest_param_set", core.ObjectIdentifier, {"optional": True}),
    ]


def is_gost2004(oid: str) -> bool:
    return oid.startswith(GOST2004_PREFIX) or oid == GOST34311


def streebog512(data: bytes) -> bytes:
    """Streebog-512 (GOST R 34.11-2012) of ``data``, in its normal byte order."""
    return bytes(gosthash.new("streebog512", data=data).digest())


def key_info(spki_der: bytes) -> tuple[str, str | None, bytes]:
    """(key algorithm OID, parameter set OID or None, key bytes) of a SubjectPublicKeyInfo.

    For a GOST key the key bytes are the content of the OCTET STRING inside the BIT
    STRING, as NCA writes it (x then y, each little-endian).
    """
    info = PublicKeyInfo.load(spki_der)
    algorithm = info["algorithm"]["algorithm"].dotted
    parameters = info["algorithm"]["parameters"]
    param_set = None
    if parameters.dump()[:1] == b"\x30":
        param_set = GostKeyParameters.load(parameters.dump())["public_key_param_set"].dotted
    bits = info["public_key"].contents[1:]  # after the unused-bits byte
    if algorithm.startswith("1.2.398.3.10.") or algorithm.startswith("1.2.643."):
        bits = core.OctetString.load(bits).native
    return algorithm, param_set, bits


def key_hash_material(spki_der: bytes) -> bytes:
    """The subjectPublicKey BIT STRING's value, what an OCSP CertID's key hash covers."""
    return PublicKeyInfo.load(spki_der)["public_key"].contents[1:]


def _reverse_halves(value: bytes) -> bytes:
    return value[:HALF][::-1] + value[HALF:][::-1]


def verify(spki_der: bytes, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` (NCA encoding) is a GOST 2015-512 signature of ``data``.

    Raises ``ValueError`` for a key this module cannot use (unknown curve, wrong size).
    """
    algorithm, param_set, key = key_info(spki_der)
    if algorithm != GOST2015_KEY_512:
        raise ValueError(f"not a GOST 34.10-2015 512-bit key: {algorithm}")
    curve = CURVES.get(param_set or GOST2015_PARAMS_512_A)
    if curve is None:
        raise ValueError(f"unknown GOST parameter set {param_set}")
    if len(key) != 2 * HALF:
        raise ValueError(f"a 512-bit GOST key has {2 * HALF} bytes, not {len(key)}")
    if len(signature) != 2 * HALF:
        return False
    signer = gostsignature.new(
        gostsignature.MODE_512, gostsignature.CURVES_R_1323565_1_024_2019[curve]
    )
    digest = streebog512(data)[::-1]
    try:
        return bool(
            signer.verify(
                bytearray(_reverse_halves(key)),
                bytearray(digest),
                bytearray(_reverse_halves(signature)),
            )
        )
    except gostsignature.GOSTSignatureError:
        return False
