"""export --wacz --sign: a datapackage-digest.json signed per the WACZ signing spec, checked by py-wacz's
``wacz validate`` and by authsign's verifier (Webrecorder's reference implementation), with a throwaway
domain CA and a real TSA (openssl ts) on 127.0.0.1."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.tsa import OPENSSL, TestTSA

pytestmark = pytest.mark.skipif(OPENSSL is None, reason="the test TSA needs the openssl command (OpenSSL's ts)")
authsign = pytest.importorskip("authsign.verifier", reason="authsign (the WACZ signature verifier) is in the test extra")

DOMAIN = "archive.example"


def domain_certificate(directory: Path, issued_days_ago: float = 0.05, key_type: str = "ec") -> tuple[Path, Path, Path]:
    """(key, fullchain without the root -- as certbot writes it --, root) for DOMAIN, from a throwaway CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Domain Root")])
    root = (
        x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name).public_key(root_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=30))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(root_key, hashes.SHA256())
    )
    mid_key = ec.generate_private_key(ec.SECP256R1())
    mid_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Domain Intermediate")])
    mid = (
        x509.CertificateBuilder().subject_name(mid_name).issuer_name(root_name).public_key(mid_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=30))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1()) if key_type == "ec" else rsa.generate_private_key(65537, 2048)
    leaf = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DOMAIN)]))
        .issuer_name(mid_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=issued_days_ago)).not_valid_after(now + datetime.timedelta(days=80))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(DOMAIN)]), critical=False).sign(mid_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_path, chain_path, root_path = directory / "privkey.pem", directory / "fullchain.pem", directory / "root.pem"
    key_path.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    chain_path.write_bytes(leaf.public_bytes(pem) + mid.public_bytes(pem))
    root_path.write_bytes(root.public_bytes(pem))
    return key_path, chain_path, root_path


def fingerprint(pem_path: Path) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    return x509.load_pem_x509_certificate(pem_path.read_bytes()).fingerprint(hashes.SHA256()).hex()


@pytest.fixture(scope="module")
def tsa():
    with TestTSA("wacz") as server:
        yield server


@pytest.fixture
def setup(tmp_path, tsa):
    cli = Cli(tmp_path / "archive")
    note = tmp_path / "note.md"
    note.write_text("# A note\n\nIt cites nothing and says little.\n", encoding="utf-8")
    assert cli("capture", str(note)).exit_code == 0
    key, chain, root = domain_certificate(tmp_path)
    # The verifier's trust: our throwaway domain root and TSA root instead of Let's Encrypt's and FreeTSA's.
    roots = tmp_path / "roots.yaml"
    roots.write_text(f"domain_cert_roots:\n  - {fingerprint(root)}\ntimestamp_cert_roots:\n  - {fingerprint(tsa.root)}\n")
    return cli, key, chain, root, roots


def sign_args(tsa: TestTSA, key: Path, chain: Path, root: Path) -> list[str]:
    # The throwaway domain root is not among certifi's roots, so it goes at the end of the chain file.
    full = chain.with_name(chain.stem + "-with-root.pem")
    full.write_bytes(chain.read_bytes() + root.read_bytes())
    return ["--sign", "--sign-key", str(key), "--sign-cert", str(full), "--tsa", tsa.url, "--tsa-roots", str(tsa.root)]


def test_a_certbot_chain_is_completed_with_its_root(tmp_path):
    from archiver.outputs.wacz_sign import _complete
    from archiver.proof.rfc3161 import load_certificates

    _key, chain, root = domain_certificate(tmp_path)
    completed = _complete(load_certificates(chain.read_bytes()), load_certificates(root.read_bytes()))
    assert [c.subject.rfc4514_string() for c in completed] == ["CN=archive.example", "CN=Test Domain Intermediate", "CN=Test Domain Root"]
    with pytest.raises(Exception, match="cannot complete the certificate chain"):
        _complete(load_certificates(chain.read_bytes()), [])


def wacz_validate(path: Path, *extra: str) -> subprocess.CompletedProcess:
    # The console script: `python -m wacz` exits 0 whatever it finds.
    wacz = Path(sys.executable).parent / "wacz"
    return subprocess.run([str(wacz), "validate", "-f", str(path), *extra], capture_output=True, text=True, timeout=120)


def digest_json(path: Path) -> dict:
    with zipfile.ZipFile(path) as package:
        return json.loads(package.read("datapackage-digest.json"))


class VerifyServer:
    """authsign's verifier behind POST /verify, as ``wacz validate --verifier-url`` expects a verify server."""

    def __init__(self, roots: Path) -> None:
        verifier = authsign.Verifier(trusted_roots_filename=str(roots))

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                signed = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                try:
                    verifier(signed)
                    status = 200
                except Exception:  # noqa: BLE001 -- any failure is a refusal
                    status = 400
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/verify"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_signed_wacz_validates_and_verifies(setup, tsa, tmp_path):
    cli, key, chain, root, roots = setup
    out = tmp_path / "signed.wacz"
    result = cli("export", "--wacz", str(out), *sign_args(tsa, key, chain, root), "--json")
    assert result.exit_code == 0, result.output
    signed = json.loads(result.stdout)["wacz"]["signed"]
    assert signed["domain"] == DOMAIN and "wacz test TSA" in signed["tsa"]

    digest = digest_json(out)
    data = digest["signedData"]
    with zipfile.ZipFile(out) as package:
        datapackage = json.loads(package.read("datapackage.json"))
        stored = {i.filename: i.compress_type for i in package.infolist()}
    assert data["created"] == datapackage["created"] and data["hash"] == digest["hash"] == signed["hash"]
    assert data["domainCert"].count("BEGIN CERTIFICATE") == 3  # leaf, intermediate, root
    assert all(t == zipfile.ZIP_STORED for name, t in stored.items() if name.endswith(".warc.gz"))

    # py-wacz: the package's hashes and the signed digest agree.
    checked = wacz_validate(out)
    assert checked.returncode == 0 and "Has signature" in checked.stdout, checked.stdout + checked.stderr
    # authsign, called as wacz validate calls it, trusting our roots.
    verified = authsign.Verifier(trusted_roots_filename=str(roots))(data)
    assert verified.observer == DOMAIN
    # and wacz validate --verify-auth end to end, through a verify server.
    server = VerifyServer(roots)
    try:
        checked = wacz_validate(out, "--verify-auth", "--verifier-url", server.url)
        assert checked.returncode == 0 and "Successfully verified signature" in checked.stdout, checked.stdout + checked.stderr
    finally:
        server.close()


def test_tampered_packages_fail(setup, tsa, tmp_path):
    cli, key, chain, root, roots = setup
    out = tmp_path / "signed.wacz"
    assert cli("export", "--wacz", str(out), *sign_args(tsa, key, chain, root)).exit_code == 0
    data = digest_json(out)["signedData"]
    verifier = authsign.Verifier(trusted_roots_filename=str(roots))

    # The datapackage edited after signing: wacz validate sees the hash no longer matches.
    edited = tmp_path / "edited.wacz"
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(edited, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "datapackage.json":
                body = body.replace(b'"title"', b'"title" ', 1)
            target.writestr(info, body)
    assert wacz_validate(edited).returncode != 0

    # A signature over another hash, a certificate for another key, or a token for another signature.
    (tmp_path / "other").mkdir()
    _other_key, other_chain, other_root = domain_certificate(tmp_path / "other")
    forged = [
        {**data, "hash": "sha256:" + "0" * 64},
        {**data, "domainCert": other_chain.read_text() + other_root.read_text()},
        {**data, "signature": data["signature"][:-8] + ("A" * 8 if not data["signature"].endswith("A" * 8) else "B" * 8)},
    ]
    for bad in forged:
        with pytest.raises(Exception):  # noqa: B017 -- authsign raises whatever its checks meet; any refusal will do
            verifier(bad)
    # Signed by a domain (and dated by a TSA) the verifier does not trust.
    untrusting = roots.with_name("none.yaml")
    untrusting.write_text("domain_cert_roots: []\ntimestamp_cert_roots: []\n")
    with pytest.raises(Exception):  # noqa: B017 -- as above
        authsign.Verifier(trusted_roots_filename=str(untrusting))(data)


def test_signing_refuses_what_verifiers_would_reject(setup, tsa, tmp_path):
    cli, key, chain, root, _roots = setup
    out = tmp_path / "signed.wacz"
    (tmp_path / "old").mkdir()
    old_key, old_chain, old_root = domain_certificate(tmp_path / "old", issued_days_ago=10)
    result = cli("export", "--wacz", str(out), *sign_args(tsa, old_key, old_chain, old_root))
    assert result.exit_code == 1 and "7 days after a certificate's issue" in result.output
    assert not out.exists()  # no unsigned package left where a signed one was asked for

    (tmp_path / "rsa").mkdir()
    rsa_key, rsa_chain, rsa_root = domain_certificate(tmp_path / "rsa", key_type="rsa")
    result = cli("export", "--wacz", str(out), *sign_args(tsa, rsa_key, rsa_chain, rsa_root))
    assert result.exit_code == 1 and "ECDSA P-256" in result.output

    result = cli("export", "--wacz", str(out), *sign_args(tsa, key, old_chain, root))
    assert result.exit_code == 1 and "does not belong to the certificate" in result.output

    result = cli("export", "--wacz", str(out), "--sign", "--sign-key", str(key))
    assert result.exit_code == 2 and "--sign-cert" in result.output


def test_archiver_verify_checks_a_signed_package(setup, tsa, tmp_path):
    cli, key, chain, root, _roots = setup
    out = tmp_path / "signed.wacz"
    assert cli("export", "--wacz", str(out), *sign_args(tsa, key, chain, root)).exit_code == 0
    trust = ["--domain-roots", str(root), "--tsa-roots", str(tsa.root)]
    result = cli("verify", "--wacz", str(out), *trust)
    assert result.exit_code == 0 and f"signed for {DOMAIN}" in result.output, result.output
    # Untrusted roots (the default: Mozilla's) do not vouch for the throwaway CAs.
    result = cli("verify", "--wacz", str(out))
    assert result.exit_code == 1 and "not a trusted root" in result.output

    edited = tmp_path / "edited.wacz"
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(edited, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename.endswith(".warc.gz"):
                body = body[:-1] + bytes([body[-1] ^ 1])
            target.writestr(info, body)
    result = cli("verify", "--wacz", str(edited), *trust)
    assert result.exit_code == 1 and "sha256 is not the one datapackage.json lists" in result.output

    forged = tmp_path / "forged.wacz"
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(forged, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "datapackage-digest.json":
                doc = json.loads(body)
                doc["signedData"]["signature"] = doc["signedData"]["signature"][::-1]
                body = json.dumps(doc).encode()
            target.writestr(info, body)
    result = cli("verify", "--wacz", str(forged), *trust, "--json")
    problems = json.loads(result.stdout)["problems"]
    assert result.exit_code == 1 and any("does not verify with the certificate's key" in p for p in problems)
    assert any("time signature" in p for p in problems)  # the token was over the real signature
