"""How every console page is made and read: Jinja2 templates with autoescaping, the
headers that refuse framing, inline script and caching, the session cookie, and the
forms a page posts (URL-encoded, or multipart for a file upload).

The CSP allows nothing inline: styles and images come from iamd itself (`'self'`), plus
`data:` images for the QR code the server draws; no page runs script but the policy
editor, whose one script file iamd serves itself. Text from
the database or a form is escaped by Jinja2 wherever it lands.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import secrets
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import jinja2

from iamd.errors import AwsError
from iamd.http.pipeline import HttpRequest, HttpResponse
from iamd.http.sso_pages import cookie_value
from iamd.protocol.form import header

PREFIX = "/console"
STATIC_PREFIX = f"{PREFIX}/static/"
#: A console form, file uploads included: far more than an SSH key or a certificate,
#: far less than the 1 MiB the server reads.
MAX_FORM_BYTES = 64 * 1024
#: The CSRF token of the forms shown before sign-in (double-submit: cookie and field).
SIGN_IN_CSRF_COOKIE = "iamd_console_csrf"
_CSP = (
    b"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    b"frame-ancestors 'none'; base-uri 'none'"
)
#: The policy editor's page also runs its one script file, from iamd itself, which
#: posts back to iamd alone.
_CSP_WITH_SCRIPT = _CSP + b"; script-src 'self'; connect-src 'self'"
_HEADERS = [
    (b"content-type", b"text/html; charset=utf-8"),
    (b"content-security-policy", _CSP),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
    (b"referrer-policy", b"no-referrer"),
]
_STATIC_TYPES = {
    ".css": b"text/css; charset=utf-8",
    ".js": b"text/javascript; charset=utf-8",
}


class FormTooLarge(ValueError):
    """A posted form over MAX_FORM_BYTES."""


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("iamd.http.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(status: int, template: str, *, scripts: bool = False, **values: Any) -> HttpResponse:
    page = _environment().get_template(template).render(prefix=PREFIX, **values)
    headers = list(_HEADERS)
    if scripts:
        headers[1] = (b"content-security-policy", _CSP_WITH_SCRIPT)
    return HttpResponse(status, headers, page.encode("utf-8"))


def json_answer(status: int, value: Any) -> HttpResponse:
    return HttpResponse(
        status,
        [
            (b"content-type", b"application/json"),
            (b"cache-control", b"no-store"),
            (b"x-content-type-options", b"nosniff"),
        ],
        json.dumps(value).encode("utf-8"),
    )


def redirect(location: str, *cookies: str) -> HttpResponse:
    headers = [
        (b"location", location.encode("ascii")),
        (b"cache-control", b"no-store"),
        (b"content-type", b"text/plain"),
    ]
    headers.extend((b"set-cookie", cookie.encode("ascii")) for cookie in cookies)
    return HttpResponse(303, headers, b"")


def session_cookie_name(secure: bool) -> str:
    # Over TLS the __Host- prefix makes browsers insist on Secure, Path=/ and no Domain,
    # so no other host or plain-HTTP page can plant or read it.
    return "__Host-iamd-console" if secure else "iamd-console"


def session_cookie(secure: bool, value: str, max_age: int | None = None) -> str:
    attributes = ["Path=/", "HttpOnly", "SameSite=Strict"]
    if secure:
        attributes.append("Secure")
    if max_age is not None:
        attributes.append(f"Max-Age={max_age}")
    return "; ".join([f"{session_cookie_name(secure)}={value}", *attributes])


def session_token(request: HttpRequest) -> str:
    return cookie_value(request, session_cookie_name(request.secure))


def sign_in_csrf(request: HttpRequest) -> tuple[str, str]:
    """A fresh token for a sign-in form and the cookie that carries its twin."""
    token = secrets.token_urlsafe(24)
    secure = "; Secure" if request.secure else ""
    return token, f"{SIGN_IN_CSRF_COOKIE}={token}; Path={PREFIX}; HttpOnly; SameSite=Strict{secure}"


def sign_in_csrf_ok(request: HttpRequest, fields: Mapping[str, str]) -> bool:
    cookie = cookie_value(request, SIGN_IN_CSRF_COOKIE)
    return bool(cookie) and secrets.compare_digest(cookie, fields.get("csrf", ""))


def with_cookie(response: HttpResponse, cookie: str) -> HttpResponse:
    response.headers.append((b"set-cookie", cookie.encode("ascii")))
    return response


def form_fields(request: HttpRequest) -> dict[str, str]:
    """The posted form's fields (a file field's content as text); the last value of a
    repeated field. FormTooLarge over MAX_FORM_BYTES; {} for what cannot be read."""
    if len(request.body) > MAX_FORM_BYTES:
        raise FormTooLarge()
    content_type = header(request.headers, b"content-type")
    if content_type.split(";")[0].strip().lower() == "multipart/form-data":
        return _multipart(content_type, request.body)
    try:
        return dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return {}


def _multipart(content_type: str, body: bytes) -> dict[str, str]:
    # The standard library's MIME parser reads multipart/form-data as it reads mail.
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, str] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        try:
            fields[name] = payload.decode("utf-8")
        except UnicodeDecodeError:
            # Not text: no key or certificate; the operation refuses the replacement.
            fields[name] = "\ufffd"
    return fields


def static_file(path: str) -> HttpResponse:
    name = path[len(STATIC_PREFIX) :]
    suffix = name[name.rfind(".") :] if "." in name else ""
    content_type = _STATIC_TYPES.get(suffix)
    if content_type is None or "/" in name or name.startswith("."):
        return not_found()
    try:
        data = _static(name)
    except FileNotFoundError:
        return not_found()
    return HttpResponse(
        200,
        [
            (b"content-type", content_type),
            (b"cache-control", b"public, max-age=3600"),
            (b"x-content-type-options", b"nosniff"),
        ],
        data,
    )


@cache
def _static(name: str) -> bytes:
    return resources.files("iamd.http.console").joinpath("static", name).read_bytes()


def not_found() -> HttpResponse:
    return render(404, "message.html", title="Not found", message="There is no such page.")


_T = TypeVar("_T")


def refusal(error: AwsError) -> tuple[str, int]:
    """AWS's message for a refused form action, and the page's status: 400 for the
    caller's mistakes, the error's own (503 when the database is away) otherwise."""
    return error.message or error.code, 400 if error.status < 500 else error.status


def attempt(action: Callable[[], _T]) -> tuple[_T | None, str | None, int]:
    """A form's action run: (its result, None, 200), or (None, the message the page
    shows, its status) when AWS refused it or the form's input was not usable."""
    try:
        return action(), None, 200
    except AwsError as error:
        message, status = refusal(error)
        return None, message, status
    except ValueError as bad:
        return None, str(bad), 400
