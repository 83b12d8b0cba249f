"""SCIM's error answer (RFC 7644 §3.12): an HTTP status, a `scimType` for the 400s and
409s that have one, and a detail safe to show. Domain errors become these here, with the
statuses AWS's SCIM implementation documents."""

from __future__ import annotations

from iamd.errors import (
    AwsError,
    ConflictException,
    IdentityCenterAccessDenied,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
)

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class ScimProblem(Exception):
    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type

    @property
    def code(self) -> str:
        """AWS's name for the error (what the audit trail records)."""
        return {
            400: "ValidationException",
            401: "UnauthorizedException",
            403: "AccessDeniedException",
            404: "ResourceNotFoundException",
            409: "ConflictException",
            413: "ValidationException",
            429: "ThrottlingException",
        }.get(self.status, "InternalServerException")


def invalid_value(detail: str) -> ScimProblem:
    return ScimProblem(400, detail, "invalidValue")


def invalid_syntax(detail: str) -> ScimProblem:
    return ScimProblem(400, detail, "invalidSyntax")


def invalid_path(detail: str) -> ScimProblem:
    return ScimProblem(400, detail, "invalidPath")


def invalid_filter(detail: str) -> ScimProblem:
    return ScimProblem(400, detail, "invalidFilter")


def not_found(detail: str) -> ScimProblem:
    return ScimProblem(404, detail)


def from_domain(error: AwsError) -> ScimProblem:
    """The SCIM answer for an error of the identity store."""
    if isinstance(error, ConflictException):
        return ScimProblem(409, error.message, "uniqueness")
    if isinstance(error, ResourceNotFoundException):
        return ScimProblem(404, error.message)
    if isinstance(error, IdentityCenterAccessDenied):
        return ScimProblem(403, error.message)
    if isinstance(error, ServiceQuotaExceededException):
        return ScimProblem(400, error.message, "tooMany")
    return invalid_value(error.message)
