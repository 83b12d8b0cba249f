"""The AWS access portal page (`/start`): what `https://<store>.awsapps.com/start` shows
in AWS. The instance is named by `?store=d-0123456789` (or the start URL itself); the
user signs in with their identity store user name and password and, when the instance
asks, the MFA step (http/sso_mfa_step.py); then the page lists the accounts and the
permission sets assigned to them or their groups, and for a role gives its temporary
credentials ready to copy: `export` lines for bash, `$Env:` lines for PowerShell, `set`
lines for the Windows command prompt, and a credentials-file block, as AWS's portal
does. The credentials come from the portal service's GetRoleCredentials (same checks,
same session, same audit record as the API).

The session is a cookie (`HttpOnly; SameSite=Strict; Path=/start`, `Secure` over TLS)
naming a server-side session (services/sso_portal_sessions.py: idle and absolute
timeouts, sign-out). Every action is a POST with a CSRF token, so credentials never
travel in a URL; pages run no script and refuse framing.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from urllib.parse import quote

from iamd.errors import AwsError
from iamd.http.pipeline import HttpRequest, HttpResponse
from iamd.http.sso_mfa_step import MfaStep, message_of, refusal
from iamd.http.sso_pages import base_url, cookie_value, csrf_ok, form_page, page_response
from iamd.http.sso_password_step import PasswordRefused, check_password, sign_in_name
from iamd.http.sso_trail import SsoTrail
from iamd.model.identity_center import Instance
from iamd.services.container import Services
from iamd.services.identity_center_trail import PORTAL_EVENT_SOURCE
from iamd.services.sso_mfa import Refused
from iamd.services.sso_oidc import TokenOwner, instance_of_start_url
from iamd.services.sts import IssuedCredentials

PORTAL_PAGE = "/start"
SESSION_COOKIE = "iamd_sso_portal"
_MAX_FIELD = 256


#: "Sign in elsewhere?": a redirect to the instance's external identity provider, or
#: None for the password form (http/sso_external.py).
ProviderRedirect = Callable[[Instance], HttpResponse | None]


class PortalPage:
    def __init__(
        self,
        services: Services,
        trail: SsoTrail,
        mfa: MfaStep,
        external: ProviderRedirect | None = None,
    ) -> None:
        self._services = services
        self._trail = trail
        self._mfa = mfa
        self._external = external or (lambda _instance: None)

    def __call__(
        self, request: HttpRequest, query: Mapping[str, str], fields: Mapping[str, str]
    ) -> HttpResponse:
        if request.method not in ("GET", "POST"):
            return HttpResponse(405, [(b"content-type", b"text/plain")], b"Method not allowed\n")
        owner = self._services.portal_sessions.owner(cookie_value(request, SESSION_COOKIE))
        if request.method == "GET":
            if owner is not None:
                return self._listing(owner, None)
            return self._sign_in_or_ask(query.get("store", "")[:_MAX_FIELD], None)
        step = fields.get("step", "")
        if step == "mfa":
            return self._after_code(request, fields)
        if step == "sign-in":
            return self._sign_in(request, fields)
        if owner is None:
            return self._sign_in_or_ask(fields.get("store", "")[:_MAX_FIELD], None)
        if not csrf_ok(request, dict(fields)):
            return self._listing(owner, "The form expired; please try again.", 403)
        if step == "sign-out":
            self._services.portal_sessions.close(cookie_value(request, SESSION_COOKIE))
            self._trail.call(
                request,
                owner.instance_arn,
                owner.user_id,
                owner.family,
                PORTAL_EVENT_SOURCE,
                "Logout",
                None,
            )
            response = page_response(200, "Signed out", "<p>You are signed out.</p>")
            response.headers.append(_session_cookie(request, "", clear=True))
            return response
        if step == "credentials":
            return self._credentials(request, owner, fields)
        return self._listing(owner, None)

    # -- sign-in -----------------------------------------------------------------------

    def _instance(self, store: str) -> Instance | None:
        if not store:
            return None
        with self._services.tx.read() as repos:
            try:
                return instance_of_start_url(repos, store)
            except AwsError:
                return None

    def _sign_in_or_ask(
        self,
        store: str,
        message: str | None,
        status: int = 200,
        new_password: bool = False,
    ) -> HttpResponse:
        instance = self._instance(store)
        notice = f'<p role="alert">{html.escape(message)}</p>' if message else ""
        if instance is None:
            # No instance named: ask for the start URL (a GET form, nothing secret).
            unknown = (
                '<p role="alert">No IAM Identity Center instance has that start URL.</p>'
                if store
                else ""
            )
            body = f"""{notice}{unknown}
<form method="get" action="{PORTAL_PAGE}">
<label>Start URL or identity store id <input name="store" required
 placeholder="https://d-0123456789.awsapps.com/start"></label>
<button type="submit">Continue</button>
</form>"""
            return page_response(400 if store else status, "AWS access portal", body)
        elsewhere = self._external(instance)
        if elsewhere is not None:
            return elsewhere
        extra = (
            '<label>New password <input type="password" name="new_password" '
            'autocomplete="new-password" required></label>'
            if new_password
            else ""
        )
        body = f"""{notice}
<form method="post" action="{PORTAL_PAGE}">
<input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="step" value="sign-in">
<input type="hidden" name="store" value="{html.escape(instance.identity_store_id)}">
<label>User name <input name="username" autocomplete="username" required></label>
<label>Password <input type="password" name="password"
 autocomplete="current-password" required></label>
{extra}
<button type="submit">Sign in</button>
</form>"""
        return form_page(status, "Sign in to the AWS access portal", body, PORTAL_PAGE)

    def _sign_in(self, request: HttpRequest, fields: Mapping[str, str]) -> HttpResponse:
        store = fields.get("store", "")[:_MAX_FIELD]
        if not csrf_ok(request, dict(fields)):
            return self._sign_in_or_ask(store, "The form expired; please try again.", 403)
        instance = self._instance(store)
        if instance is None:
            return self._sign_in_or_ask(store, None)
        login_to = f"{base_url(request)}{PORTAL_PAGE}"
        outcome = check_password(self._services, self._trail, request, instance, fields, login_to)
        if isinstance(outcome, PasswordRefused):
            return self._sign_in_or_ask(
                store, outcome.message, outcome.status, outcome.ask_new_password
            )
        step = self._mfa.after_password(
            request, outcome, sign_in_name(fields), "portal", {}, login_to, PORTAL_PAGE
        )
        if step is not None:
            return step
        cookie = self._services.portal_sessions.open(
            instance.instance_arn, outcome.user.user_id, mfa=False
        )
        return _signed_in(request, cookie)

    def _after_code(self, request: HttpRequest, fields: Mapping[str, str]) -> HttpResponse:
        result = self._mfa.verify(request, fields, "portal", f"{base_url(request)}{PORTAL_PAGE}")
        if isinstance(result, Refused):
            status, message = message_of(result)
            return refusal(
                result,
                PORTAL_PAGE,
                fields.get("ticket", ""),
                page_response(
                    status,
                    "Sign-in failed",
                    f'<p role="alert">{html.escape(message)}</p>'
                    f'<p><a href="{PORTAL_PAGE}">Sign in again</a></p>',
                ),
            )
        cookie = self._services.portal_sessions.open(result.instance_arn, result.user_id, mfa=True)
        return _signed_in(request, cookie)

    # -- the portal --------------------------------------------------------------------

    def _listing(self, owner: TokenOwner, message: str | None, status: int = 200) -> HttpResponse:
        portal = self._services.sso_portal
        sections = []
        for account in portal.accounts(owner):
            roles = "".join(
                f"""<li><form method="post" action="{PORTAL_PAGE}">
<input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="step" value="credentials">
<input type="hidden" name="account_id" value="{account.account_id}">
<input type="hidden" name="role_name" value="{html.escape(role)}">
<span class="role">{html.escape(role)}</span>
<button type="submit" aria-label="Access keys for {html.escape(role)} in
 {account.account_id}">Access keys</button></form></li>"""
                for role in portal.roles(owner, account.account_id)
            )
            # The heading is the account's name (its id when it has none); the id and the
            # e-mail address follow, as AWS's portal lists them.
            name = html.escape(account.name or account.account_id)
            facts = [account.account_id] if account.name else []
            if account.email:
                facts.append(html.escape(account.email))
            details = f"<p>{' | '.join(facts)}</p>" if facts else ""
            sections.append(
                f'<section class="account" aria-label="Account {account.account_id}">'
                f"<h2>{name}</h2>{details}<ul>{roles}</ul></section>"
            )
        user_name = self._user_name(owner)
        notice = f'<p role="alert">{html.escape(message)}</p>' if message else ""
        accounts = "".join(sections) or "<p>No accounts are assigned to you.</p>"
        body = f"""{notice}<p>Signed in as <strong>{html.escape(user_name)}</strong>.</p>
{accounts}
<form method="post" action="{PORTAL_PAGE}">
<input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="step" value="sign-out">
<button type="submit">Sign out</button>
</form>"""
        return form_page(status, "AWS access portal", body, PORTAL_PAGE)

    def _credentials(
        self, request: HttpRequest, owner: TokenOwner, fields: Mapping[str, str]
    ) -> HttpResponse:
        account_id = fields.get("account_id", "")
        role_name = fields.get("role_name", "")[:64]
        if len(account_id) != 12 or not account_id.isdigit() or not role_name:
            return self._listing(owner, "Choose an account and a role.", 400)
        parameters = {"accountId": account_id, "roleName": role_name}
        try:
            issued = self._services.sso_portal.role_credentials(owner, account_id, role_name)
        except AwsError as error:
            self._trail.call(
                request,
                owner.instance_arn,
                owner.user_id,
                owner.family,
                PORTAL_EVENT_SOURCE,
                "GetRoleCredentials",
                parameters,
                (error.code, error.message),
            )
            return self._listing(owner, f"No access to {role_name} in {account_id}.", 403)
        self._trail.call(
            request,
            owner.instance_arn,
            owner.user_id,
            owner.family,
            PORTAL_EVENT_SOURCE,
            "GetRoleCredentials",
            parameters,
        )
        return _credentials_page(account_id, role_name, issued)

    def _user_name(self, owner: TokenOwner) -> str:
        with self._services.tx.read() as repos:
            instance = repos.identity_center.instance(owner.instance_arn)
            user = (
                repos.identity_center.user(instance.identity_store_id, owner.user_id)
                if instance
                else None
            )
        return user.user_name if user else ""


def _credentials_page(account_id: str, role_name: str, issued: IssuedCredentials) -> HttpResponse:
    key, secret, token = (
        html.escape(issued.access_key_id),
        html.escape(issued.secret_access_key),
        html.escape(issued.session_token),
    )
    expires = issued.expiration.strftime("%Y-%m-%dT%H:%M:%SZ")
    profile = html.escape(f"{account_id}_{role_name}")
    body = f"""<p>Temporary credentials of <strong>{html.escape(role_name)}</strong> in
account {account_id}, valid until {expires}.</p>
<h2>macOS and Linux</h2>
<pre id="bash">export AWS_ACCESS_KEY_ID="{key}"
export AWS_SECRET_ACCESS_KEY="{secret}"
export AWS_SESSION_TOKEN="{token}"</pre>
<h2>PowerShell</h2>
<pre id="powershell">$Env:AWS_ACCESS_KEY_ID="{key}"
$Env:AWS_SECRET_ACCESS_KEY="{secret}"
$Env:AWS_SESSION_TOKEN="{token}"</pre>
<h2>Windows command prompt</h2>
<pre id="cmd">set AWS_ACCESS_KEY_ID={key}
set AWS_SECRET_ACCESS_KEY={secret}
set AWS_SESSION_TOKEN={token}</pre>
<h2>AWS credentials file</h2>
<pre id="credentials-file">[{profile}]
aws_access_key_id={key}
aws_secret_access_key={secret}
aws_session_token={token}</pre>
<p><a href="{PORTAL_PAGE}">Back to the accounts</a></p>"""
    return page_response(200, "Access keys", body)


def _session_cookie(
    request: HttpRequest, value: str, *, clear: bool = False
) -> tuple[bytes, bytes]:
    attributes = f"Path={PORTAL_PAGE}; HttpOnly; SameSite=Strict"
    if request.secure:
        attributes += "; Secure"
    if clear:
        attributes += "; Max-Age=0"
    return (b"set-cookie", f"{SESSION_COOKIE}={quote(value, safe='')}; {attributes}".encode())


def portal_session_opened(request: HttpRequest, cookie: str) -> HttpResponse:
    """A session opened by an external identity provider's answer: that answer is a
    post from the provider's site, and a browser sends no SameSite=Strict cookie on a
    redirect that such a post started, so the way on is a page of iamd's own, whose
    link (and refresh) is a same-site navigation that carries the new cookie."""
    body = f"""<p>You are signed in.</p>
<p><a href="{PORTAL_PAGE}">Continue to the AWS access portal</a></p>"""
    response = page_response(200, "Signed in", body)
    response.headers.append((b"refresh", f"0; url={PORTAL_PAGE}".encode("ascii")))
    response.headers.append(_session_cookie(request, cookie))
    return response


def _signed_in(request: HttpRequest, cookie: str) -> HttpResponse:
    """303 to the portal page (post, redirect, get), with the session cookie."""
    return HttpResponse(
        303,
        [
            (b"location", PORTAL_PAGE.encode("ascii")),
            (b"cache-control", b"no-store"),
            (b"referrer-policy", b"no-referrer"),
            (b"content-type", b"text/plain"),
            _session_cookie(request, cookie),
        ],
        b"",
    )
