"""`iamd sso login` and `iamd sso logout` for boto3 and the AWS CLI v1, which have no
login command: the same flows as `aws sso login` of the CLI v2, ending in the token cache
botocore reads (`~/.aws/sso/cache/<sha1>.json`), so that boto3's SSO credential provider
and its token refresh take over from there.

The profile's configuration is botocore's: an `sso-session` (authorization code with
PKCE by default, the device flow with `use_device_code`) or a legacy profile with
`sso_start_url` and `sso_region` of its own (the device flow only, and no refresh, as
the CLI v2 does it). The endpoint comes from the same configuration as every other
call (`AWS_ENDPOINT_URL`, `[services]` sections, `ca_bundle`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.utils import JSONFileCache, SSOTokenLoader

DEFAULT_CACHE_DIR = Path("~/.aws/sso/cache")
_DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_DEFAULT_SCOPES = ("sso:account:access",)
# The callback the CLI v2 registers; the port is chosen at each login (RFC 8252 §7.3).
_REDIRECT_PATH = "/oauth/callback"
# A registration this close to its end is replaced rather than reused.
_REGISTRATION_MARGIN = timedelta(minutes=15)
# How long the browser has to come back (iamd keeps a pending authorization 10 minutes).
_AUTHORIZE_SECONDS = 600
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

Say = Callable[[str], None]
OpenBrowser = Callable[[str], bool]


class SsoLoginError(Exception):
    """A login that cannot go on; the message says why, in one line, without a secret."""


@dataclass(frozen=True, slots=True)
class SsoConfig:
    """Where and as what a profile signs in."""

    profile: str
    # The sso-session's name, or None for a legacy profile.
    session_name: str | None
    start_url: str
    region: str
    scopes: tuple[str, ...]


def sso_config(session: botocore.session.Session, profile: str) -> SsoConfig:
    """The SSO configuration of `profile`, or SsoLoginError naming what is missing."""
    config = session.full_config
    profiles: dict[str, dict[str, Any]] = config.get("profiles", {})
    if profile not in profiles:
        raise SsoLoginError(f"The config profile ({profile}) could not be found")
    values = profiles[profile]
    name = values.get("sso_session")
    if name is not None:
        sessions: dict[str, dict[str, Any]] = config.get("sso_sessions", {})
        if name not in sessions:
            raise SsoLoginError(
                f'The profile "{profile}" is configured to use the SSO token provider '
                f'but the "{name}" sso_session configuration does not exist.'
            )
        values = sessions[name]
    missing = [key for key in ("sso_start_url", "sso_region") if not values.get(key)]
    if missing:
        raise SsoLoginError(
            f"Missing the following required SSO configuration values: {', '.join(missing)}. "
            "To make sure this profile is properly configured to use SSO, please run: "
            "aws configure sso"
        )
    scopes = tuple(
        scope.strip()
        for scope in str(values.get("sso_registration_scopes", "")).split(",")
        if scope.strip()
    )
    return SsoConfig(
        profile,
        name,
        str(values["sso_start_url"]),
        str(values["sso_region"]),
        scopes or (_DEFAULT_SCOPES if name is not None else ()),
    )


@dataclass(frozen=True, slots=True)
class _Registration:
    client_id: str
    client_secret: str
    expires_at: datetime


class SsoLogin:
    """One profile's login: register (or reuse the registration), authorize, cache."""

    def __init__(
        self,
        session: botocore.session.Session,
        config: SsoConfig,
        say: Say,
        open_browser: OpenBrowser | None,
        cache_dir: Path = DEFAULT_CACHE_DIR,
    ) -> None:
        self._config = config
        self._say = say
        self._open_browser = open_browser
        self._cache = JSONFileCache(str(cache_dir.expanduser()))
        self._oidc = session.create_client(
            "sso-oidc",
            region_name=config.region,
            config=Config(signature_version=UNSIGNED, retries={"mode": "standard"}),
        )

    def run(self, *, use_device_code: bool) -> None:
        """Log in and write the token cache; SsoLoginError when it cannot be done."""
        if not use_device_code and self._config.session_name is None:
            # As the CLI v2: only an sso-session registers for the authorization code.
            use_device_code = True
        try:
            if use_device_code:
                registration = self._registration(device=True)
                tokens = self._device_flow(registration)
            else:
                registration = self._registration(device=False)
                tokens = self._authorization_code_flow(registration)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Error")
            message = error.response.get("Error", {}).get("Message", "")
            raise SsoLoginError(f"{code}: {message}".rstrip(": ")) from None
        except BotoCoreError as error:
            raise SsoLoginError(str(error)) from None
        self._save(registration, tokens)
        self._say(f"Successfully logged into Start URL: {self._config.start_url}")

    # -- registration ---------------------------------------------------------------

    def _registration_key(self, device: bool) -> str:
        grant = "device_code" if device else "authorization_code"
        described = "|".join(
            (
                "iamd",
                self._config.start_url,
                self._config.region,
                ",".join(self._config.scopes),
                self._config.session_name or "",
                grant,
            )
        )
        return hashlib.sha256(described.encode()).hexdigest()

    def _registration(self, *, device: bool) -> _Registration:
        key = self._registration_key(device)
        try:
            cached = self._cache[key]
            expires = datetime.strptime(cached["expiresAt"], _TIME_FORMAT).replace(tzinfo=UTC)
            if expires - datetime.now(UTC) > _REGISTRATION_MARGIN:
                return _Registration(cached["clientId"], cached["clientSecret"], expires)
        except (KeyError, TypeError, ValueError):
            pass
        name = self._config.session_name or str(int(time.time()))
        request: dict[str, Any] = {"clientName": f"botocore-client-{name}", "clientType": "public"}
        if self._config.scopes:
            request["scopes"] = list(self._config.scopes)
        if not device:
            request.update(
                grantTypes=["authorization_code", "refresh_token"],
                redirectUris=[f"http://127.0.0.1{_REDIRECT_PATH}"],
                issuerUrl=self._config.start_url,
            )
        answer = self._oidc.register_client(**request)
        registration = _Registration(
            answer["clientId"],
            answer["clientSecret"],
            datetime.fromtimestamp(answer["clientSecretExpiresAt"], UTC),
        )
        self._cache[key] = {
            "clientId": registration.client_id,
            "clientSecret": registration.client_secret,
            "expiresAt": registration.expires_at.strftime(_TIME_FORMAT),
            "scopes": list(self._config.scopes),
        }
        return registration

    # -- the two flows ----------------------------------------------------------------

    def _device_flow(self, registration: _Registration) -> dict[str, Any]:
        device = self._oidc.start_device_authorization(
            clientId=registration.client_id,
            clientSecret=registration.client_secret,
            startUrl=self._config.start_url,
        )
        complete = device.get("verificationUriComplete") or device["verificationUri"]
        self._show_url(
            device["verificationUri"],
            f"\nThen enter the code:\n\n{device['userCode']}\n\n"
            "Alternatively, you may visit the following URL which will autofill the code "
            f"upon loading:\n{complete}",
            open_url=complete,
        )
        interval = float(device.get("interval") or 5)
        deadline = time.monotonic() + float(device["expiresIn"])
        errors = self._oidc.exceptions
        while time.monotonic() < deadline:
            time.sleep(interval)
            try:
                return dict(
                    self._oidc.create_token(
                        grantType=_DEVICE_GRANT,
                        clientId=registration.client_id,
                        clientSecret=registration.client_secret,
                        deviceCode=device["deviceCode"],
                    )
                )
            except errors.AuthorizationPendingException:
                continue
            except errors.SlowDownException:
                interval += 5  # RFC 8628 §3.5
            except errors.ExpiredTokenException:
                break
            except errors.AccessDeniedException:
                raise SsoLoginError("The request was denied at the sign-in page.") from None
        raise SsoLoginError("The device code expired before the request was approved.")

    def _authorization_code_flow(self, registration: _Registration) -> dict[str, Any]:
        verifier = secrets.token_urlsafe(64)  # 86 characters of RFC 7636's alphabet
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        state = secrets.token_urlsafe(24)
        with _Callback(state) as callback:
            redirect_uri = f"http://127.0.0.1:{callback.port}{_REDIRECT_PATH}"
            endpoint = urllib.parse.urlsplit(self._oidc.meta.endpoint_url)
            query = urllib.parse.urlencode(
                {
                    "response_type": "code",
                    "client_id": registration.client_id,
                    "redirect_uri": redirect_uri,
                    "state": state,
                    "code_challenge_method": "S256",
                    "scopes": " ".join(self._config.scopes),
                    "code_challenge": challenge,
                },
                quote_via=urllib.parse.quote,
            )
            # The authorize page is at the root of the service's address.
            url = f"{endpoint.scheme}://{endpoint.netloc}/authorize?{query}"
            self._show_url(url, "", open_url=url)
            code = callback.wait(_AUTHORIZE_SECONDS)
        return dict(
            self._oidc.create_token(
                grantType="authorization_code",
                clientId=registration.client_id,
                clientSecret=registration.client_secret,
                code=code,
                redirectUri=redirect_uri,
                codeVerifier=verifier,
            )
        )

    def _show_url(self, url: str, after: str, *, open_url: str) -> None:
        if self._open_browser is not None:
            self._say(
                "Attempting to automatically open the SSO authorization page in your "
                "default browser.\nIf the browser does not open or you wish to use a "
                "different device to authorize this request, open the following URL:\n"
            )
            self._say(url + "\n" + after)
            self._open_browser(open_url)
        else:
            self._say("Browser will not be automatically opened.")
            self._say("Please visit the following URL:\n")
            self._say(url + "\n" + after)

    # -- the cache ----------------------------------------------------------------------

    def _save(self, registration: _Registration, tokens: dict[str, Any]) -> None:
        expires = datetime.now(UTC) + timedelta(seconds=int(tokens["expiresIn"]))
        token: dict[str, Any] = {
            "startUrl": self._config.start_url,
            "region": self._config.region,
            "accessToken": tokens["accessToken"],
            "expiresAt": expires.strftime(_TIME_FORMAT),
        }
        if self._config.session_name is not None:
            # What botocore's SSOTokenProvider needs to refresh the token itself.
            token.update(
                clientId=registration.client_id,
                clientSecret=registration.client_secret,
                registrationExpiresAt=registration.expires_at.strftime(_TIME_FORMAT),
            )
            if tokens.get("refreshToken"):
                token["refreshToken"] = tokens["refreshToken"]
        SSOTokenLoader(cache=self._cache).save_token(
            self._config.start_url, token, session_name=self._config.session_name
        )


class _Callback:
    """The loopback listener the browser is redirected to with the code (RFC 8252)."""

    def __init__(self, state: str) -> None:
        self._state = state
        self._done = threading.Event()
        self.code: str | None = None
        self.error: str | None = None
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server's name
                outer._answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                return  # the query holds the code: never printed

        self._server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> _Callback:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, request: http.server.BaseHTTPRequestHandler) -> None:
        target = urllib.parse.urlsplit(request.path)
        query = urllib.parse.parse_qs(target.query)
        state = query.get("state", [""])[0]
        if target.path != _REDIRECT_PATH or not secrets.compare_digest(state, self._state):
            # Not the answer to this login (another page, a forged or stale state).
            self._reply(request, 400, "This is not the answer to the login under way.")
            return
        if "code" in query:
            self.code = query["code"][0]
            self._reply(request, 200, "Request approved. You can close this window.")
        else:
            error = query.get("error", ["no code"])[0]
            self.error = error if error.replace("_", "").isalnum() else "invalid_response"
            self._reply(request, 200, "The request was not approved. You can close this window.")
        self._done.set()

    @staticmethod
    def _reply(request: http.server.BaseHTTPRequestHandler, status: int, text: str) -> None:
        body = f"<!doctype html><title>iamd sso login</title><p>{text}</p>".encode()
        request.send_response(status)
        request.send_header("content-type", "text/html; charset=utf-8")
        request.send_header("content-length", str(len(body)))
        request.send_header("cache-control", "no-store")
        request.end_headers()
        request.wfile.write(body)

    def wait(self, seconds: float) -> str:
        if not self._done.wait(seconds):
            raise SsoLoginError("The browser did not come back within 10 minutes.")
        if self.code is None:
            raise SsoLoginError(f"The authorization was not granted: {self.error}.")
        return self.code


def sso_logout(session: botocore.session.Session, cache_dir: Path = DEFAULT_CACHE_DIR) -> int:
    """Revoke every cached token at its service (sso Logout) and delete it, as
    `aws sso logout` does; the number of tokens removed."""
    directory = cache_dir.expanduser()
    removed = 0
    for path in sorted(directory.glob("*.json")):
        cache = JSONFileCache(str(directory))
        try:
            token = cache[path.stem]
        except KeyError:
            continue
        if not isinstance(token, dict) or "accessToken" not in token:
            continue
        sso = session.create_client(
            "sso",
            region_name=str(token.get("region") or "us-east-1"),
            config=Config(signature_version=UNSIGNED, retries={"mode": "standard"}),
        )
        # Expired or already revoked: removing the file is what is left to do.
        with contextlib.suppress(ClientError, BotoCoreError):
            sso.logout(accessToken=token["accessToken"])
        del cache[path.stem]
        removed += 1
    return removed
