"""RFC 3161 time-stamp queries and tokens, through the rfc3161-client library (no hand-written ASN.1).

What a token proves: a time-stamping authority (TSA) saw ``sha256(message)`` at its
``genTime`` and signed that statement with a key its certificate chain vouches for. archiver's
message is a chain head, so the token shows the archive's state existed no later than then.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from datetime import UTC

from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from archiver.clock import iso_utc
from archiver.errors import ArchiverError

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
_HASH_NAMES = {
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
    "1.3.14.3.2.26": "sha1",
}


class TimestampError(ArchiverError):
    """A TSA's answer that is not a usable token for what was asked."""


@dataclass
class TokenInfo:
    """The parts of a granted token archiver stores beside it."""

    gen_time: str  # ISO 8601 UTC, the time the TSA asserts
    serial_number: str
    policy: str | None
    tsa_name: str | None
    hash_algorithm: str
    nonce: int | None
    imprint: bytes


def build_query(message: bytes) -> tuple[bytes, int]:
    """A DER TimeStampReq over sha256(message), asking for the TSA's certificate; returns (query, nonce)."""
    request = (
        TimestampRequestBuilder()
        .data(message)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    assert request.nonce is not None  # asked for with nonce=True
    return request.as_bytes(), request.nonce


def parse_reply(reply: bytes) -> TokenInfo:
    """The facts of a DER TimeStampResp; :class:`TimestampError` when it is unreadable or not granted."""
    try:
        response = decode_timestamp_response(reply)
    except ValueError as exc:
        raise TimestampError(f"not an RFC 3161 time-stamp reply ({exc})") from None
    if PKIStatus(response.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampError(f"the TSA refused: status {PKIStatus(response.status).name} {response.status_string or ''}".strip())
    info = response.tst_info
    algorithm = info.message_imprint.hash_algorithm.dotted_string
    name = info.name
    return TokenInfo(
        gen_time=iso_utc(info.gen_time.astimezone(UTC)),
        serial_number=str(info.serial_number),
        policy=info.policy.dotted_string if info.policy is not None else None,
        tsa_name=getattr(getattr(name, "value", None), "rfc4514_string", lambda: None)() if name is not None else None,
        hash_algorithm=_HASH_NAMES.get(algorithm, algorithm),
        nonce=info.nonce,
        imprint=info.message_imprint.message,
    )


def load_certificates(pem: bytes | str) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        with warnings.catch_warnings():
            # The Mozilla bundle holds old roots with serial numbers RFC 5280 now forbids.
            warnings.simplefilter("ignore")
            return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise TimestampError(f"not a PEM certificate bundle ({exc})") from None


def default_roots_pem() -> str:
    """The root bundle requests trusts for HTTPS (certifi's Mozilla list), used when no --tsa-roots is given."""
    import certifi

    with open(certifi.where(), encoding="ascii") as fh:
        return fh.read()


def check_token(reply: bytes, message: bytes, roots: list[x509.Certificate], nonce: int | None = None) -> None:
    """Raise :class:`TimestampError` unless ``reply`` is a granted token over ``message``, signed by a
    timeStamping certificate that chains to one of ``roots`` (valid at the token's time)."""
    try:
        response = decode_timestamp_response(reply)
    except ValueError as exc:
        raise TimestampError(f"not an RFC 3161 time-stamp reply ({exc})") from None
    if not roots:
        raise TimestampError("no trusted root certificates to check the TSA's signature with")
    builder = VerifierBuilder()
    seen: set[bytes] = set()
    for root in roots:
        fingerprint = root.fingerprint(_sha256())
        if fingerprint not in seen:  # the builder refuses duplicates
            seen.add(fingerprint)
            builder = builder.add_root_certificate(root)
    if nonce is not None:
        builder = builder.nonce(nonce)
    try:
        builder.build().verify_message(response, message)
    except VerificationError as exc:
        text = str(exc)
        if "Mismatch between messages" in text:
            raise TimestampError(
                f"the token is for another message (imprint {response.tst_info.message_imprint.message.hex()}, "
                f"expected {hashlib.sha256(message).hexdigest()} = sha256 of {message.decode('ascii', 'replace')})"
            ) from None
        if "verify" in text.lower() and "certificate" in text.lower():
            raise TimestampError(f"the TSA's signature does not chain to a trusted root ({_short(text)})") from None
        raise TimestampError(_short(text)) from None


def _sha256():
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256()


def _short(text: str) -> str:
    """OpenSSL error stacks are long; keep the reason."""
    if 'data: "' in text:
        return text.split('data: "', 1)[1].split('"', 1)[0]
    return text[:200]
