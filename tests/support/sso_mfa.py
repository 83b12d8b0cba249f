"""Identity Center MFA as the tests drive it: `iamd identity-center set-mfa` and the
device commands, the registration page's seed (revealed text and QR code, decoded by
zxing-cpp), and codes computed by tests/support/totp.py, never by iamd's own code."""

from __future__ import annotations

import base64
import http.cookiejar
import io
import re
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import zxingcpp
from PIL import Image

from tests.support.servers import RunningServer
from tests.support.totp import code_at


def iamd_identity_center(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "iamd", "identity-center", *args),
            *("--data-dir", str(server.data_dir)),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def require_mfa(server: RunningServer, no_device: str = "register") -> str:
    """Sets MFA `always` on the server's instance; its ARN."""
    instance = str(server.client("sso-admin").list_instances()["Instances"][0]["InstanceArn"])
    done = iamd_identity_center(
        server,
        "set-mfa",
        "--instance-arn",
        instance,
        "--mode",
        "always",
        "--if-no-device",
        no_device,
    )
    assert done.returncode == 0, done.stderr
    return instance


def revealed_seed(page: str) -> str:
    found = re.search(r'id="mfa-secret">([A-Z2-7]+)<', page)
    assert found is not None, page
    return found.group(1)


def qr_text(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [r.format for r in found] == [zxingcpp.BarcodeFormat.QRCode]
    return str(found[0].text)


def qr_of_page(page: str) -> str:
    """The text of the page's QR code image (a data: URI)."""
    found = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert found is not None, page
    return qr_text(base64.b64decode(found.group(1)))


def secret_of_uri(uri: str) -> str:
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp"), uri
    return parse_qs(parts.query)["secret"][0]


def current_code(seed: str, steps_ahead: int = 0) -> str:
    return code_at(seed, time.time() + 30 * steps_ahead)


def wrong_code(seed: str) -> str:
    """A code of no time step near now."""
    near = {current_code(seed, k) for k in range(-3, 4)}
    return next(c for c in (f"{n:06d}" for n in range(0, 1_000_000, 111_111)) if c not in near)


class FormBrowser:
    """What a browser does on the sign-in pages: keep its cookies, post its forms."""

    def __init__(self, ca_bundle: Path | None = None) -> None:
        handlers: list[urllib.request.BaseHandler] = [
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            _NoRedirect(),
        ]
        if ca_bundle is not None:
            context = ssl.create_default_context(cafile=str(ca_bundle))
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self._opener = urllib.request.build_opener(*handlers)

    def get(self, url: str) -> tuple[int, str, dict[str, str]]:
        return self._send(urllib.request.Request(url))  # noqa: S310 - the test's own server

    def post(self, url: str, fields: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310
        return self._send(request)

    def _send(self, request: urllib.request.Request) -> tuple[int, str, dict[str, str]]:
        try:
            with self._opener.open(request, timeout=30) as response:
                return response.status, response.read().decode(), _lower(response.headers.items())
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), _lower(error.headers.items())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # The authorize page's answer is a redirect to the client's loopback listener,
    # which the tests read instead of following.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def ticket_of(page: str) -> str:
    found = re.search(r'name="ticket" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def _lower(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers}
