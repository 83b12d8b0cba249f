"""SSH public keys through boto3, with keys made by the real `ssh-keygen`.

Fingerprints are compared with `ssh-keygen -l -E md5`; the other encodings come from
`ssh-keygen -e` (SSH2 / RFC 4716, PKCS#8 PEM, PKCS#1 PEM). The parser's promise (any
text gives a key or an AWS error, never a crash) is checked with hypothesis.
"""

from __future__ import annotations

import base64
import contextlib
import re
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import dsa, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.server.iam_helpers import (
    all_pages,
    assert_recent_utc,
    error_of,
    new_user_client,
    validation_message,
)
from tests.support.servers import RunningServer, start_server

from iamd.errors import AwsError
from iamd.services.ssh_key_encoding import parse_public_key

SSH_KEY_ID = re.compile(r"APKA[A-Z2-7]{16}")
FINGERPRINT = re.compile(r"([0-9a-f]{2}:){15}[0-9a-f]{2}")
PEM = re.compile(r"-----BEGIN PUBLIC KEY-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END PUBLIC KEY-----\n")


@dataclass(frozen=True)
class KeyFile:
    """A key pair written by ssh-keygen: the public key text and its md5 fingerprint."""

    path: Path  # the private key; the public one is beside it, with .pub added

    @property
    def public_path(self) -> Path:
        return self.path.with_name(self.path.name + ".pub")

    @property
    def public(self) -> str:
        return self.public_path.read_text()

    @property
    def ssh_form(self) -> str:
        """`type base64`, as IAM stores and returns it (the comment dropped)."""
        return " ".join(self.public.split()[:2])

    @property
    def fingerprint(self) -> str:
        out = _keygen("-l", "-E", "md5", "-f", str(self.public_path))
        return out.split()[1].removeprefix("MD5:")

    def export(self, fmt: str) -> str:
        """The public key as `ssh-keygen -e -m <fmt>` writes it (RFC4716, PKCS8, PEM)."""
        return _keygen("-e", "-m", fmt, "-f", str(self.public_path))


def _keygen(*args: str) -> str:
    done = subprocess.run(
        ["ssh-keygen", *args], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout


class KeyMaker:
    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._made: dict[str, KeyFile] = {}

    def make(self, key_type: str, bits: int | None = None, name: str | None = None) -> KeyFile:
        """A key from `ssh-keygen -t key_type [-b bits]`; fresh per name, else cached."""
        label = name or f"{key_type}{bits or ''}"
        if label not in self._made:
            path = self._dir / label
            size = ["-b", str(bits)] if bits else []
            _keygen("-q", "-t", key_type, *size, "-N", "", "-C", "me@laptop", "-f", str(path))
            self._made[label] = KeyFile(path)
        return self._made[label]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyMaker:
    return KeyMaker(tmp_path_factory.mktemp("ssh-keys"))


def _user(iam: Any, name: str) -> str:
    iam.create_user(UserName=name)
    return name


def _upload(iam: Any, user: str, body: str) -> dict[str, Any]:
    return dict(iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=body)["SSHPublicKey"])


# ---------------------------------------------------------------------------------------
# Upload and Get.


def test_upload_returns_the_aws_shape_and_ssh_keygen_fingerprint(
    iam: Any, keys: KeyMaker, unique: str
) -> None:
    user = _user(iam, f"{unique}-Dev")
    key = keys.make("rsa", 2048)
    uploaded = _upload(iam, user.lower(), key.public)
    assert set(uploaded) == {
        "UserName",
        "SSHPublicKeyId",
        "Fingerprint",
        "SSHPublicKeyBody",
        "Status",
        "UploadDate",
    }
    assert uploaded["UserName"] == user
    assert SSH_KEY_ID.fullmatch(uploaded["SSHPublicKeyId"])
    assert uploaded["Fingerprint"] == key.fingerprint
    assert FINGERPRINT.fullmatch(uploaded["Fingerprint"])
    assert len(uploaded["Fingerprint"]) == 47
    # The comment is dropped: the body is `ssh-rsa <base64>`.
    assert uploaded["SSHPublicKeyBody"] == key.ssh_form
    assert uploaded["Status"] == "Active"
    assert_recent_utc(uploaded["UploadDate"])

    got = iam.get_ssh_public_key(
        UserName=user, SSHPublicKeyId=uploaded["SSHPublicKeyId"], Encoding="SSH"
    )["SSHPublicKey"]
    assert got == uploaded


def test_pem_encoding_round_trips(iam: Any, keys: KeyMaker, unique: str) -> None:
    first, second = _user(iam, f"{unique}-a"), _user(iam, f"{unique}-b")
    key = keys.make("rsa", 2048)
    uploaded = _upload(iam, first, key.public)
    pem = iam.get_ssh_public_key(
        UserName=first, SSHPublicKeyId=uploaded["SSHPublicKeyId"], Encoding="PEM"
    )["SSHPublicKey"]
    assert PEM.fullmatch(pem["SSHPublicKeyBody"])
    assert pem["Fingerprint"] == key.fingerprint
    assert {k: v for k, v in pem.items() if k != "SSHPublicKeyBody"} == {
        k: v for k, v in uploaded.items() if k != "SSHPublicKeyBody"
    }
    # The PEM is the same key as ssh-keygen's PKCS#8 export...
    assert pem["SSHPublicKeyBody"] == key.export("PKCS8")
    # ...so uploading it back is a duplicate, and elsewhere it is the very same key.
    assert (
        error_of(
            iam.upload_ssh_public_key, UserName=first, SSHPublicKeyBody=pem["SSHPublicKeyBody"]
        )[1]
        == "DuplicateSSHPublicKey"
    )
    again = _upload(iam, second, pem["SSHPublicKeyBody"])
    assert again["SSHPublicKeyBody"] == key.ssh_form
    assert again["Fingerprint"] == key.fingerprint


@pytest.mark.parametrize(
    ("key_type", "bits", "fmt"),
    [
        ("rsa", 4096, None),
        ("rsa", 4096, "RFC4716"),
        ("rsa", 2048, "PKCS8"),
        ("rsa", 2048, "PEM"),  # PKCS#1 `BEGIN RSA PUBLIC KEY`
        ("ed25519", None, None),
        ("ed25519", None, "RFC4716"),
        ("ecdsa", 256, None),
        ("ecdsa", 384, "RFC4716"),
        ("ecdsa", 521, "PKCS8"),
    ],
)
def test_accepted_encodings_give_the_ssh_keygen_fingerprint(
    iam: Any, keys: KeyMaker, unique: str, key_type: str, bits: int | None, fmt: str | None
) -> None:
    user = _user(iam, f"{unique}-{key_type}{bits}{fmt}")
    key = keys.make(key_type, bits)
    body = key.export(fmt) if fmt else key.public
    uploaded = _upload(iam, user, body)
    assert uploaded["Fingerprint"] == key.fingerprint
    assert uploaded["SSHPublicKeyBody"] == key.ssh_form


def test_the_largest_rsa_key_aws_takes_is_accepted(iam: Any, unique: str) -> None:
    user = _user(iam, f"{unique}-big")
    uploaded = _upload(iam, user, _rsa_public_of_bits(16384))
    assert uploaded["SSHPublicKeyBody"].startswith("ssh-rsa ")


def _rsa_public_of_bits(bits: int) -> str:
    # Generating a real 16384-bit key takes minutes; a public key needs only an odd
    # modulus of the right size, which is all IAM can check.
    modulus = secrets.randbits(bits) | (1 << (bits - 1)) | 1
    public = rsa.RSAPublicNumbers(65537, modulus).public_key()
    return public.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()


# ---------------------------------------------------------------------------------------
# Refusals.

UNRECOGNIZED = "UnrecognizedPublicKeyEncoding"
INVALID = "InvalidPublicKey"


def _refusal(iam: Any, user: str, body: str) -> tuple[int, str]:
    status, code, _message = error_of(
        iam.upload_ssh_public_key, UserName=user, SSHPublicKeyBody=body
    )
    return status, code


def test_short_rsa_and_dsa_keys_are_invalid(iam: Any, keys: KeyMaker, unique: str) -> None:
    user = _user(iam, f"{unique}-weak")
    assert _refusal(iam, user, keys.make("rsa", 1024).public) == (400, INVALID)
    assert _refusal(iam, user, _rsa_public_of_bits(16392)) == (400, INVALID)
    try:
        dsa_key = keys.make("dsa").public
    except subprocess.CalledProcessError:
        # OpenSSH 9.8 and later cannot make DSA keys; cryptography still can.
        private = dsa.generate_private_key(2048)
        dsa_key = private.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()
    assert _refusal(iam, user, dsa_key) == (400, INVALID)
    assert iam.list_ssh_public_keys(UserName=user)["SSHPublicKeys"] == []


def test_certificates_and_private_keys_are_invalid(
    iam: Any, keys: KeyMaker, unique: str, tmp_path: Path
) -> None:
    user = _user(iam, f"{unique}-cert")
    ca = keys.make("ed25519", name="ca")
    subject = keys.make("rsa", 2048)
    pub = tmp_path / "subject.pub"
    pub.write_text(subject.public)
    _keygen("-q", "-s", str(ca.path), "-I", "jdoe", "-n", "jdoe", str(pub))
    certificate = (tmp_path / "subject-cert.pub").read_text()
    assert certificate.startswith("ssh-rsa-cert-v01@openssh.com ")
    assert _refusal(iam, user, certificate) == (400, INVALID)

    private = subject.path.read_text()
    assert "PRIVATE KEY" in private
    status, code, message = error_of(
        iam.upload_ssh_public_key, UserName=user, SSHPublicKeyBody=private
    )
    assert (status, code) == (400, INVALID)
    assert private not in message  # a secret is never echoed back


@pytest.mark.parametrize(
    "body",
    [
        "hello",
        "ssh-rsa",
        "ssh-rsa not-base64!",
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ",  # truncated
        "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQDf",  # the type disagrees with the blob
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n",
        "ssh-foo AAAAB3NzaC1mb28=",
    ],
)
def test_text_that_is_no_key_is_unrecognized(iam: Any, unique: str, body: str) -> None:
    user = f"{unique}-junk"
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_user(UserName=user)
    assert _refusal(iam, user, body) == (400, UNRECOGNIZED)


def test_the_same_key_twice_is_a_duplicate_for_that_user_only(
    iam: Any, keys: KeyMaker, unique: str
) -> None:
    first, second = _user(iam, f"{unique}-one"), _user(iam, f"{unique}-two")
    key = keys.make("ecdsa", 256)
    _upload(iam, first, key.public)
    # Another comment, another encoding: still the same key.
    for body in (key.ssh_form + " other@host", key.export("RFC4716")):
        status, code, message = error_of(
            iam.upload_ssh_public_key, UserName=first, SSHPublicKeyBody=body
        )
        assert (status, code) == (400, "DuplicateSSHPublicKey")
        assert message
    _upload(iam, second, key.public)


def test_at_most_five_keys_per_user_active_or_not(iam: Any, keys: KeyMaker, unique: str) -> None:
    user = _user(iam, f"{unique}-five")
    ids = [
        _upload(iam, user, keys.make("ed25519", name=f"{unique}-q{i}").public)["SSHPublicKeyId"]
        for i in range(5)
    ]
    iam.update_ssh_public_key(UserName=user, SSHPublicKeyId=ids[0], Status="Inactive")
    sixth = keys.make("ed25519", name=f"{unique}-q5").public
    assert error_of(iam.upload_ssh_public_key, UserName=user, SSHPublicKeyBody=sixth) == (
        409,
        "LimitExceeded",
        "Cannot exceed quota for SSHPublicKeysPerUser: 5",
    )
    iam.delete_ssh_public_key(UserName=user, SSHPublicKeyId=ids[0])
    _upload(iam, user, sixth)
    assert len(iam.list_ssh_public_keys(UserName=user)["SSHPublicKeys"]) == 5


# ---------------------------------------------------------------------------------------
# List, Update, Delete.


def test_list_pages_and_omits_body_and_fingerprint(iam: Any, keys: KeyMaker, unique: str) -> None:
    user = _user(iam, f"{unique}-many")
    uploaded = [
        _upload(iam, user, keys.make("ed25519", name=f"{unique}-p{i}").public) for i in range(3)
    ]
    first = iam.list_ssh_public_keys(UserName=user, MaxItems=2)
    assert first["IsTruncated"] is True
    assert len(first["SSHPublicKeys"]) == 2
    rest = iam.list_ssh_public_keys(UserName=user, Marker=first["Marker"])
    assert rest["IsTruncated"] is False
    assert "Marker" not in rest

    items, page_count = all_pages(iam, "list_ssh_public_keys", "SSHPublicKeys", 1, UserName=user)
    assert page_count == 3
    assert items == first["SSHPublicKeys"] + rest["SSHPublicKeys"]
    assert items == [
        {k: key[k] for k in ("UserName", "SSHPublicKeyId", "Status", "UploadDate")}
        for key in uploaded
    ]


def test_list_without_user_name_lists_the_caller(
    iam: Any, server: RunningServer, keys: KeyMaker, unique: str
) -> None:
    client, _key = new_user_client(server, iam, f"{unique}-self")
    uploaded = _upload(iam, f"{unique}-self", keys.make("rsa", 2048).public)
    listed = client.list_ssh_public_keys()["SSHPublicKeys"]
    assert [k["SSHPublicKeyId"] for k in listed] == [uploaded["SSHPublicKeyId"]]
    assert listed[0]["UserName"] == f"{unique}-self"


def test_update_status_and_delete(iam: Any, keys: KeyMaker, unique: str) -> None:
    user = _user(iam, f"{unique}-upd")
    key_id = _upload(iam, user, keys.make("rsa", 2048).public)["SSHPublicKeyId"]

    iam.update_ssh_public_key(UserName=user, SSHPublicKeyId=key_id, Status="Inactive")
    got = iam.get_ssh_public_key(UserName=user, SSHPublicKeyId=key_id, Encoding="SSH")
    assert got["SSHPublicKey"]["Status"] == "Inactive"
    assert iam.list_ssh_public_keys(UserName=user)["SSHPublicKeys"][0]["Status"] == "Inactive"
    iam.update_ssh_public_key(UserName=user, SSHPublicKeyId=key_id, Status="Active")

    assert error_of(
        iam.update_ssh_public_key, UserName=user, SSHPublicKeyId=key_id, Status="Expired"
    ) == (
        400,
        "ValidationError",
        validation_message(
            "Expired", "status", "Member must satisfy enum value set: [Active, Inactive]"
        ),
    )

    iam.delete_ssh_public_key(UserName=user, SSHPublicKeyId=key_id)
    assert iam.list_ssh_public_keys(UserName=user)["SSHPublicKeys"] == []
    missing = (404, "NoSuchEntity", f"The Public Key with id {key_id} cannot be found.")
    assert error_of(iam.delete_ssh_public_key, UserName=user, SSHPublicKeyId=key_id) == missing
    assert (
        error_of(iam.get_ssh_public_key, UserName=user, SSHPublicKeyId=key_id, Encoding="PEM")
        == missing
    )


def test_another_users_key_cannot_be_found(iam: Any, keys: KeyMaker, unique: str) -> None:
    owner, other = _user(iam, f"{unique}-own"), _user(iam, f"{unique}-oth")
    key_id = _upload(iam, owner, keys.make("rsa", 2048).public)["SSHPublicKeyId"]
    missing = (404, "NoSuchEntity", f"The Public Key with id {key_id} cannot be found.")
    assert (
        error_of(iam.get_ssh_public_key, UserName=other, SSHPublicKeyId=key_id, Encoding="SSH")
        == missing
    )
    assert (
        error_of(
            iam.update_ssh_public_key, UserName=other, SSHPublicKeyId=key_id, Status="Inactive"
        )
        == missing
    )
    assert error_of(iam.delete_ssh_public_key, UserName=other, SSHPublicKeyId=key_id) == missing
    assert iam.list_ssh_public_keys(UserName=other)["SSHPublicKeys"] == []
    # The owner's key is untouched.
    assert iam.list_ssh_public_keys(UserName=owner)["SSHPublicKeys"][0]["Status"] == "Active"


def test_unknown_user(iam: Any, keys: KeyMaker, unique: str) -> None:
    nobody = f"{unique}-nobody"
    expected = (404, "NoSuchEntity", f"The user with name {nobody} cannot be found.")
    body = keys.make("rsa", 2048).public
    assert error_of(iam.upload_ssh_public_key, UserName=nobody, SSHPublicKeyBody=body) == expected
    assert error_of(iam.list_ssh_public_keys, UserName=nobody) == expected


def test_delete_user_conflicts_while_ssh_keys_remain(iam: Any, keys: KeyMaker, unique: str) -> None:
    user = _user(iam, f"{unique}-leaving")
    key_id = _upload(iam, user, keys.make("rsa", 2048).public)["SSHPublicKeyId"]
    assert error_of(iam.delete_user, UserName=user) == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must remove referenced objects first.",
    )
    iam.delete_ssh_public_key(UserName=user, SSHPublicKeyId=key_id)
    iam.delete_user(UserName=user)


# ---------------------------------------------------------------------------------------
# Strict AWS parity: `iamd serve --ssh-key-types rsa`.


@pytest.fixture
def rsa_only_server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path / "data", extra_args=["--ssh-key-types", "rsa"])
    yield running
    running.stop()


def test_rsa_only_server_refuses_other_key_types(
    rsa_only_server: RunningServer, keys: KeyMaker
) -> None:
    iam = rsa_only_server.client("iam")
    user = _user(iam, "strict")
    for key in (keys.make("ed25519"), keys.make("ecdsa", 256)):
        assert _refusal(iam, user, key.public) == (400, INVALID)
    assert _upload(iam, user, keys.make("rsa", 2048).public)["Status"] == "Active"


def test_the_key_types_setting_is_checked(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="ssh-key-types"):
        start_server(tmp_path / "data", extra_args=["--ssh-key-types", "dsa"])


# ---------------------------------------------------------------------------------------
# The parser never crashes.

_KEYISH = st.sampled_from(
    [
        "",
        "ssh-rsa ",
        "ssh-ed25519 ",
        "ecdsa-sha2-nistp256 ",
        "ssh-rsa-cert-v01@openssh.com ",
        "-----BEGIN PUBLIC KEY-----\n",
        "-----BEGIN RSA PUBLIC KEY-----\n",
        "---- BEGIN SSH2 PUBLIC KEY ----\n",
    ]
)
_BASE64ISH = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n -:\\",
    max_size=400,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.builds(str.__add__, _KEYISH, _BASE64ISH)))
def test_any_text_is_a_key_or_an_aws_error(text: str) -> None:
    for rsa_only in (False, True):
        outcome = _parse_outcome(text, rsa_only=rsa_only)
        assert outcome in {UNRECOGNIZED, INVALID} or FINGERPRINT.fullmatch(outcome)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(["ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256"]))
def test_any_blob_after_a_key_type_is_a_key_or_an_aws_error(blob: bytes, key_type: str) -> None:
    name = key_type.encode()
    wire = len(name).to_bytes(4, "big") + name + blob
    text = f"{key_type} {base64.b64encode(wire).decode()}"
    outcome = _parse_outcome(text, rsa_only=False)
    assert outcome in {UNRECOGNIZED, INVALID} or FINGERPRINT.fullmatch(outcome)


def _parse_outcome(text: str, *, rsa_only: bool) -> str:
    """The fingerprint of the key read, or the code of the AWS error raised."""
    try:
        return parse_public_key(text, rsa_only=rsa_only).fingerprint
    except AwsError as error:
        return error.code
