"""The one error hierarchy of iamd, named exactly after the AWS error codes.

Every layer raises these; only the fronts (HTTP, SSH, CLI) render them. Each class
knows its AWS code, its HTTP status and whether the fault is the sender's, and the
message formats AWS uses live here as constructors, so the same situation always
reads the same way. Anything that is not an ``AwsError`` reaching a front is a bug and
is answered as ``InternalFailure`` (logged once, with the request id, never a secret).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar


class AwsError(Exception):
    """An error with an AWS error code, an HTTP status and a message safe to show."""

    code: ClassVar[str] = "InternalFailure"
    status: ClassVar[int] = 500
    sender_fault: ClassVar[bool] = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def fields(self) -> dict[str, str]:
        """Members of the error's shape besides the message (JSON protocols send them)."""
        return {}


# ---------------------------------------------------------------------------------------
# Authentication (SigV4) errors.


class MissingAuthenticationToken(AwsError):
    code = "MissingAuthenticationToken"
    status = 403

    def __init__(self, message: str = "Request is missing Authentication Token") -> None:
        super().__init__(message)


class IncompleteSignature(AwsError):
    code = "IncompleteSignature"
    status = 400


class InvalidClientTokenId(AwsError):
    code = "InvalidClientTokenId"
    status = 403

    def __init__(
        self, message: str = "The security token included in the request is invalid."
    ) -> None:
        super().__init__(message)


class SignatureDoesNotMatch(AwsError):
    code = "SignatureDoesNotMatch"
    status = 403

    DEFAULT_MESSAGE: ClassVar[str] = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details."
    )

    def __init__(self, message: str = DEFAULT_MESSAGE) -> None:
        super().__init__(message)


class ExpiredToken(AwsError):
    code = "ExpiredToken"
    status = 403

    def __init__(
        self, message: str = "The security token included in the request is expired"
    ) -> None:
        super().__init__(message)


# ---------------------------------------------------------------------------------------
# Request-shape errors.


class ValidationError(AwsError):
    code = "ValidationError"
    status = 400

    @classmethod
    def constraint(
        cls, member: str, constraint: str, *, value: str | None = None, null: bool = False
    ) -> ValidationError:
        """AWS's message for one member failing one constraint (the codec's wording).

        `value` is quoted in the message; `null` says the member was missing; with
        neither (a sensitive or long value) the value is not shown.
        """
        shown = " null" if null else "" if value is None else f" '{value}'"
        return cls(
            f"1 validation error detected: Value{shown} at '{member}' failed to satisfy "
            f"constraint: {constraint}"
        )


class InvalidInput(AwsError):
    code = "InvalidInput"
    status = 400


class InvalidAction(AwsError):
    code = "InvalidAction"
    status = 400

    @classmethod
    def unknown_operation(cls, operation: str, version: str) -> InvalidAction:
        return cls(f"Could not find operation {operation} for version {version}")


class MissingAction(AwsError):
    code = "MissingAction"
    status = 400

    def __init__(self, message: str = "Missing Action") -> None:
        super().__init__(message)


class InvalidQueryParameter(AwsError):
    """AWS's common error for a query string that does not follow AWS's rules (here: a
    parameter given more than once, which no SDK sends and whose meaning is ambiguous)."""

    code = "InvalidQueryParameter"
    status = 400

    @classmethod
    def repeated(cls, name: str) -> InvalidQueryParameter:
        shown = name if len(name) <= 128 else name[:128] + "..."
        return cls(
            "The AWS query string is malformed or does not adhere to AWS standards: "
            f"the parameter {shown} is given more than once."
        )


class Throttling(AwsError):
    """Too many costly requests at once (AWS's code; botocore retries it with backoff)."""

    code = "Throttling"
    status = 400

    def __init__(self, message: str = "Rate exceeded") -> None:
        super().__init__(message)


class NotImplementedOperation(AwsError):
    """An operation that exists in the AWS model but that iamd does not serve (yet)."""

    code = "NotImplemented"
    status = 501
    sender_fault = False

    @classmethod
    def for_operation(cls, service: str, operation: str) -> NotImplementedOperation:
        return cls(f"The operation {service}:{operation} is not implemented by iamd.")


# ---------------------------------------------------------------------------------------
# Domain errors (IAM).


class NoSuchEntity(AwsError):
    code = "NoSuchEntity"
    status = 404

    @classmethod
    def named(cls, kind: str, name: str) -> NoSuchEntity:
        """A user, group or role (`kind` in lower case) that does not exist."""
        return cls(f"The {kind} with name {name} cannot be found.")

    @classmethod
    def inline_policy(cls, kind: str, policy_name: str) -> NoSuchEntity:
        """An inline policy a user, group or role does not have."""
        return cls(f"The {kind} policy with name {policy_name} cannot be found.")

    @classmethod
    def user(cls, name: str) -> NoSuchEntity:
        return cls.named("user", name)

    @classmethod
    def delegation_request(cls, request_id: str) -> NoSuchEntity:
        """A delegation request that does not exist or that the caller's account may not
        see (iamd's words: AWS publishes none)."""
        return cls(f"The delegation request with id {request_id} cannot be found.")

    @classmethod
    def group(cls, name: str) -> NoSuchEntity:
        return cls.named("group", name)

    @classmethod
    def policy(cls, arn: str) -> NoSuchEntity:
        return cls(f"Policy {arn} does not exist or is not attachable.")

    @classmethod
    def policy_version(cls, arn: str, version_id: str) -> NoSuchEntity:
        return cls(f"Policy {arn} version {version_id} does not exist or is not attachable.")

    @classmethod
    def access_key(cls, access_key_id: str) -> NoSuchEntity:
        return cls(f"The Access Key with id {access_key_id} cannot be found.")

    @classmethod
    def attached_policy(cls, arn: str) -> NoSuchEntity:
        return cls(f"Policy {arn} was not found.")

    @classmethod
    def ssh_public_key(cls, ssh_public_key_id: str) -> NoSuchEntity:
        return cls(f"The Public Key with id {ssh_public_key_id} cannot be found.")

    @classmethod
    def login_profile(cls, user_name: str) -> NoSuchEntity:
        return cls(f"Login Profile for User {user_name} cannot be found.")

    @classmethod
    def password_policy(cls, account_id: str) -> NoSuchEntity:
        # AWS names the account id "domain name" here.
        return cls(f"The Password Policy with domain name {account_id} cannot be found.")

    @classmethod
    def mfa_device(cls, serial_number: str) -> NoSuchEntity:
        return cls(f"VirtualMFADevice with serial number {serial_number} does not exist.")

    @classmethod
    def instance_profile(cls, name: str) -> NoSuchEntity:
        return cls(f"Instance Profile {name} cannot be found.")

    @classmethod
    def signing_certificate(cls, certificate_id: str) -> NoSuchEntity:
        return cls(f"The Certificate with id {certificate_id} cannot be found.")

    @classmethod
    def service_specific_credential(cls, credential_id: str) -> NoSuchEntity:
        return cls(f"No such credential {credential_id} exists")

    @classmethod
    def credential_service(cls, service_name: str) -> NoSuchEntity:
        # AWS answers NoSuchEntity here, not the model's NotSupportedService.
        return cls(f"No such service {service_name} is supported for Service Specific Credentials")

    @classmethod
    def saml_provider(cls, arn: str) -> NoSuchEntity:
        # AWS's words for a SAML provider ARN that names nothing.
        return cls(f"Manifest not found for arn {arn}")

    @classmethod
    def server_certificate(cls, name: str) -> NoSuchEntity:
        return cls(f"The Server Certificate with name {name} cannot be found.")

    @classmethod
    def oidc_provider(cls, arn: str) -> NoSuchEntity:
        return cls(f"OpenIDConnect Provider not found for arn {arn}")

    @classmethod
    def mfa_device_of_user(cls) -> NoSuchEntity:
        """A device that exists but is not enabled for the user named."""
        return cls("MFA Device invalid for user.")


class EntityAlreadyExists(AwsError):
    code = "EntityAlreadyExists"
    status = 409

    @classmethod
    def login_profile(cls, user_name: str) -> EntityAlreadyExists:
        return cls(f"Login Profile for user {user_name} already exists.")

    @classmethod
    def saml_provider(cls, name: str) -> EntityAlreadyExists:
        return cls(f"SAMLProvider {name} already exists.")

    @classmethod
    def server_certificate(cls, name: str) -> EntityAlreadyExists:
        # AWS's words, as Terraform users quote them.
        return cls(f"The Server Certificate with name {name} already exists.")

    @classmethod
    def oidc_provider(cls, url: str) -> EntityAlreadyExists:
        # AWS's words, as Terraform users quote them (the URL with its scheme).
        return cls(f"Provider with url https://{url} already exists.")

    @classmethod
    def delegation_workflow(cls, workflow_id: str) -> EntityAlreadyExists:
        """A partner's second delegation request with one workflow id (iamd's words)."""
        return cls(f"A delegation request with RequestorWorkflowId {workflow_id} already exists.")


class UnmodifiableEntity(AwsError):
    """A change to a service-linked role that only its service may make."""

    code = "UnmodifiableEntity"
    status = 400

    @classmethod
    def protected_role(cls, name: str) -> UnmodifiableEntity:
        return cls(
            f"Cannot perform the operation on the protected role '{name}' - "
            "this role is only modifiable by AWS"
        )


class EntityTemporarilyUnmodifiable(AwsError):
    code = "EntityTemporarilyUnmodifiable"
    status = 409


class PasswordPolicyViolation(AwsError):
    code = "PasswordPolicyViolation"
    status = 400

    # AWS's one sentence for every broken rule, from CreateLoginProfile,
    # UpdateLoginProfile and ChangePassword alike; it never says which rule.
    def __init__(
        self, message: str = "Password does not conform to the account password policy."
    ) -> None:
        super().__init__(message)


class InvalidUserType(AwsError):
    code = "InvalidUserType"
    status = 400


class LimitExceeded(AwsError):
    code = "LimitExceeded"
    status = 409

    @classmethod
    def quota(cls, quota_name: str, limit: int) -> LimitExceeded:
        return cls(f"Cannot exceed quota for {quota_name}: {limit}")


class DeleteConflict(AwsError):
    code = "DeleteConflict"
    status = 409

    # What still hangs off a user, group or role, in AWS's words: inline policies are
    # "deleted", managed ones "detached", and DeleteUser reports a membership with the
    # same sentence DeleteGroup uses for members.
    LOGIN_PROFILE: ClassVar[str] = "Cannot delete entity, must delete login profile first."
    ACCESS_KEYS: ClassVar[str] = "Cannot delete entity, must delete access keys first."
    SIGNING_CERTIFICATES: ClassVar[str] = (
        "Cannot delete entity, must delete signing certificates first."
    )
    INLINE_POLICIES: ClassVar[str] = "Cannot delete entity, must delete policies first."
    ATTACHED_POLICIES: ClassVar[str] = "Cannot delete entity, must detach all policies first."
    GROUP_MEMBERSHIPS: ClassVar[str] = "Cannot delete entity, must remove users from group first."
    # AWS names no SSH keys here: the sentence is its generic one for what still refers
    # to the user.
    SSH_PUBLIC_KEYS: ClassVar[str] = "Cannot delete entity, must remove referenced objects first."
    # Service-specific credentials hold up DeleteUser too; AWS's generic sentence.
    SERVICE_SPECIFIC_CREDENTIALS: ClassVar[str] = (
        "Cannot delete entity, must remove referenced objects first."
    )
    MFA_DEVICES: ClassVar[str] = "Cannot delete entity, must delete MFA device first."
    # DeleteRole of a role in a profile and DeleteInstanceProfile of a profile holding a
    # role say the same.
    INSTANCE_PROFILES: ClassVar[str] = (
        "Cannot delete entity, must remove roles from instance profile first."
    )

    @classmethod
    def mfa_device_in_use(cls) -> DeleteConflict:
        return cls("MFA VirtualDevice in use. Must deactivate first.")

    @classmethod
    def policy_attached(cls) -> DeleteConflict:
        return cls("Cannot delete a policy attached to entities.")

    @classmethod
    def policy_versions(cls) -> DeleteConflict:
        return cls(
            "This policy has more than one version. Before you delete a policy, you must "
            "delete the policy's versions. The default version is deleted with the policy."
        )

    @classmethod
    def default_version(cls) -> DeleteConflict:
        return cls("Cannot delete the default version of a policy.")


class InvalidAuthenticationCode(AwsError):
    """EnableMFADevice / ResyncMFADevice codes that are wrong, stale or already used."""

    code = "InvalidAuthenticationCode"
    status = 403

    def __init__(self, message: str = "Authentication code for device is not valid.") -> None:
        super().__init__(message)


class MalformedPolicyDocument(AwsError):
    code = "MalformedPolicyDocument"
    status = 400


class PolicyNotAttachable(AwsError):
    code = "PolicyNotAttachable"
    status = 400


class ReportNotPresent(AwsError):
    # AWS sends these three with no message at all; iamd says what to do instead.
    code = "ReportNotPresent"
    status = 410

    def __init__(
        self,
        message: str = "The credential report does not exist. "
        "To generate a credential report, use GenerateCredentialReport.",
    ) -> None:
        super().__init__(message)


class ReportExpired(AwsError):
    code = "ReportExpired"
    status = 410

    def __init__(
        self,
        message: str = "The most recent credential report has expired. "
        "To generate a new credential report, use GenerateCredentialReport.",
    ) -> None:
        super().__init__(message)


class ReportInProgress(AwsError):
    code = "ReportInProgress"
    status = 404

    def __init__(self, message: str = "The credential report is still being generated.") -> None:
        super().__init__(message)


class ServiceFailure(AwsError):
    code = "ServiceFailure"
    status = 500
    sender_fault = False


# ---------------------------------------------------------------------------------------
# Authorization.


class PackedPolicyTooLarge(AwsError):
    """STS: the session policies and tags of AssumeRole take too much room."""

    code = "PackedPolicyTooLarge"
    status = 400


class ExpiredTradeInToken(AwsError):
    """STS GetDelegatedAccessToken: the delegation period of the token has ended."""

    code = "ExpiredTradeInTokenException"
    status = 400


class InvalidAuthorizationMessageException(AwsError):
    """DecodeAuthorizationMessage: the message was not sealed by iamd for this account."""

    code = "InvalidAuthorizationMessageException"
    status = 400

    def __init__(
        self, message: str = "The encoded authorization message is invalid or not of this account."
    ) -> None:
        super().__init__(message)


class AccessDenied(AwsError):
    code = "AccessDenied"
    status = 403
    # The authorizer's refusals can explain themselves (DecodeAuthorizationMessage's
    # JSON), built only when the caller asked for an encoded message.
    explain: Callable[[], dict[str, Any]] | None = None

    @classmethod
    def outside_account(cls, change: str) -> AccessDenied:
        """A change to an AWS managed policy, which lives in AWS's account.

        `change` reads like AWS's: "delete policies", "create versions for policies".
        """
        return cls(f"Cannot {change} outside your own account.")

    @classmethod
    def session_cannot_nest(cls) -> AccessDenied:
        """GetSessionToken called with session credentials (iam-facts §4.2)."""
        return cls("Cannot call GetSessionToken with session credentials")

    @classmethod
    def federation_cannot_nest(cls) -> AccessDenied:
        """GetFederationToken called with session credentials (AWS's observed message)."""
        return cls("Cannot call GetFederationToken with session credentials")

    # STS's answers when an MFA code does not authenticate (GetSessionToken, AssumeRole).
    @classmethod
    def mfa_code_invalid(cls) -> AccessDenied:
        """A wrong, stale or already used code for a device the user has."""
        return cls("MultiFactorAuthentication failed with invalid MFA one time pass code.")

    @classmethod
    def mfa_device_unknown(cls) -> AccessDenied:
        """A serial number that names no device enabled for the caller."""
        return cls(
            "MultiFactorAuthentication failed, unable to validate MFA code.  "
            "Please verify your MFA serial number is valid and associated with this user."
        )


# ---------------------------------------------------------------------------------------
# Server-side.


class InternalFailure(AwsError):
    code = "InternalFailure"
    status = 500
    sender_fault = False

    def __init__(
        self, message: str = "The request processing has failed because of an unknown error."
    ) -> None:
        super().__init__(message)


class ServiceUnavailable(AwsError):
    """The database cannot serve the request now (unreachable, or a bounded wait ran out).

    AWS's common error for a temporary failure: the SDKs retry a 503 with back-off
    (botocore's legacy and standard retry modes both do), where an InternalFailure
    reads as a bug.
    """

    code = "ServiceUnavailable"
    status = 503
    sender_fault = False

    def __init__(
        self, message: str = "The request has failed due to a temporary failure of the server."
    ) -> None:
        super().__init__(message)


# ---------------------------------------------------------------------------------------
# SSH public keys (UploadSSHPublicKey family).


class UnrecognizedPublicKeyEncoding(AwsError):
    """The text is not a public key in any encoding iamd reads."""

    code = "UnrecognizedPublicKeyEncoding"
    status = 400

    def __init__(
        self,
        message: str = (
            "The SSH public key could not be decoded. "
            "It must be in ssh-rsa (OpenSSH), SSH2 or PEM format."
        ),
    ) -> None:
        super().__init__(message)


class InvalidPublicKey(AwsError):
    """A readable public key that IAM does not accept (size, algorithm, certificate...)."""

    code = "InvalidPublicKey"
    status = 400

    @classmethod
    def rsa_size(cls, bits: int) -> InvalidPublicKey:
        return cls(
            f"The SSH public key is {bits} bits long; RSA keys must be between 2048 and 16384 bits."
        )

    @classmethod
    def unsupported_type(cls, key_type: str) -> InvalidPublicKey:
        return cls(f"The SSH public key type {key_type} is not supported.")

    @classmethod
    def certificate(cls) -> InvalidPublicKey:
        return cls("The SSH public key is a certificate; upload the public key itself.")

    @classmethod
    def private_key(cls) -> InvalidPublicKey:
        return cls("The SSH public key body is a private key; upload the public key only.")


class DuplicateSSHPublicKey(AwsError):
    code = "DuplicateSSHPublicKey"
    status = 400

    def __init__(
        self,
        message: str = "The SSH public key is already associated with the specified IAM user.",
    ) -> None:
        super().__init__(message)


class MalformedCertificate(AwsError):
    """A certificate, chain or private key IAM cannot read, or one out of its validity."""

    code = "MalformedCertificate"
    status = 400

    @classmethod
    def unparsable(cls) -> MalformedCertificate:
        return cls("Unable to parse certificate. Please ensure the certificate is in PEM format.")

    @classmethod
    def private_key(cls) -> MalformedCertificate:
        return cls("Unable to parse private key. Please ensure the private key is in PEM format.")

    @classmethod
    def expired(cls) -> MalformedCertificate:
        return cls("The certificate has expired.")

    @classmethod
    def chain(cls, index: int) -> MalformedCertificate:
        """The chain does not certify the body: `index` is the chain position whose
        certificate was not signed by the next one, -1 when the body itself was not
        signed by the chain's first certificate (AWS's numbering)."""
        return cls(
            "Unable to validate certificate chain. The certificate chain must start with the "
            "immediate signing certificate, followed by any intermediaries in order. The index "
            f"within the chain of the invalid certificate is: {index}"
        )


class InvalidCertificate(AwsError):
    """A readable signing certificate that cannot be used (outside its validity)."""

    code = "InvalidCertificate"
    status = 400

    @classmethod
    def expired(cls) -> InvalidCertificate:
        return cls("The certificate has expired.")

    @classmethod
    def not_yet_valid(cls) -> InvalidCertificate:
        return cls("The certificate is not yet valid.")


class DuplicateCertificate(AwsError):
    code = "DuplicateCertificate"
    status = 409

    def __init__(
        self,
        message: str = (
            "The same certificate is already associated with an IAM user in the account."
        ),
    ) -> None:
        super().__init__(message)


class KeyPairMismatch(AwsError):
    code = "KeyPairMismatch"
    status = 400

    def __init__(
        self,
        message: str = (
            "Unable to validate certificate and private key. "
            "Please ensure that the certificate matches the private key."
        ),
    ) -> None:
        super().__init__(message)


# ---------------------------------------------------------------------------------------
# JSON-protocol request errors (CodeCommit and the other JSON services).


class SerializationException(AwsError):
    """A JSON body that is not JSON, or a value of the wrong JSON type for its member."""

    code = "SerializationException"
    status = 400


class UnknownOperationException(AwsError):
    """An ``X-Amz-Target`` that names no operation of the service."""

    code = "UnknownOperationException"
    status = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message)


# ---------------------------------------------------------------------------------------
# CodeCommit repositories. CodeCommit answers HTTP 400 for all of these.


class RepositoryNameExistsException(AwsError):
    code = "RepositoryNameExistsException"
    status = 400

    @classmethod
    def named(cls, name: str) -> RepositoryNameExistsException:
        return cls(f"Repository named {name} already exists")


class RepositoryDoesNotExistException(AwsError):
    code = "RepositoryDoesNotExistException"
    status = 400

    @classmethod
    def named(cls, name: str, account_id: str) -> RepositoryDoesNotExistException:
        # AWS's wording: "<name> for <account id>".
        return cls(f"{name} for {account_id}")


class InvalidContinuationTokenException(AwsError):
    code = "InvalidContinuationTokenException"
    status = 400

    def __init__(self, message: str = "The continuation token is not valid.") -> None:
        super().__init__(message)


# ---------------------------------------------------------------------------------------
# AWS Organizations (JSON 1.1). Organizations answers HTTP 400 for all of these; where
# AWS's runtime message is not published, the message is the API reference's sentence.


class OrganizationsError(AwsError):
    status = 400

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason

    def fields(self) -> dict[str, str]:
        return {} if self.reason is None else {"Reason": self.reason}


class AWSOrganizationsNotInUseException(OrganizationsError):
    code = "AWSOrganizationsNotInUseException"

    def __init__(self, message: str = "Your account is not a member of an organization.") -> None:
        super().__init__(message)


class AlreadyInOrganizationException(OrganizationsError):
    code = "AlreadyInOrganizationException"

    def __init__(
        self, message: str = "The AWS account is already a member of an organization."
    ) -> None:
        super().__init__(message)


class OrganizationsAccessDenied(OrganizationsError):
    """A member account calling an operation only the management account may call."""

    code = "AccessDeniedException"

    def __init__(
        self, message: str = "You don't have permissions to access this resource."
    ) -> None:
        super().__init__(message)


class ConstraintViolationException(OrganizationsError):
    code = "ConstraintViolationException"

    @classmethod
    def because(cls, reason: str, message: str) -> ConstraintViolationException:
        return cls(message, reason)


class InvalidInputException(OrganizationsError):
    code = "InvalidInputException"

    PATTERN: ClassVar[str] = "You provided a value that does not match the required pattern."

    @classmethod
    def because(cls, reason: str, message: str) -> InvalidInputException:
        return cls(message, reason)

    @classmethod
    def next_token(cls) -> InvalidInputException:
        return cls(
            "You specified an invalid value for nextToken. You must get the value from "
            "the response to a previous call to the API.",
            "INVALID_NEXT_TOKEN",
        )


class AccountNotFoundException(OrganizationsError):
    code = "AccountNotFoundException"

    def __init__(self, message: str = "You specified an account that doesn't exist.") -> None:
        super().__init__(message)


class AccountAlreadyClosedException(OrganizationsError):
    code = "AccountAlreadyClosedException"

    def __init__(
        self, message: str = "You attempted to close an account that is already closed."
    ) -> None:
        super().__init__(message)


class ChildNotFoundException(OrganizationsError):
    code = "ChildNotFoundException"

    def __init__(
        self,
        message: str = "We can't find an organizational unit (OU) or AWS account with the "
        "ChildId that you specified.",
    ) -> None:
        super().__init__(message)


class ParentNotFoundException(OrganizationsError):
    code = "ParentNotFoundException"

    def __init__(
        self, message: str = "We can't find a root or OU with the ParentId that you specified."
    ) -> None:
        super().__init__(message)


class SourceParentNotFoundException(OrganizationsError):
    code = "SourceParentNotFoundException"

    def __init__(
        self,
        message: str = "We can't find a source root or OU with the ParentId that you specified.",
    ) -> None:
        super().__init__(message)


class DestinationParentNotFoundException(OrganizationsError):
    code = "DestinationParentNotFoundException"

    def __init__(
        self,
        message: str = "We can't find the destination container (a root or OU) with the "
        "ParentId that you specified.",
    ) -> None:
        super().__init__(message)


class DuplicateAccountException(OrganizationsError):
    code = "DuplicateAccountException"

    def __init__(
        self, message: str = "That account is already present in the specified destination."
    ) -> None:
        super().__init__(message)


class RootNotFoundException(OrganizationsError):
    code = "RootNotFoundException"

    def __init__(self, message: str = "You specified a root that doesn't exist.") -> None:
        super().__init__(message)


class OrganizationalUnitNotFoundException(OrganizationsError):
    code = "OrganizationalUnitNotFoundException"

    def __init__(
        self, message: str = "You specified an organizational unit that doesn't exist."
    ) -> None:
        super().__init__(message)


class DuplicateOrganizationalUnitException(OrganizationsError):
    code = "DuplicateOrganizationalUnitException"

    def __init__(self, message: str = "An OU with the same name already exists.") -> None:
        super().__init__(message)


class OrganizationalUnitNotEmptyException(OrganizationsError):
    code = "OrganizationalUnitNotEmptyException"

    def __init__(
        self,
        message: str = "The specified OU is not empty. Move all accounts to another root or "
        "to other OUs, remove all child OUs, and try the operation again.",
    ) -> None:
        super().__init__(message)


class OrganizationNotEmptyException(OrganizationsError):
    code = "OrganizationNotEmptyException"

    def __init__(
        self,
        message: str = "To delete an organization you must first remove all member accounts "
        "(except the master).",
    ) -> None:
        super().__init__(message)


class PolicyNotFoundException(OrganizationsError):
    code = "PolicyNotFoundException"

    def __init__(
        self, message: str = "We can't find a policy with the PolicyId that you specified."
    ) -> None:
        super().__init__(message)


class PolicyInUseException(OrganizationsError):
    code = "PolicyInUseException"

    def __init__(
        self,
        message: str = "The policy is attached to one or more entities. You must detach it "
        "from all roots, OUs, and accounts before performing this operation.",
    ) -> None:
        super().__init__(message)


class PolicyNotAttachedException(OrganizationsError):
    code = "PolicyNotAttachedException"

    def __init__(
        self,
        message: str = "The policy isn't attached to the specified target in the specified root.",
    ) -> None:
        super().__init__(message)


class DuplicatePolicyAttachmentException(OrganizationsError):
    code = "DuplicatePolicyAttachmentException"

    def __init__(
        self, message: str = "The selected policy is already attached to the specified target."
    ) -> None:
        super().__init__(message)


class DuplicatePolicyException(OrganizationsError):
    code = "DuplicatePolicyException"

    def __init__(self, message: str = "A policy with the same name already exists.") -> None:
        super().__init__(message)


class PolicyTypeNotEnabledException(OrganizationsError):
    code = "PolicyTypeNotEnabledException"

    def __init__(
        self, message: str = "This operation can be performed only for enabled policy types."
    ) -> None:
        super().__init__(message)


class PolicyTypeAlreadyEnabledException(OrganizationsError):
    code = "PolicyTypeAlreadyEnabledException"

    def __init__(self, message: str = "The specified policy type is already enabled.") -> None:
        super().__init__(message)


class MalformedPolicyDocumentException(OrganizationsError):
    code = "MalformedPolicyDocumentException"

    DEFAULT: ClassVar[str] = (
        "The provided policy document does not meet the requirements of the specified policy type."
    )

    def __init__(self, message: str = DEFAULT) -> None:
        super().__init__(message)


class TargetNotFoundException(OrganizationsError):
    code = "TargetNotFoundException"

    def __init__(self, message: str = "You specified a target that doesn't exist.") -> None:
        super().__init__(message)


class CreateAccountStatusNotFoundException(OrganizationsError):
    code = "CreateAccountStatusNotFoundException"

    def __init__(
        self,
        message: str = "We can't find an create account request with the "
        "CreateAccountRequestId that you specified.",
    ) -> None:
        super().__init__(message)


class EmailAlreadyTaken(AwsError):
    """Raised by the accounts directory when a new account's email is another's.

    Never answered as such: CreateAccount's background step records it as the request's
    FailureReason EMAIL_ALREADY_EXISTS, as AWS does.
    """

    code = "EmailAlreadyExists"
    status = 409


# ---------------------------------------------------------------------------------------
# CloudTrail's LookupEvents errors (JSON 1.1; the codes are the exceptions' names).


class InvalidLookupAttributesException(AwsError):
    code = "InvalidLookupAttributesException"
    status = 400


class InvalidTimeRangeException(AwsError):
    code = "InvalidTimeRangeException"
    status = 400

    def __init__(self, message: str = "Start time must be before end time.") -> None:
        super().__init__(message)


class InvalidNextTokenException(AwsError):
    code = "InvalidNextTokenException"
    status = 400

    def __init__(self, message: str = "Invalid NextToken.") -> None:
        super().__init__(message)


class InvalidMaxResultsException(AwsError):
    code = "InvalidMaxResultsException"
    status = 400

    def __init__(self, message: str = "MaxResults must be between 1 and 50.") -> None:
        super().__init__(message)


class InvalidEventCategoryException(AwsError):
    code = "InvalidEventCategoryException"
    status = 400


# ---------------------------------------------------------------------------------------
# IAM Identity Center errors (identitystore and sso-admin: JSON 1.1, `Reason` members).


class IdentityCenterError(AwsError):
    status = 400

    def __init__(self, message: str, **fields: str | None) -> None:
        super().__init__(message)
        self._fields = {key: value for key, value in fields.items() if value is not None}

    def fields(self) -> dict[str, str]:
        return dict(self._fields)


class ResourceNotFoundException(IdentityCenterError):
    code = "ResourceNotFoundException"

    @classmethod
    def of(
        cls, resource_type: str, resource_id: str | None, message: str
    ) -> ResourceNotFoundException:
        """identitystore's shape: the kind (USER, GROUP, GROUP_MEMBERSHIP, IDENTITY_STORE)
        and the id that was not found."""
        return cls(message, ResourceType=resource_type, ResourceId=resource_id)


class ConflictException(IdentityCenterError):
    code = "ConflictException"

    @classmethod
    def duplicate(cls, message: str) -> ConflictException:
        return cls(message, Reason="UNIQUENESS_CONSTRAINT_VIOLATION")


class ServiceQuotaExceededException(IdentityCenterError):
    code = "ServiceQuotaExceededException"


class IdentityCenterAccessDenied(IdentityCenterError):
    code = "AccessDeniedException"


# ---------------------------------------------------------------------------------------
# Identity Center's OAuth service (sso-oidc) and portal (sso): REST-JSON, the exception's
# name in x-amzn-ErrorType, OAuth's `error` code in the body (RFC 6749, RFC 8628).


class OAuthError(AwsError):
    status = 400
    oauth_error: ClassVar[str] = "invalid_request"

    def fields(self) -> dict[str, str]:
        return {"error": self.oauth_error, "error_description": self.message}


class AuthorizationPendingException(OAuthError):
    code = "AuthorizationPendingException"
    oauth_error = "authorization_pending"


class SlowDownException(OAuthError):
    code = "SlowDownException"
    oauth_error = "slow_down"


class OAuthExpiredTokenException(OAuthError):
    code = "ExpiredTokenException"
    oauth_error = "expired_token"


class OAuthAccessDeniedException(OAuthError):
    code = "AccessDeniedException"
    oauth_error = "access_denied"


class InvalidGrantException(OAuthError):
    code = "InvalidGrantException"
    oauth_error = "invalid_grant"


class InvalidClientException(OAuthError):
    code = "InvalidClientException"
    status = 401
    oauth_error = "invalid_client"


class UnsupportedGrantTypeException(OAuthError):
    code = "UnsupportedGrantTypeException"
    oauth_error = "unsupported_grant_type"


class InvalidRequestException(OAuthError):
    code = "InvalidRequestException"
    oauth_error = "invalid_request"


class InvalidClientMetadataException(OAuthError):
    code = "InvalidClientMetadataException"
    oauth_error = "invalid_client_metadata"


class InvalidScopeException(OAuthError):
    code = "InvalidScopeException"
    oauth_error = "invalid_scope"


class InvalidRedirectUriException(OAuthError):
    code = "InvalidRedirectUriException"
    oauth_error = "invalid_redirect_uri"


class UnauthorizedClientException(OAuthError):
    code = "UnauthorizedClientException"
    oauth_error = "unauthorized_client"


class PortalError(AwsError):
    """The portal API's errors: `{"message": ...}` and x-amzn-ErrorType."""

    status = 400


class UnauthorizedException(PortalError):
    code = "UnauthorizedException"
    status = 401

    def __init__(self, message: str = "Session token not found or invalid") -> None:
        super().__init__(message)


class ForbiddenException(PortalError):
    # Not in the model; AWS answers an unassigned role with it (clients show it as is).
    code = "ForbiddenException"
    status = 403

    def __init__(self, message: str = "No access") -> None:
        super().__init__(message)


class PortalInvalidRequestException(PortalError):
    code = "InvalidRequestException"


class PortalResourceNotFoundException(PortalError):
    code = "ResourceNotFoundException"
    status = 404


# Outbound web identity federation (IAM's switch, STS's GetWebIdentityToken). AWS does not
# publish these messages; they follow the model's descriptions.


class FeatureEnabled(AwsError):
    code = "FeatureEnabled"
    status = 409

    def __init__(
        self,
        message: str = "Outbound identity federation is already enabled for this account. "
        "Use GetOutboundWebIdentityFederationInfo to read its issuer URL.",
    ) -> None:
        super().__init__(message)


class FeatureDisabled(AwsError):
    code = "FeatureDisabled"
    status = 404

    def __init__(
        self, message: str = "Outbound identity federation is not enabled for this account."
    ) -> None:
        super().__init__(message)


class OutboundWebIdentityFederationDisabled(AwsError):
    code = "OutboundWebIdentityFederationDisabledException"
    status = 403

    def __init__(
        self,
        message: str = "The outbound web identity federation feature is not enabled for this "
        "account. To use this feature, you must first enable it with "
        "EnableOutboundWebIdentityFederation.",
    ) -> None:
        super().__init__(message)


class SessionDurationEscalation(AwsError):
    code = "SessionDurationEscalationException"
    status = 403

    def __init__(
        self,
        message: str = "The requested token duration would extend the session beyond its "
        "original expiration time.",
    ) -> None:
        super().__init__(message)


class JWTPayloadSizeExceeded(AwsError):
    code = "JWTPayloadSizeExceededException"
    status = 400

    def __init__(
        self,
        message: str = "The requested token payload size exceeds the maximum allowed size. "
        "Reduce the number of request tags.",
    ) -> None:
        super().__init__(message)


# ---------------------------------------------------------------------------------------
# IAM's centralized root access (Enable/DisableOrganizationsRoot*, ListOrganizationsFeatures).
# The messages are AWS's documented ones (the IAM model's error shapes).


class OrganizationNotFoundException(AwsError):
    code = "OrganizationNotFoundException"
    status = 400

    def __init__(
        self,
        message: str = (
            "The request was rejected because no organization is associated with your account."
        ),
    ) -> None:
        super().__init__(message)


class OrganizationNotInAllFeaturesModeException(AwsError):
    code = "OrganizationNotInAllFeaturesModeException"
    status = 400

    def __init__(
        self,
        message: str = (
            "The request was rejected because your organization does not have All features enabled."
        ),
    ) -> None:
        super().__init__(message)


class ServiceAccessNotEnabledException(AwsError):
    code = "ServiceAccessNotEnabledException"
    status = 400

    def __init__(
        self,
        message: str = (
            "The request was rejected because trusted access is not enabled for IAM in "
            "Organizations."
        ),
    ) -> None:
        super().__init__(message)


class AccountNotManagementOrDelegatedAdministratorException(AwsError):
    code = "AccountNotManagementOrDelegatedAdministratorException"
    status = 400

    def __init__(
        self,
        message: str = (
            "The request was rejected because the account making the request is not the "
            "management account or delegated administrator account for centralized root "
            "access."
        ),
    ) -> None:
        super().__init__(message)


class CallerIsNotManagementAccountException(AwsError):
    code = "CallerIsNotManagementAccountException"
    status = 400

    def __init__(
        self,
        message: str = (
            "The request was rejected because the account making the request is not the "
            "management account for the organization."
        ),
    ) -> None:
        super().__init__(message)


# -- identity federation (AssumeRoleWithSAML, AssumeRoleWithWebIdentity) -----------------
# STS's own codes for an assertion or token that does not check out; all are the
# sender's fault, IDPCommunicationError included (botocore retries it).


class InvalidIdentityToken(AwsError):
    code = "InvalidIdentityToken"
    status = 400


class ExpiredTokenException(AwsError):
    code = "ExpiredTokenException"
    status = 400


class IDPRejectedClaim(AwsError):
    code = "IDPRejectedClaim"
    status = 403


class IDPCommunicationError(AwsError):
    code = "IDPCommunicationError"
    status = 400
