"""The web console in Debian's Chromium (Playwright) against a real iamd process.

jdoe, with the guide's combined policy and AWS's self-service MFA statements, signs in,
creates an access key (the secret shown once, the CSV downloaded, the key working with
boto3), deactivates and deletes it, uploads an ssh-keygen key and clones over SSH with
the SSH key id the page shows, assigns a virtual MFA device by decoding the page's QR
code, and signs out and back in with MFA. With the access-key policy alone the SSH
section shows AccessDenied. Bad input and attacks change nothing and run no script.
Screenshots of each page go to test-artifacts/console/.
"""

from __future__ import annotations

import base64
import io
import json
import re
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from botocore.exceptions import ClientError
from PIL import Image
from playwright.sync_api import BrowserContext, Page
from tests.support.browser import chromium
from tests.support.gitssh import GitHome
from tests.support.servers import RunningServer, start_server
from tests.support.totp import code_at

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
ACCOUNT = "123456789012"
PASSWORD = "Console-Passw0rd!"
OWN = "arn:aws:iam::*:user/${aws:username}"
GUIDE_COMBINED: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ManageOwnAccessKeys",
            "Effect": "Allow",
            "Action": [
                "iam:CreateAccessKey",
                "iam:DeleteAccessKey",
                "iam:GetAccessKeyLastUsed",
                "iam:ListAccessKeys",
                "iam:UpdateAccessKey",
            ],
            "Resource": OWN,
        },
        {
            "Sid": "ManageOwnSSHKeys",
            "Effect": "Allow",
            "Action": [
                "iam:UploadSSHPublicKey",
                "iam:DeleteSSHPublicKey",
                "iam:GetSSHPublicKey",
                "iam:ListSSHPublicKeys",
                "iam:UpdateSSHPublicKey",
            ],
            "Resource": OWN,
        },
        {
            "Sid": "ViewAccountInfo",
            "Effect": "Allow",
            "Action": [
                "iam:GetAccountSummary",
                "iam:ListAccountAliases",
                "iam:GetLoginProfile",
                "iam:ListMFADevices",
            ],
            "Resource": "*",
        },
    ],
}
GUIDE_ACCESS_KEYS: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        GUIDE_COMBINED["Statement"][0],
        {
            "Sid": "ViewAccountInfo",
            "Effect": "Allow",
            "Action": ["iam:GetAccountSummary", "iam:ListAccountAliases"],
            "Resource": "*",
        },
    ],
}
# AWS's self-service MFA statements (IAM User Guide, "manage their own MFA device").
SELF_MFA: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowManageOwnVirtualMFADevice",
            "Effect": "Allow",
            "Action": ["iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"],
            "Resource": "arn:aws:iam::*:mfa/${aws:username}",
        },
        {
            "Sid": "AllowManageOwnUserMFA",
            "Effect": "Allow",
            "Action": [
                "iam:DeactivateMFADevice",
                "iam:EnableMFADevice",
                "iam:GetUser",
                "iam:ListMFADevices",
                "iam:ResyncMFADevice",
                "iam:ChangePassword",
            ],
            "Resource": OWN,
        },
    ],
}


@dataclass(frozen=True)
class Console:
    server: RunningServer

    @property
    def url(self) -> str:
        return f"{self.server.endpoint}/console"

    @property
    def page_url(self) -> str:
        return f"{self.url}/security-credentials"


def _user(iam: Any, name: str, *policies: tuple[str, dict[str, Any]]) -> None:
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password=PASSWORD, PasswordResetRequired=False)
    for policy_name, document in policies:
        iam.put_user_policy(
            UserName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document)
        )


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    server = start_server(tmp_path_factory.mktemp("iamd-console"), extra_args=["--audit-trail"])
    try:
        iam = server.client("iam")
        _user(iam, "jdoe", ("SelfManageKeys", GUIDE_COMBINED), ("SelfManageMFA", SELF_MFA))
        _user(iam, "kdoe", ("SelfManageAccessKeys", GUIDE_ACCESS_KEYS))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        yield Console(server)
    finally:
        server.stop()


@pytest.fixture
def browser() -> Iterator[BrowserContext]:
    with chromium() as context:
        yield context


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _sign_in(page: Page, console: Console, user: str, password: str = PASSWORD) -> None:
    page.goto(console.url)
    page.get_by_label("Account ID (12 digits) or account alias").fill(ACCOUNT)
    page.get_by_label("IAM user name").fill(user)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _settled_now() -> float:
    """Now, at least five seconds away from the next 30-second TOTP step, so that codes
    computed now are still the server's when they arrive."""
    now = time.time()
    if now % 30 > 25:
        time.sleep(30 - now % 30 + 0.5)
        now = time.time()
    return now


def _scripts_ran(page: Page) -> object:
    return page.evaluate("() => window.__iamd_pwned === undefined ? null : window.__iamd_pwned")


def test_jdoe_keys_ssh_mfa_and_sign_in_again(
    console: Console, browser: BrowserContext, tmp_path: Path
) -> None:
    page = browser.new_page()
    page.goto(console.url)
    _shot(page, "01-sign-in")
    headers = page.request.get(console.url).headers
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src" not in csp
    assert "default-src 'none'" in csp
    _sign_in(page, console, "jdoe")
    assert page.url == console.page_url
    assert page.get_by_role("heading", name="My security credentials").is_visible()
    cookie = next(c for c in browser.cookies() if c["name"] == "iamd-console")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    _shot(page, "02-security-credentials")

    # An access key: the secret once, the CSV, and the key works with boto3.
    page.get_by_role("button", name="Create access key").click()
    page.wait_for_load_state()
    key_id = page.locator("#new-access-key-id").inner_text()
    secret = page.locator("#new-secret-access-key").inner_text()
    assert key_id.startswith("AKIA")
    assert len(secret) == 40
    _shot(page, "03-access-key-created")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download .csv file").click()
    download = download_info.value
    assert download.suggested_filename == "jdoe_accessKeys.csv"
    saved = tmp_path / "keys.csv"
    download.save_as(saved)
    assert saved.read_text() == f"Access key ID,Secret access key\n{key_id},{secret}\n"
    own = console.server.client("iam", key_id=key_id, secret=secret)
    listed = own.list_access_keys()["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [key_id]
    page.goto(console.page_url)
    assert secret not in page.content()
    row = page.locator(f"#key-{key_id}")
    assert "Active" in row.inner_text()
    assert "iam" in row.inner_text()
    assert "us-east-1" in row.inner_text()  # last used

    page.get_by_role("button", name=f"Deactivate {key_id}").click()
    page.wait_for_load_state()
    assert "Inactive" in page.locator(f"#key-{key_id}").inner_text()
    with pytest.raises(ClientError) as refused:
        own.list_access_keys()
    assert refused.value.response["Error"]["Code"] == "InvalidClientTokenId"
    page.get_by_role("button", name=f"Delete access key {key_id}").click()
    page.wait_for_load_state()
    assert page.locator(f"#key-{key_id}").count() == 0
    assert console.server.client("iam").list_access_keys(UserName="jdoe")["AccessKeyMetadata"] == []

    # An SSH key from ssh-keygen, uploaded as a file; clone with the key id shown.
    dev = GitHome(tmp_path / "home", console.server)
    page.set_input_files("#key_file", str(dev.public_key))
    page.get_by_role("button", name="Upload SSH public key").click()
    page.wait_for_load_state()
    ssh_key_id = page.locator(".ssh-key-id").first.inner_text()
    assert ssh_key_id.startswith("APKA")
    assert f"ssh://{ssh_key_id}@127.0.0.1:{console.server.ssh_port}/v1/repos/" in page.content()
    _shot(page, "04-ssh-key-uploaded")
    admin = console.server.client("iam")
    admin.put_user_policy(
        UserName="jdoe",
        PolicyName="Git",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "codecommit:Git*", "Resource": "*"}],
            }
        ),
    )
    url = console.server.client("codecommit").create_repository(repositoryName="console-repo")[
        "repositoryMetadata"
    ]["cloneUrlSsh"]
    dev.configure(ssh_key_id)
    cloned = dev.git("clone", url, "work")
    assert cloned.returncode == 0, cloned.stderr

    # Virtual MFA: decode the QR code the page shows, enable with two codes.
    page.get_by_role("button", name="Assign MFA device").click()
    page.wait_for_load_state()
    _shot(page, "05-mfa-qr-code")
    source = page.locator("#mfa-qr").get_attribute("src") or ""
    assert source.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1])))
    decoded = zxingcpp.read_barcodes(image)
    assert len(decoded) == 1
    uri = urllib.parse.urlsplit(decoded[0].text)
    assert uri.scheme == "otpauth"
    assert uri.netloc == "totp"
    seed = urllib.parse.parse_qs(uri.query)["secret"][0]
    page.get_by_text("Show secret key").click()
    assert page.locator("#mfa-seed").inner_text() == seed
    now = _settled_now()
    page.get_by_label("MFA code 1").fill(code_at(seed, now - 60))
    page.get_by_label("MFA code 2").fill(code_at(seed, now - 30))
    page.get_by_role("button", name="Add MFA").click()
    page.wait_for_load_state()
    assert "The MFA device is assigned" in page.locator("#done").inner_text()
    assert f"arn:aws:iam::{ACCOUNT}:mfa/jdoe" in page.locator("#mfa").inner_text()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert "You have signed out." in page.content()
    page.goto(console.page_url)
    assert page.get_by_role("button", name="Sign in").is_visible()

    _sign_in(page, console, "jdoe")
    assert page.get_by_label("MFA code from your authenticator app").is_visible()
    _shot(page, "06-mfa-sign-in")
    page.get_by_label("MFA code from your authenticator app").fill(code_at(seed, _settled_now()))
    page.get_by_role("button", name="Submit").click()
    page.wait_for_load_state()
    assert page.url == console.page_url
    assert "jdoe @ 123456789012 (MFA)" in page.locator("header").inner_text()

    # The trail: both sign-ins, MFAUsed, and the page's calls as the console's.
    trail = console.server.client("cloudtrail")
    logins = [
        json.loads(e["CloudTrailEvent"])
        for e in trail.lookup_events(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ConsoleLogin"}]
        )["Events"]
        if e.get("Username") == "jdoe"
    ]
    assert [r["additionalEventData"]["MFAUsed"] for r in logins][:2] == ["Yes", "No"]
    assert all(r["responseElements"] == {"ConsoleLogin": "Success"} for r in logins)
    created = [
        json.loads(e["CloudTrailEvent"])
        for e in trail.lookup_events(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateAccessKey"}]
        )["Events"]
    ]
    console_made = [r for r in created if r["userIdentity"].get("userName") == "jdoe"]
    assert console_made
    assert console_made[0]["sessionCredentialFromConsole"] == "true"
    assert "HeadlessChrome" in console_made[0]["userAgent"]
    assert "SecretAccessKey" not in json.dumps(console_made[0]["responseElements"])


def test_access_key_policy_alone_denies_the_ssh_section(
    console: Console, browser: BrowserContext
) -> None:
    page = browser.new_page()
    _sign_in(page, console, "kdoe")
    ssh = page.locator("#ssh-keys").inner_text()
    assert (
        f"AccessDenied: User: arn:aws:iam::{ACCOUNT}:user/kdoe is not authorized to perform: "
        f"iam:ListSSHPublicKeys on resource: arn:aws:iam::{ACCOUNT}:user/kdoe because no "
        "identity-based policy allows the iam:ListSSHPublicKeys action"
    ) in ssh
    assert "Upload SSH public key" not in ssh
    assert "No access keys." in page.locator("#access-keys").inner_text()
    _shot(page, "07-access-key-policy-only")
    page.get_by_role("button", name="Create access key").click()
    page.wait_for_load_state()
    assert page.locator("#new-access-key-id").inner_text().startswith("AKIA")


BROKEN_POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow" "Action": "iam:GetUser", "Resource": "*"}
  ]
}"""


def test_an_administrator_creates_a_user_and_checks_a_broken_policy(
    console: Console, browser: BrowserContext
) -> None:
    iam = console.server.client("iam")
    iam.create_login_profile(UserName="admin", Password=PASSWORD, PasswordResetRequired=False)
    page = browser.new_page()
    _sign_in(page, console, "admin")
    page.get_by_role("link", name="Users").click()
    page.wait_for_load_state()
    page.get_by_label("User name").fill("newhire")
    page.get_by_label("Tag key (optional)").fill("team")
    page.get_by_label("Tag value").fill("<script>window.__iamd_pwned=1</script>")
    page.get_by_role("button", name="Create user").click()
    page.wait_for_load_state()
    # IAM's tag values allow no markup: AWS's ValidationError, shown as text.
    problem = page.locator("#problem").inner_text()
    assert "Value '<script>window.__iamd_pwned=1</script>' at 'tags.1.member.value'" in problem
    assert _scripts_ran(page) is None
    with pytest.raises(ClientError):
        iam.get_user(UserName="newhire")
    page.get_by_label("User name").fill("newhire")
    page.get_by_label("Tag key (optional)").fill("team")
    page.get_by_label("Tag value").fill("platform")
    page.get_by_role("button", name="Create user").click()
    page.wait_for_load_state()
    assert "User newhire was created." in page.locator("#done").inner_text()
    assert iam.list_user_tags(UserName="newhire")["Tags"] == [{"Key": "team", "Value": "platform"}]
    page.get_by_label("Find users by name").fill("NEWH")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    rows = page.locator("#users tbody tr")
    assert rows.count() == 1
    assert "newhire" in rows.first.inner_text()
    _shot(page, "08-users")

    # DeleteConflict, as AWS words it, and nothing deleted.
    iam.create_access_key(UserName="newhire")
    page.get_by_role("button", name="Delete newhire").click()
    page.wait_for_load_state()
    assert "must delete access keys first" in page.locator("#problem").inner_text()
    assert iam.get_user(UserName="newhire")["User"]["UserName"] == "newhire"

    # The guided cleanup: the user's page lists what is left, each with its button.
    iam.add_user_to_group(UserName="newhire", GroupName="Administrators")
    page.get_by_role("link", name="Clean up newhire").click()
    page.wait_for_load_state()
    assert "team = platform" in page.locator("#tags").inner_text()
    _shot(page, "08b-user-cleanup")
    page.locator("#keys").get_by_role("button", name=re.compile("^Remove AKIA")).click()
    page.wait_for_load_state()
    assert "None." in page.locator("#keys").inner_text()
    page.get_by_role("button", name="Delete user newhire").click()
    page.wait_for_load_state()
    assert "must remove users from group first" in page.locator("#problem").inner_text()
    page.locator("#groups").get_by_role("button", name="Remove Administrators").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Delete user newhire").click()
    page.wait_for_load_state()
    assert page.url.endswith("/console/users")
    with pytest.raises(ClientError):
        iam.get_user(UserName="newhire")

    iam.create_role(
        RoleName="deployer",
        Description="<b>CI</b> deploys",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/jdoe"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    page.get_by_role("link", name="Roles").click()
    page.wait_for_load_state()
    role = page.locator("#role-deployer")
    assert "<b>CI</b> deploys" in role.inner_text()
    role.get_by_text("Trust policy of deployer").click()
    assert f'"AWS": "arn:aws:iam::{ACCOUNT}:user/jdoe"' in role.locator("pre").inner_text()
    page.get_by_role("link", name="Groups").click()
    page.wait_for_load_state()
    assert "Administrators" in page.locator("#group-Administrators").inner_text()

    page.get_by_role("link", name="Policy editor").click()
    page.wait_for_load_state()
    csp = page.request.get(f"{console.url}/policies/new").headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    # As you type: the page's script asks the server and lists the findings in place.
    editor = page.get_by_label("Policy document (JSON)")
    editor.fill("")
    editor.press_sequentially(BROKEN_POLICY.replace("\n", " "), delay=2)
    live = page.locator("#live-findings li.error")
    live.first.wait_for()
    assert live.first.inner_text().startswith("Line 1, column ")
    page.get_by_label("Policy name").fill("Broken")
    editor.fill(BROKEN_POLICY)
    page.get_by_role("button", name="Create policy").click()
    page.wait_for_load_state()
    assert "The policy has errors" in page.locator("#problem").inner_text()
    findings = page.locator("#findings li.error").all_inner_texts()
    assert findings
    assert findings[0].startswith("Line 4, column ")
    assert page.locator("#line-4").get_attribute("class") == "marked"
    assert page.locator("li.marked").count() == 1
    column = int(findings[0].split(",")[1].split(":")[0].split()[-1])
    assert page.locator("#line-4 mark").inner_text() == BROKEN_POLICY.split("\n")[3][column - 1]
    _shot(page, "09-policy-editor")
    with pytest.raises(ClientError):
        iam.get_policy(PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/Broken")
    page.get_by_label("Policy document (JSON)").fill(BROKEN_POLICY.replace('"Allow" ', '"Allow", '))
    page.get_by_role("button", name="Create policy").click()
    page.wait_for_load_state()
    assert (
        f"arn:aws:iam::{ACCOUNT}:policy/Broken was created." in page.locator("#done").inner_text()
    )

    # The simulator: SimulateCustomPolicy of the document, with the deciding statement's
    # StartPosition as AWS reports it (one past the column of its "{").
    page.get_by_label("Actions (separated by spaces)").fill("iam:GetUser iam:CreateUser")
    page.get_by_role("button", name="Simulate").click()
    page.wait_for_load_state()
    simulated = page.locator("#simulation tbody tr").all_inner_texts()
    assert simulated[0].startswith("iam:GetUser\t*\tallowed\tline 4, column 6")
    assert simulated[1].startswith("iam:CreateUser\t*\timplicitDeny\tno statement matched")

    # The audit trail, filtered: the console's own CreateUser calls, the refused one too.
    page.get_by_role("link", name="Audit trail").click()
    page.wait_for_load_state()
    page.get_by_label("Filter by").select_option("EventName")
    page.get_by_label("Value").fill("CreateUser")
    page.get_by_role("button", name="Look up events").click()
    page.wait_for_load_state()
    events = page.locator("#events tbody tr").all_inner_texts()
    assert all("CreateUser" in row for row in events)
    # From the console: the refused call (its parameters did not parse: no resource)
    # and the created user; the fixture's boto3 calls are not.
    assert any("ValidationError" in row and row.endswith("yes") for row in events)
    assert any(
        "newhire" in row and "ValidationError" not in row and row.endswith("yes") for row in events
    )
    assert any("kdoe" in row and not row.endswith("yes") for row in events)
    _shot(page, "09b-audit-trail")

    # The policy's own page: versions, attachments, and their actions.
    arn = f"arn:aws:iam::{ACCOUNT}:policy/Broken"
    iam.attach_group_policy(GroupName="Administrators", PolicyArn=arn)
    iam.create_policy_version(
        PolicyArn=arn, PolicyDocument=BROKEN_POLICY.replace('"Allow" ', '"Deny", ')
    )
    page.get_by_role("link", name="Policies", exact=True).click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Broken", exact=True).click()
    page.wait_for_load_state()
    assert '"Effect": "Allow"' in page.locator("#document").inner_text()
    assert "Group Administrators" in page.locator("#attachments").inner_text()
    page.get_by_role("button", name="Make v2 the default").click()
    page.wait_for_load_state()
    assert '"Effect": "Deny"' in page.locator("#document").inner_text()
    page.get_by_role("button", name="Delete policy").click()
    page.wait_for_load_state()
    assert "Cannot delete a policy attached to entities." in page.locator("#problem").inner_text()
    page.get_by_role("button", name="Detach from group Administrators").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Delete v1").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Delete policy").click()
    page.wait_for_load_state()
    assert page.url.endswith("/console/policies")
    with pytest.raises(ClientError):
        iam.get_policy(PolicyArn=arn)


def test_switch_role_acts_as_the_role_under_a_coloured_banner(
    console: Console, browser: BrowserContext
) -> None:
    iam = console.server.client("iam")
    iam.create_user(UserName="opsadmin")
    iam.create_login_profile(UserName="opsadmin", Password=PASSWORD)
    iam.attach_user_policy(
        UserName="opsadmin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    iam.create_role(
        RoleName="ReadOnlyRole",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/opsadmin"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    iam.attach_role_policy(
        RoleName="ReadOnlyRole", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess"
    )
    page = browser.new_page()
    _sign_in(page, console, "opsadmin")
    page.get_by_role("link", name="Switch role").click()
    page.wait_for_load_state()
    page.get_by_label("Role name").fill("NoSuchRole")
    page.get_by_role("button", name="Switch role").click()
    page.wait_for_load_state()
    assert "sts:AssumeRole" in page.locator("#problem").inner_text()
    assert page.locator("#role-banner").count() == 0
    page.get_by_label("Role name").fill("ReadOnlyRole")
    page.get_by_label("Display name (optional)").fill("Read only <b>")
    page.get_by_label("red").check()
    page.get_by_role("button", name="Switch role").click()
    page.wait_for_load_state()
    banner = page.locator("#role-banner")
    assert banner.inner_text() == (
        f"Acting as Read only <b> (arn:aws:iam::{ACCOUNT}:role/ReadOnlyRole)"
    )
    assert banner.get_attribute("class") == "banner banner-red"
    _shot(page, "18-switched-role")
    assert page.locator("#users tbody tr").count() >= 3
    page.get_by_label("User name").fill("blocked")
    page.get_by_role("button", name="Create user").click()
    page.wait_for_load_state()
    assert (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/ReadOnlyRole/opsadmin is not authorized "
        "to perform: iam:CreateUser" in page.locator("#problem").inner_text()
    )
    # The user's own credentials page stays the user's.
    page.get_by_role("link", name="My security credentials").click()
    page.wait_for_load_state()
    assert f"arn:aws:iam::{ACCOUNT}:user/opsadmin" in page.content()
    page.get_by_role("link", name="Switch role").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Switch back to opsadmin").click()
    page.wait_for_load_state()
    assert page.locator("#role-banner").count() == 0
    page.goto(f"{console.url}/users")
    page.get_by_label("User name").fill("blocked")
    page.get_by_role("button", name="Create user").click()
    page.wait_for_load_state()
    assert "User blocked was created." in page.locator("#done").inner_text()


def test_without_list_users_the_users_page_shows_access_denied(
    console: Console, browser: BrowserContext
) -> None:
    page = browser.new_page()
    _sign_in(page, console, "kdoe")
    page.goto(f"{console.url}/users")
    assert (
        "AccessDenied: User: arn:aws:iam::123456789012:user/kdoe is not authorized to "
        "perform: iam:ListUsers" in page.locator("#users").inner_text()
    )


def test_signing_in_by_keyboard_on_a_phone_sized_screen(
    console: Console, browser: BrowserContext
) -> None:
    page = browser.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(console.url)
    # Labels name every field, and the form is done with the keyboard alone.
    page.keyboard.press("Tab")
    for _ in range(10):
        if page.evaluate("document.activeElement.id") == "account":
            break
        page.keyboard.press("Tab")
    page.keyboard.type(ACCOUNT)
    page.keyboard.press("Tab")
    page.keyboard.type("kdoe")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation(url=console.page_url):
        page.keyboard.press("Enter")
    # Nothing wider than the screen: wide tables scroll inside their own box.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    _shot(page, "19-phone")


def test_an_administrator_sets_a_users_password_and_creates_its_key(
    console: Console, browser: BrowserContext
) -> None:
    iam = console.server.client("iam")
    iam.create_user(UserName="hradmin")
    iam.create_login_profile(UserName="hradmin", Password=PASSWORD)
    iam.attach_user_policy(
        UserName="hradmin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    iam.create_user(UserName="starter")
    page = browser.new_page()
    _sign_in(page, console, "hradmin")
    page.goto(f"{console.url}/user?name=starter")
    page.get_by_role("button", name="Create access key for starter").click()
    page.wait_for_load_state()
    key_id = page.locator("#new-access-key-id").inner_text()
    secret = page.locator("#new-secret-access-key").inner_text()
    caller = console.server.client("sts", key_id=key_id, secret=secret).get_caller_identity()
    assert caller["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/starter"
    page.get_by_label("New console password").fill("short")
    page.get_by_label("Retype it").fill("short")
    page.get_by_role("button", name="Set console password").click()
    page.wait_for_load_state()
    assert "password" in page.locator("#problem").inner_text().lower()
    page.get_by_label("New console password").fill("Starter-Passw0rd!")
    page.get_by_label("Retype it").fill("Starter-Passw0rd!")
    page.get_by_role("button", name="Set console password").click()
    page.wait_for_load_state()
    assert "The console password was set." in page.locator("#done").inner_text()
    assert "must be changed at next sign-in" in page.locator("#password").inner_text()
    profile = iam.get_login_profile(UserName="starter")["LoginProfile"]
    assert profile["PasswordResetRequired"] is True
