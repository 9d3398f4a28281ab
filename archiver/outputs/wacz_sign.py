"""Signing a WACZ package: ``datapackage-digest.json`` with ``signedData`` per the WACZ signing spec
(https://specs.webrecorder.net/wacz-auth/0.1.0/, "domain name identity").

    hash       = "sha256:" + hex of datapackage.json (which lists every file's hash)
    created    = datapackage.json's "created"
    signature  = ECDSA P-256/SHA-256 over the ASCII ``hash``, by the key of a TLS certificate for ``domain``
    domainCert = that certificate's chain, leaf first, ending with its root
    timeSignature = an RFC 3161 token (TimeStampResp, base64 DER) over the ASCII ``signature``
    timestampCert = the TSA's certificate chain, leaf first, ending with its root

Third parties check it with ``wacz validate --verify-auth`` (py-wacz with authsign), which
also requires the certificate to be at most 7 days old at ``created`` and the token to be at
most 10 minutes after it: the spec's limits on what a leaked short-lived key can sign.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta, UTC
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import NameOID

from archiver import __version__
from archiver.clock import parse_iso
from archiver.errors import ExportError
from archiver.net.tsa import request_token
from archiver.options import DEFAULT_TSA
from archiver.proof.rfc3161 import TimestampError, check_token, default_roots_pem, load_certificates

SPEC_VERSION = "0.1.0"
CERT_MAX_AGE = timedelta(days=7)  # the spec's (and authsign's) limit: domain certificates are short-lived
STAMP_WINDOW = timedelta(minutes=10)


@dataclass
class SigningIdentity:
    """What signs: a private key (PEM, ECDSA P-256), its certificate chain (PEM), and the TSA that dates the signature."""

    key_pem: bytes
    cert_pem: bytes
    tsa_url: str = DEFAULT_TSA
    tsa_roots: str | None = None  # PEM; None: certifi's Mozilla roots
    timeout: float = 30.0


def sign_wacz(path: Path, identity: SigningIdentity) -> dict[str, Any]:
    """Add ``signedData`` to ``path``'s datapackage-digest.json (the file is rewritten); returns a summary."""
    with zipfile.ZipFile(path) as package:
        try:
            datapackage = package.read("datapackage.json")
        except KeyError:
            raise ExportError(f"{path} has no datapackage.json: not a WACZ package") from None
    digest = "sha256:" + hashlib.sha256(datapackage).hexdigest()
    created = json.loads(datapackage).get("created")
    if not created:
        raise ExportError(f"{path}: datapackage.json has no 'created' time to sign")
    created_at = parse_iso(created)

    key = _private_key(identity.key_pem)
    given = load_certificates(identity.cert_pem)
    if not given:
        raise ExportError("no certificate in --sign-cert")
    leaf = given[0]
    if leaf.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) != key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise ExportError("the signing key does not belong to the certificate (--sign-key, --sign-cert)")
    chain = _complete(given, load_certificates(default_roots_pem()))
    issued = leaf.not_valid_before_utc
    if not issued <= created_at <= issued + CERT_MAX_AGE:
        raise ExportError(
            f"the certificate was issued {issued:%Y-%m-%d %H:%M} UTC; the WACZ signing spec accepts signatures only in the "
            f"{CERT_MAX_AGE.days} days after a certificate's issue: sign with a fresh certificate (e.g. certbot renew --force-renewal)"
        )
    domain = _subject_name(leaf)
    signature = base64.b64encode(key.sign(digest.encode("ascii"), ec.ECDSA(hashes.SHA256()))).decode("ascii")

    roots = load_certificates(identity.tsa_roots if identity.tsa_roots is not None else default_roots_pem())
    try:
        reply, info = request_token(identity.tsa_url, signature.encode("ascii"), timeout=identity.timeout)
        check_token(reply, signature.encode("ascii"), roots)
    except TimestampError as exc:
        raise ExportError(f"signing: {exc}") from None
    stamped = parse_iso(info.gen_time)
    if not created_at - timedelta(seconds=1) <= stamped <= created_at + STAMP_WINDOW:
        raise ExportError(f"signing: the TSA dated the signature {info.gen_time}, not within {STAMP_WINDOW} of the package's creation {created}")
    tsa_chain = _complete(_token_certificates(reply), roots)

    signed = {
        "version": SPEC_VERSION,
        "software": f"archiver {__version__}",
        "hash": digest,
        "created": created,
        "signature": signature,
        "domain": domain,
        "domainCert": _pem(chain),
        "timeSignature": base64.b64encode(reply).decode("ascii"),
        "timestampCert": _pem(tsa_chain),
    }
    _replace_entry(path, "datapackage-digest.json", json.dumps({"path": "datapackage.json", "hash": digest, "signedData": signed}, indent=2).encode("utf-8"))
    return {"domain": domain, "created": created, "hash": digest, "timestamp": info.gen_time, "tsa": info.tsa_name or identity.tsa_url}


def _private_key(data: bytes) -> ec.EllipticCurvePrivateKey:
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ExportError(f"cannot read the signing key (PEM, unencrypted): {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ExportError("the signing key must be ECDSA P-256 (certbot --key-type ecdsa): WACZ verifiers check ECDSA signatures only")
    return key


def _subject_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if names:
        return str(names[0].value)
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)[0]
    except (x509.ExtensionNotFound, IndexError):
        raise ExportError("the certificate names no domain (no common name, no DNS name)") from None


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


def _complete(chain: list[x509.Certificate], roots: list[x509.Certificate]) -> list[x509.Certificate]:
    """The chain leaf first, each certificate followed by its issuer, ending with a self-signed root
    (taken from ``roots`` when the chain stops at an intermediate, as certbot's fullchain.pem does)."""
    if not chain:
        raise ExportError("no certificate given")
    ordered = [chain[0]]
    rest = list(chain[1:])
    while True:
        last = ordered[-1]
        if _signed_by(last, last):
            return ordered
        issuer = next((c for c in rest if _signed_by(last, c)), None) or next((c for c in roots if _signed_by(last, c)), None)
        if issuer is None or issuer in ordered:
            raise ExportError(f"cannot complete the certificate chain of {last.subject.rfc4514_string()}: its issuer is not among the given certificates or the trusted roots")
        ordered.append(issuer)
        if issuer in rest:
            rest.remove(issuer)


def _token_certificates(reply: bytes) -> list[x509.Certificate]:
    from rfc3161_client import decode_timestamp_response

    response = decode_timestamp_response(reply)
    certs = [x509.load_der_x509_certificate(c) for c in response.signed_data.certificates]
    signer = next(iter(response.signed_data.signer_infos))
    leaf = next((c for c in certs if c.serial_number == signer.serial_number and c.issuer == signer.issuer), None)
    if leaf is None:
        raise ExportError("the TSA's token does not include its certificate")
    return [leaf] + [c for c in certs if c is not leaf]


def _pem(chain: list[x509.Certificate]) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in chain)


def _replace_entry(path: Path, name: str, data: bytes) -> None:
    """Rewrite the zip with ``name`` replaced; every other entry is copied as it was (stored stays stored)."""
    partial = path.with_name(path.name + ".signing")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(partial, "w") as target:
        for info in source.infolist():
            if info.filename == name:
                continue
            with source.open(info) as src, target.open(info, "w", force_zip64=info.file_size > 0x7FFFFFFF) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        entry = zipfile.ZipInfo(name, datetime.now(UTC).timetuple()[:6])
        entry.compress_type = zipfile.ZIP_DEFLATED
        target.writestr(entry, data)
    partial.replace(path)


# -- checking a signed package ----------------------------------------------------------------


@dataclass
class WaczCheck:
    """What ``check_signed_wacz`` found."""

    ok: bool
    signed: bool
    domain: str | None
    created: str | None
    timestamp: str | None
    files: int
    problems: list[str]


def check_signed_wacz(path: Path, domain_roots: str | None = None, tsa_roots: str | None = None) -> WaczCheck:
    """Every check ``wacz validate --verify-auth`` makes, without authsign: each file against datapackage.json,
    datapackage.json against the digest, the signature against the domain's certificate chain (to
    ``domain_roots``, default certifi's), the token over the signature against the TSA's chain (to ``tsa_roots``)."""
    problems: list[str] = []
    with zipfile.ZipFile(path) as package:
        try:
            datapackage = package.read("datapackage.json")
            digest = json.loads(package.read("datapackage-digest.json"))
        except KeyError as exc:
            return WaczCheck(False, False, None, None, None, 0, [f"{exc.args[0]}: not a (signed) WACZ package"])
        meta = json.loads(datapackage)
        names = set(package.namelist())
        for resource in meta.get("resources", []):
            name, expected = resource.get("path"), resource.get("hash", "")
            if name not in names:
                problems.append(f"{name}: listed in datapackage.json but not in the package")
                continue
            hasher = hashlib.sha256()
            with package.open(name) as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    hasher.update(chunk)
            if expected != "sha256:" + hasher.hexdigest():
                problems.append(f"{name}: its sha256 is not the one datapackage.json lists")
    if digest.get("hash") != "sha256:" + hashlib.sha256(datapackage).hexdigest():
        problems.append("datapackage.json does not match the hash in datapackage-digest.json (edited after packaging)")
    signed = digest.get("signedData")
    files = len(meta.get("resources", []))
    if not signed:
        return WaczCheck(not problems, False, None, meta.get("created"), None, files, problems + ["the package is not signed"])
    domain, created, stamped = signed.get("domain"), signed.get("created"), None
    try:
        if signed.get("hash") != digest.get("hash"):
            problems.append("the signed hash is not the package's digest")
        if created != meta.get("created"):
            problems.append("the signed creation time is not the package's")
        chain = load_certificates(signed.get("domainCert", ""))
        trusted = load_certificates(domain_roots if domain_roots is not None else default_roots_pem())
        problems += _chain_problems(chain, trusted, "domain certificate")
        if chain:
            leaf = chain[0]
            if _subject_name(leaf) != domain:
                problems.append(f"the certificate is for {_subject_name(leaf)}, not {domain}")
            created_at = parse_iso(created)
            if not leaf.not_valid_before_utc <= created_at <= leaf.not_valid_before_utc + CERT_MAX_AGE:
                problems.append(f"signed {created}, not within {CERT_MAX_AGE.days} days of the certificate's issue ({leaf.not_valid_before_utc:%Y-%m-%d})")
            try:
                public_key = leaf.public_key()
                if isinstance(public_key, ec.EllipticCurvePublicKey):
                    public_key.verify(base64.b64decode(signed.get("signature", "")), signed["hash"].encode("ascii"), ec.ECDSA(hashes.SHA256()))
                else:
                    problems.append(f"the certificate's key is not an ECDSA key ({type(public_key).__name__}): WACZ signatures are ECDSA")
            except (InvalidSignature, ValueError, TypeError, AttributeError):
                problems.append("the signature does not verify with the certificate's key")
        tsa_chain = load_certificates(signed.get("timestampCert", ""))
        tsa_trusted = load_certificates(tsa_roots if tsa_roots is not None else default_roots_pem())
        problems += _chain_problems(tsa_chain, tsa_trusted, "TSA certificate")
        reply = base64.b64decode(signed.get("timeSignature", ""))
        try:
            check_token(reply, signed.get("signature", "").encode("ascii"), tsa_chain + tsa_trusted)
            from archiver.proof.rfc3161 import parse_reply

            stamped = parse_reply(reply).gen_time
            if not parse_iso(created) - timedelta(seconds=1) <= parse_iso(stamped) <= parse_iso(created) + STAMP_WINDOW:
                problems.append(f"the TSA dated the signature {stamped}, not within {STAMP_WINDOW} after {created}")
        except TimestampError as exc:
            problems.append(f"time signature: {exc}")
    except (ExportError, TimestampError, KeyError, ValueError) as exc:
        problems.append(f"signedData is malformed: {exc}")
    return WaczCheck(not problems, True, domain, created, stamped, files, problems)


def _chain_problems(chain: list[x509.Certificate], trusted: list[x509.Certificate], what: str) -> list[str]:
    if not chain:
        return [f"no {what}"]
    for cert, issuer in zip(chain, chain[1:], strict=False):
        if not _signed_by(cert, issuer):
            return [f"the {what} chain is broken at {cert.subject.rfc4514_string()}"]
    root = chain[-1]
    if not any(root == t for t in trusted):
        return [f"the {what} chain ends at {root.subject.rfc4514_string()}, which is not a trusted root"]
    return []
