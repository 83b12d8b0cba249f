"""What Identity Center's browser pages share (the device page, /authorize): the page
frame, the headers that refuse framing and caching, form and cookie parsing, and the
CSRF token: a fresh random value per form, in a hidden field and in a `SameSite=Strict`,
HttpOnly cookie scoped to the page's path; a post whose two copies differ is refused."""

from __future__ import annotations

import html
import secrets
from urllib.parse import parse_qsl, quote

from iamd.http.pipeline import HttpRequest, HttpResponse
from iamd.protocol.form import header

CSRF_COOKIE = "iamd_sso_csrf"
PAGE_HEADERS = [
    (b"content-type", b"text/html; charset=utf-8"),
    (
        b"content-security-policy",
        # img-src: the MFA registration's QR code is a data: image; still no script.
        b"default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        b"frame-ancestors 'none'; "
        b"form-action 'self'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
    (b"referrer-policy", b"no-referrer"),
]


def page_response(
    status: int, title: str, body: str, form_targets: tuple[str, ...] = ()
) -> HttpResponse:
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} - iamd</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:sans-serif;max-width:28rem;margin:3rem auto}}
label{{display:block;margin:.6rem 0}}input{{display:block;width:100%}}
pre{{white-space:pre-wrap;word-break:break-all;background:#f4f4f4;padding:.5rem}}</style>
</head><body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"""
    headers = list(PAGE_HEADERS)
    if form_targets:
        # Browsers hold a form's redirect to `form-action` too: the consent form's answer
        # is a redirect to the client's (checked) loopback origin.
        headers[1] = (
            b"content-security-policy",
            PAGE_HEADERS[1][1].replace(
                b"form-action 'self'",
                b"form-action 'self' " + " ".join(form_targets).encode("ascii"),
            ),
        )
    return HttpResponse(status, headers, page.encode("utf-8"))


def secure_cookies(response: HttpResponse) -> HttpResponse:
    """The response with every cookie it sets marked Secure: over TLS, none of the
    pages' cookies (CSRF tokens, the portal session) may later go out in clear text."""
    headers = [
        (name, value + b"; Secure")
        if name == b"set-cookie" and b"; secure" not in value.lower()
        else (name, value)
        for name, value in response.headers
    ]
    return HttpResponse(response.status, headers, response.body)


def form_page(
    status: int, title: str, body_of: str, path: str, form_targets: tuple[str, ...] = ()
) -> HttpResponse:
    """A page with a form: `body_of` has a `{csrf}` slot for the token, which the
    response's cookie carries too."""
    csrf = secrets.token_urlsafe(24)
    response = page_response(status, title, body_of.replace("{csrf}", csrf), form_targets)
    response.headers.append(
        (
            b"set-cookie",
            f"{CSRF_COOKIE}={csrf}; Path={path}; HttpOnly; SameSite=Strict".encode(),
        )
    )
    return response


def csrf_ok(request: HttpRequest, fields: dict[str, str]) -> bool:
    cookie = cookie_value(request, CSRF_COOKIE)
    return bool(cookie) and secrets.compare_digest(cookie, fields.get("csrf", ""))


def form_fields(request: HttpRequest) -> dict[str, str]:
    try:
        pairs = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return {}
    return {key: value for key, value in pairs}


def cookie_value(request: HttpRequest, name: str) -> str:
    for part in header(request.headers, b"cookie").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""


def base_url(request: HttpRequest) -> str:
    """The scheme and host the client reached iamd at (the Host header, quoted)."""
    host = header(request.headers, b"host") or "localhost"
    safe = quote(host, safe=":.[]-")
    return f"{'https' if request.secure else 'http'}://{safe}"
