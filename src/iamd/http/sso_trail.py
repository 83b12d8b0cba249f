"""What Identity Center's fronts (http/identity_center.py, http/sso_authorize.py) hand the
audit trail: the request's facts and the events of services/identity_center_trail.py."""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from iamd.http.pipeline import HttpRequest
from iamd.model.identity_center import Instance
from iamd.protocol.form import header
from iamd.services.container import Services
from iamd.services.identity_center_trail import (
    RequestFacts,
    external_sign_in_event,
    identity_center_event,
    mfa_events,
    oauth_event,
    sign_in_events,
)
from iamd.services.sso_oidc import OidcSubject
from iamd.services.sso_portal import SignedIn
from iamd.services.trail import TrailRecorder

#: A device code polled too fast has its slow_down recorded at most once per this many
#: seconds: a client that ignores the interval must not be able to write an event per
#: request (authorization_pending, at most one per interval, is always recorded).
SLOW_DOWN_RECORD_SECONDS = 60.0
_SLOW_DOWN_KEPT = 4096


class SsoTrail:
    """The fronts' recorder; without a trail (`--audit-trail` off) it records nothing."""

    def __init__(self, services: Services, trail: TrailRecorder | None, region: str) -> None:
        self._services = services
        self._trail = trail
        self._region = region
        self._slow_downs: dict[str, float] = {}
        self._slow_downs_lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Whether anything is recorded (`--audit-trail`)."""
        return self._trail is not None

    def _facts(self, request: HttpRequest) -> RequestFacts:
        host = header(request.headers, b"host")
        return RequestFacts(
            when=self._services.clock.now(),
            source_ip=request.client_ip,
            user_agent=header(request.headers, b"user-agent") or None,
            request_id=self._services.ids.request_id(),
            region=self._region,
            tls_host=(host or "") if request.secure else None,
            tls=request.tls,
        )

    def call(
        self,
        request: HttpRequest,
        instance_arn: str,
        user_id: str,
        family: str,
        event_source: str,
        event_name: str,
        parameters: dict[str, Any] | None,
        error: tuple[str, str] | None = None,
    ) -> None:
        """A call made with (or issuing) the user's tokens, when the user's instance still
        exists (an event belongs to an account; without the instance there is none)."""
        if self._trail is None or not instance_arn:
            return
        user = self._services.sso_portal.portal_user(instance_arn, user_id, family)
        if user is None:
            return
        self._trail.record(
            identity_center_event(
                user, self._facts(request), event_source, event_name, parameters, error
            )
        )

    def oauth(
        self,
        request: HttpRequest,
        seen: OidcSubject,
        event_name: str,
        parameters: dict[str, Any] | None,
        response: dict[str, Any] | None,
        error: tuple[str, str] | None = None,
        device_code: str | None = None,
    ) -> None:
        """A call to the OAuth service, in the account of the instance it concerned
        (none known: a start URL, code or token iamd does not know, and nothing is
        recorded, as for a portal call with an unknown token)."""
        if self._trail is None or not seen.instance_arn:
            return
        slow_down = error is not None and error[0] == "SlowDownException"
        if slow_down and device_code and not self._first_slow_down(device_code):
            return
        with self._services.tx.read() as repos:
            instance = repos.identity_center.instance(seen.instance_arn)
        if instance is None:
            return
        user = (
            self._services.sso_portal.portal_user(
                seen.instance_arn, seen.user_id, seen.family or ""
            )
            if seen.user_id
            else None
        )
        self._trail.record(
            oauth_event(
                instance.owner_account_id,
                instance.identity_store_id,
                user,
                self._facts(request),
                event_name,
                parameters,
                response,
                error,
            )
        )

    def _first_slow_down(self, device_code: str) -> bool:
        """Whether this device code's slow_down is the first in its window."""
        key = hashlib.sha256(device_code.encode("utf-8", "replace")).hexdigest()
        now = self._services.clock.now().timestamp()
        with self._slow_downs_lock:
            last = self._slow_downs.get(key)
            if last is not None and now - last < SLOW_DOWN_RECORD_SECONDS:
                return False
            if len(self._slow_downs) >= _SLOW_DOWN_KEPT:
                self._slow_downs = {
                    k: t for k, t in self._slow_downs.items() if now - t < SLOW_DOWN_RECORD_SECONDS
                }
                if len(self._slow_downs) >= _SLOW_DOWN_KEPT:
                    self._slow_downs.clear()
            self._slow_downs[key] = now
            return True

    def external_sign_in(
        self,
        request: HttpRequest,
        instance: Instance | None,
        login_to: str,
        user_id: str | None,
        user_name: str | None,
        error: tuple[str, str] | None = None,
    ) -> None:
        """The answer of the instance's identity provider, accepted or refused (an
        answer to no sign-in iamd knows has no instance, hence no account: not
        recorded)."""
        if self._trail is None or instance is None:
            return
        self._trail.record(
            external_sign_in_event(
                instance, self._facts(request), login_to, user_id, user_name, error
            )
        )

    def password_checked(
        self,
        request: HttpRequest,
        instance: Instance,
        user_name: str,
        outcome: SignedIn | None,
        login_to: str,
        workflow: str | None = None,
    ) -> None:
        """A sign-in page's password check (a throttled attempt checks none); with
        `workflow`, the MFA step comes next under that AuthWorkflowID."""
        if self._trail is None:
            return
        services = self._services

        def find_user(name: str) -> str | None:
            with services.tx.read() as repos:
                found = repos.identity_center.user_named(instance.identity_store_id, name)
            return found.user_id if found is not None else None

        user_id = outcome.user.user_id if outcome is not None else None
        signed_in = outcome is not None and not outcome.must_change_password
        for event in sign_in_events(
            instance,
            user_name,
            user_id,
            self._facts(request),
            login_to,
            find_user,
            signed_in=signed_in,
            workflow=workflow,
            mfa_next=workflow is not None and signed_in,
        ):
            self._trail.record(event)

    def code_checked(
        self,
        request: HttpRequest,
        instance_arn: str,
        user_id: str,
        workflow: str,
        login_to: str,
        *,
        success: bool,
    ) -> None:
        """The MFA step's code check (for a sign-in whose password was right)."""
        if self._trail is None:
            return
        with self._services.tx.read() as repos:
            instance = repos.identity_center.instance(instance_arn)
            if instance is None:
                return
            user = repos.identity_center.user(instance.identity_store_id, user_id)
        user_name = user.user_name if user is not None else None
        for event in mfa_events(
            instance, user_id, user_name, self._facts(request), login_to, workflow, success=success
        ):
            self._trail.record(event)
