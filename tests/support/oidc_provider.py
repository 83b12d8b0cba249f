"""A real OpenID Connect provider for the AssumeRoleWithWebIdentity tests.

npm's `oidc-provider` (tests/support/node_oidc, installed from the project's lockfile by
scripts/ensure-node-deps.sh) run by Node.js, over https on loopback with a certificate
of a test CA that iamd is told to trust (`--oidc-ca-bundle`). Tokens come from its
token endpoint through the client_credentials grant: JWT access tokens whose `sub` is
the client id and whose `aud` is the resource asked for.
"""

from __future__ import annotations

import base64
import hashlib
import html
import http.cookiejar
import ipaddress
import json
import os
import re
import select
import ssl
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm

ROOT = Path(__file__).resolve().parents[2]
IDP_DIR = ROOT / "tests" / "support" / "node_oidc"
REDIRECT_URI = "https://client.example/callback"


@dataclass(frozen=True)
class IdpCa:
    """A CA certificate file and a server certificate (file, key file) for 127.0.0.1."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_ca(directory: Path, *, names: list[str] | None = None, serve_chain: bool = False) -> IdpCa:
    """A CA and a server certificate for `names` (default 127.0.0.1 and localhost);
    `serve_chain`: the server sends its certificate and the CA's (as most servers send
    their intermediate), so the top-most certificate it sends is the CA's."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "iamd test OIDC CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(n) for n in names]
                if names is not None
                else [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file = directory / "server.pem"
    cert_file.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + (ca_cert.public_bytes(serialization.Encoding.PEM) if serve_chain else b"")
    )
    key_file = directory / "server.key"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return IdpCa(ca_file, cert_file, key_file)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    key: rsa.RSAPrivateKey = field(repr=False)

    @property
    def private_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = RSAAlgorithm.to_jwk(self.key, as_dict=True)
        jwk.pop("key_ops", None)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}

    @property
    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def signing_key(kid: str) -> SigningKey:
    return SigningKey(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str = "test-client-secret-0123456789"
    # Claims added to the client's tokens (session tags, source identity...).
    claims: dict[str, Any] = field(default_factory=dict)


class NodeOidcProvider:
    """`node idp.mjs` with its JSON configuration; `start` and `stop` may alternate (the
    same port, other keys: a key rotation)."""

    def __init__(
        self,
        directory: Path,
        ca: IdpCa,
        port: int,
        clients: list[Client],
        keys: list[SigningKey],
        *,
        issuer: str | None = None,
    ) -> None:
        self.directory = directory
        self.ca = ca
        self.port = port
        self.clients = {c.client_id: c for c in clients}
        self.keys = keys
        # The issuer it writes into tokens (another's, to forge one with its own keys).
        self.issuer = issuer or f"https://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)
        self.log_path = directory / f"idp-{port}.log"

    @property
    def url(self) -> str:
        """Where it answers (its issuer unless it was given another's)."""
        return f"https://127.0.0.1:{self.port}"

    def start(self, keys: list[SigningKey] | None = None) -> None:
        if keys is not None:
            self.keys = keys
        ensure_installed()
        config = {
            "issuer": self.issuer,
            "port": self.port,
            "cert": str(self.ca.cert_file),
            "key": str(self.ca.key_file),
            "jwks": {"keys": [k.private_jwk for k in self.keys]},
            "clients": [
                {"client_id": c.client_id, "client_secret": c.secret, "claims": c.claims}
                for c in self.clients.values()
            ],
        }
        config_file = self.directory / f"idp-{self.port}.json"
        config_file.write_text(json.dumps(config))
        self.process = subprocess.Popen(
            ["node", str(IDP_DIR / "idp.mjs"), str(config_file)],
            stdout=subprocess.PIPE,
            stderr=self.log_path.open("ab"),
            cwd=IDP_DIR,
            env={**os.environ, "NODE_ENV": "test"},
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.2)
            if ready:
                line = self.process.stdout.readline()
                if b"listening" in line:
                    return
                if not line:
                    break
        self.stop()
        raise RuntimeError(f"the test OIDC provider did not start:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def token(
        self,
        client_id: str,
        resource: str = "https://sts.amazonaws.com",
        *,
        check_hostname: bool = True,
    ) -> str:
        """A JWT access token of the client_credentials grant, for `resource`
        (`check_hostname`: False for a provider serving a certificate for another name)."""
        client = self.clients[client_id]
        body = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": client.client_id,
                "client_secret": client.secret,
                "resource": resource,
                "scope": "openid",
            }
        ).encode()
        context = ssl.create_default_context(cafile=str(self.ca.ca_file))
        context.check_hostname = check_hostname
        request = urllib.request.Request(  # noqa: S310 - the test's own https provider
            f"{self.url}/token",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        with urllib.request.urlopen(request, timeout=10, context=context) as answer:  # noqa: S310
            token = json.loads(answer.read())["access_token"]
        assert isinstance(token, str)
        return token

    def id_token(self, client_id: str, login: str) -> str:
        """An ID token of the authorization code flow (with PKCE): the browser's part is
        played by urllib against oidc-provider's own login and consent pages, the
        user `login` signing in; the code is then redeemed at the token endpoint."""
        client = self.clients[client_id]
        context = ssl.create_default_context(cafile=str(self.ca.ca_file))
        browser = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context),
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            _StopAtClient(),
        )
        verifier = b64url(os.urandom(32))
        challenge = b64url(hashlib.sha256(verifier.encode()).digest())
        query = urllib.parse.urlencode(
            {
                "client_id": client.client_id,
                "response_type": "code",
                "scope": "openid",
                "redirect_uri": REDIRECT_URI,
                "state": "state-1",
                "nonce": "nonce-1",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        landed: str | None = None
        try:
            page = browser.open(f"{self.url}/auth?{query}", timeout=10).read().decode()
            for _ in range(4):
                action = re.search(r'action="([^"]+)"', page)
                prompt = re.search(r'name="prompt" value="([^"]+)"', page)
                assert action is not None, page
                form = {"prompt": prompt.group(1) if prompt else "login"}
                if form["prompt"] == "login":
                    form.update({"login": login, "password": "any"})
                target = urllib.parse.urljoin(self.url, html.unescape(action.group(1)))
                page = (
                    browser.open(target, urllib.parse.urlencode(form).encode(), timeout=10)
                    .read()
                    .decode()
                )
        except _Landed as back:
            landed = back.url
        assert landed is not None, "the provider never sent the browser back"
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(landed).query)["code"][0]
        body = urllib.parse.urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "client_id": client.client_id,
                "client_secret": client.secret,
                "code_verifier": verifier,
            }
        ).encode()
        request = urllib.request.Request(  # noqa: S310 - the test's own https provider
            f"{self.url}/token",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        with urllib.request.urlopen(request, timeout=10, context=context) as answer:  # noqa: S310
            token = json.loads(answer.read())["id_token"]
        assert isinstance(token, str)
        return token


class _Landed(Exception):
    """The provider sent the browser back to the client's redirect URI."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class _StopAtClient(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        if newurl.startswith(REDIRECT_URI):
            raise _Landed(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def ensure_installed() -> None:
    """The npm packages, installed from the lockfile when `make test` has not yet."""
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "ensure-node-deps.sh")],
        check=True,
        timeout=600,
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    segment = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


def header_of(token: str) -> dict[str, Any]:
    segment = token.split(".", maxsplit=1)[0]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded
