"""The administrator console's editing pages in Debian's Chromium against a real iamd:
groups (create, members, delete), managed policies attached with the picker and
inline policies written in the policy editor (users, groups, roles), policy versions
(a new one from the editor, LimitExceeded at five with a way to delete an old one,
view any version), and roles (create, settings, trust policy in the editor, delete).
Every refusal is AWS's message on the page; a limited user gets AccessDenied and
changes nothing; a form without its CSRF token changes nothing.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from playwright.sync_api import BrowserContext, Page
from tests.e2e.test_console import PASSWORD, Console, _scripts_ran, _shot, _sign_in
from tests.support.browser import chromium
from tests.support.organizations import new_account
from tests.support.servers import start_server

pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"
READ_ONLY = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
DOCUMENT: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}],
}


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    server = start_server(tmp_path_factory.mktemp("iamd-console-admin"))
    try:
        iam = server.client("iam")
        for name, policy in (("boss", "AdministratorAccess"), ("viewer", "IAMReadOnlyAccess")):
            iam.create_user(UserName=name)
            iam.create_login_profile(UserName=name, Password=PASSWORD)
            iam.attach_user_policy(UserName=name, PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
        yield Console(server)
    finally:
        server.stop()


@pytest.fixture
def browser() -> Iterator[BrowserContext]:
    with chromium() as context:
        yield context


def _click(page: Page, name: str, within: str | None = None) -> None:
    scope = page.locator(within) if within else page
    scope.get_by_role("button", name=name, exact=True).click()
    page.wait_for_load_state()


def _problem(page: Page) -> str:
    return page.locator("#problem").inner_text()


def _done(page: Page) -> str:
    return page.locator("#done").inner_text()


def test_groups_members_and_their_policies(console: Console, browser: BrowserContext) -> None:
    iam = console.server.client("iam")
    iam.create_user(UserName="alice")
    page = browser.new_page()
    _sign_in(page, console, "boss")
    page.get_by_role("link", name="Groups", exact=True).click()
    page.wait_for_load_state()
    # A name IAM refuses: its ValidationError, as text, and no group.
    page.get_by_label("Group name").fill("<img src=x onerror=window.__iamd_pwned=1>")
    _click(page, "Create group")
    assert "Value '<img src=x onerror=window.__iamd_pwned=1>'" in _problem(page)
    assert _scripts_ran(page) is None
    page.get_by_label("Group name").fill("devs")
    _click(page, "Create group")
    assert "Group devs was created." in _done(page)
    page.get_by_role("link", name="devs", exact=True).click()
    page.wait_for_load_state()
    assert page.url.endswith("/console/group?name=devs")

    # Members: add (an unknown user is AWS's NoSuchEntity), remove.
    page.get_by_label("User name").fill("nobody")
    _click(page, "Add user to group")
    assert "nobody" in _problem(page)
    page.get_by_label("User name").fill("alice")
    _click(page, "Add user to group")
    assert "User alice was added to the group." in _done(page)
    assert [u["UserName"] for u in iam.get_group(GroupName="devs")["Users"]] == ["alice"]

    # A managed policy from the picker: AWS managed and customer managed are offered.
    made = iam.create_policy(PolicyName="team-read", PolicyDocument=json.dumps(DOCUMENT))
    page.get_by_role("link", name="Attach a managed policy").click()
    page.wait_for_load_state()
    picker = page.get_by_label("Managed policy to attach")
    options = picker.locator("option").all_inner_texts()
    assert "IAMReadOnlyAccess" in options
    assert "team-read" in options
    picker.select_option(label="team-read")
    _click(page, "Attach policy")
    assert f"Policy {made['Policy']['Arn']} was attached." in _done(page)
    attached = iam.list_attached_group_policies(GroupName="devs")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["team-read"]

    # An inline policy, written in the policy editor; a broken one is marked, not saved.
    page.get_by_role("link", name="Add an inline policy").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Inline policy of group devs"
    page.get_by_label("Policy name").fill("devs-inline")
    page.get_by_label("Policy document (JSON)").fill(
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n'
    )
    _click(page, "Save inline policy")
    assert "The policy has errors (marked below). Nothing was saved." in _problem(page)
    assert iam.list_group_policies(GroupName="devs")["PolicyNames"] == []
    page.get_by_label("Policy document (JSON)").fill(json.dumps(DOCUMENT, indent=2))
    _click(page, "Save inline policy")
    assert "Inline policy devs-inline of group devs was saved." in _done(page)
    saved = iam.get_group_policy(GroupName="devs", PolicyName="devs-inline")
    assert saved["PolicyDocument"] == DOCUMENT
    _shot(page, "30-inline-policy-editor")

    # Deleting the group: DeleteConflict until it is empty, then gone.
    page.get_by_role("link", name="Back to devs").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Edit devs-inline").click()
    page.wait_for_load_state()
    assert json.loads(page.get_by_label("Policy document (JSON)").input_value()) == DOCUMENT
    assert page.get_by_label("Policy name").input_value() == "devs-inline"
    page.goto(f"{console.url}/group?name=devs")
    _shot(page, "31-group")
    _click(page, "Delete group devs")
    assert "must remove users from group first" in _problem(page)
    _click(page, "Remove alice")
    _click(page, "Detach team-read")
    _click(page, "Delete devs-inline")
    assert "Inline policy devs-inline was deleted." in _done(page)
    _click(page, "Delete group devs")
    assert page.url.endswith("/console/groups")
    with pytest.raises(ClientError):
        iam.get_group(GroupName="devs")


def test_a_users_managed_and_inline_policies(console: Console, browser: BrowserContext) -> None:
    iam = console.server.client("iam")
    iam.create_user(UserName="bob")
    page = browser.new_page()
    _sign_in(page, console, "boss")
    page.goto(f"{console.url}/user?name=bob")
    page.get_by_role("link", name="Attach a managed policy").click()
    page.wait_for_load_state()
    page.get_by_label("Managed policy to attach").select_option(label="IAMReadOnlyAccess")
    _click(page, "Attach policy")
    assert [
        p["PolicyArn"] for p in iam.list_attached_user_policies(UserName="bob")["AttachedPolicies"]
    ] == [READ_ONLY]
    # Without choosing: a message, nothing attached twice or otherwise.
    page.get_by_label("Managed policy to attach").evaluate("e => e.removeAttribute('required')")
    _click(page, "Attach policy")
    assert "Choose a policy to attach." in _problem(page)
    page.get_by_role("link", name="Add an inline policy").click()
    page.wait_for_load_state()
    page.get_by_label("Policy name").fill("bob-inline")
    page.get_by_label("Policy document (JSON)").fill(json.dumps(DOCUMENT))
    _click(page, "Save inline policy")
    assert iam.get_user_policy(UserName="bob", PolicyName="bob-inline")["PolicyDocument"] == (
        DOCUMENT
    )
    page.goto(f"{console.url}/user?name=bob")
    assert "bob-inline" in page.locator("#inline").inner_text()
    _click(page, "Detach IAMReadOnlyAccess")
    _click(page, "Delete bob-inline")
    assert iam.list_attached_user_policies(UserName="bob")["AttachedPolicies"] == []
    assert iam.list_user_policies(UserName="bob")["PolicyNames"] == []

    # Groups from the user's page: add, remove.
    iam.create_group(GroupName="testers")
    page.get_by_label("Add to group").fill("testers")
    _click(page, "Add to group")
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="bob")["Groups"]] == [
        "testers"
    ]
    _click(page, "Remove testers")
    assert iam.list_groups_for_user(UserName="bob")["Groups"] == []


def test_policy_versions_from_the_editor(console: Console, browser: BrowserContext) -> None:
    iam = console.server.client("iam")
    arn = iam.create_policy(PolicyName="versioned", PolicyDocument=json.dumps(DOCUMENT))["Policy"][
        "Arn"
    ]
    page = browser.new_page()
    _sign_in(page, console, "boss")
    page.goto(f"{console.url}/policy?arn={arn}")
    page.get_by_role("link", name="Save a new version in the policy editor").click()
    page.wait_for_load_state()
    # The editor opens with the default version's document.
    assert json.loads(page.get_by_label("Policy document (JSON)").input_value()) == DOCUMENT
    second = {**DOCUMENT, "Statement": [{**DOCUMENT["Statement"][0], "Action": "iam:ListUsers"}]}
    page.get_by_label("Policy document (JSON)").fill(json.dumps(second, indent=2))
    page.get_by_label("Set as the default version").uncheck()
    _click(page, "Save as a new version")
    assert "Version v2 was created." in _done(page)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"

    # Any version may be viewed from the policy's page.
    page.goto(f"{console.url}/policy?arn={arn}")
    page.get_by_role("link", name="View v2").click()
    page.wait_for_load_state()
    assert page.locator("#document-title").inner_text() == "Version v2"
    assert json.loads(page.locator("#document").inner_text()) == second

    # Five versions is IAM's limit: LimitExceeded on the page, the document kept, and
    # a button per old version to make room.
    for _ in range(3):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(DOCUMENT))
    page.goto(f"{console.url}/policies/new?target=version&arn={arn}")
    third = {**DOCUMENT, "Statement": [{**DOCUMENT["Statement"][0], "Action": "iam:ListRoles"}]}
    page.get_by_label("Policy document (JSON)").fill(json.dumps(third, indent=2))
    _click(page, "Save as a new version")
    assert "A managed policy can have up to 5 versions" in _problem(page)
    _shot(page, "32-version-limit")
    _click(page, "Delete version v2")
    assert "Version v2 was deleted." in _done(page)
    assert json.loads(page.get_by_label("Policy document (JSON)").input_value()) == third
    _click(page, "Save as a new version")
    assert "Version v6 was created and made the default." in _done(page)
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert policy["DefaultVersionId"] == "v6"
    versions = {v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]}
    assert versions == {"v1", "v3", "v4", "v5", "v6"}
    page.goto(f"{console.url}/policy?arn={arn}")
    assert json.loads(page.locator("#document").inner_text()) == third
    # A version that does not exist: AWS's NoSuchEntity on the page, no 500.
    answer = page.goto(f"{console.url}/policy?arn={arn}&version=v99")
    assert answer is not None
    assert answer.status == 404
    assert "v99" in _problem(page)


def test_roles_created_edited_and_deleted(console: Console, browser: BrowserContext) -> None:
    iam = console.server.client("iam")
    page = browser.new_page()
    _sign_in(page, console, "boss")
    page.get_by_role("link", name="Roles", exact=True).click()
    page.wait_for_load_state()
    page.get_by_label("Role name").fill("deployer")
    page.get_by_label("Description (optional)").fill("Deploys <b>things</b>")
    _click(page, "Create role")
    assert "Role deployer was created." in _done(page)
    role = iam.get_role(RoleName="deployer")["Role"]
    assert role["Description"] == "Deploys <b>things</b>"
    trust = role["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    page.get_by_role("link", name="deployer", exact=True).click()
    page.wait_for_load_state()
    assert page.locator("#summary").get_by_label("Description").input_value() == (
        "Deploys <b>things</b>"
    )

    # Settings: a duration IAM refuses is its message; a good one is saved.
    page.get_by_label("Maximum session duration (seconds, 3600 to 43200)").fill("60")
    _click(page, "Save settings")
    assert "maxSessionDuration" in _problem(page)
    assert iam.get_role(RoleName="deployer")["Role"]["MaxSessionDuration"] == 3600
    page.get_by_label("Maximum session duration (seconds, 3600 to 43200)").fill("7200")
    page.locator("#summary").get_by_label("Description").fill("Deploys")
    _click(page, "Save settings")
    assert "The role's settings were saved." in _done(page)
    role = iam.get_role(RoleName="deployer")["Role"]
    assert (role["MaxSessionDuration"], role["Description"]) == (7200, "Deploys")
    page.locator("#summary").get_by_label("Description").fill("")
    _click(page, "Save settings")
    assert "The role's settings were saved." in _done(page)
    assert iam.get_role(RoleName="deployer")["Role"].get("Description", "") == ""

    # The trust policy in the editor, checked as a trust policy (Principal needed).
    page.get_by_role("link", name="Edit trust policy").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Trust policy of role deployer"
    no_principal = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}],
    }
    page.get_by_label("Trust policy (JSON)").fill(json.dumps(no_principal, indent=2))
    page.locator("#live-findings li").first.wait_for()
    assert "Principal" in page.locator("#live-findings").inner_text()
    _click(page, "Update trust policy")
    assert "Nothing was saved." in _problem(page)
    assert "Principal" in page.locator("#findings").inner_text()
    boss = f"arn:aws:iam::{ACCOUNT}:user/boss"
    trusting = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": boss}, "Action": "sts:AssumeRole"}],
    }
    page.get_by_label("Trust policy (JSON)").fill(json.dumps(trusting, indent=2))
    _click(page, "Update trust policy")
    assert "The trust policy of role deployer was updated." in _done(page)
    updated = iam.get_role(RoleName="deployer")["Role"]["AssumeRolePolicyDocument"]
    assert updated["Statement"][0]["Principal"] == {"AWS": boss}

    # Policies of the role, then the delete: DeleteConflict while it has them.
    page.goto(f"{console.url}/role?name=deployer")
    assert boss in page.locator("#trust-document").inner_text()
    page.get_by_role("link", name="Attach a managed policy").click()
    page.wait_for_load_state()
    page.get_by_label("Managed policy to attach").select_option(label="IAMReadOnlyAccess")
    _click(page, "Attach policy")
    assert "IAMReadOnlyAccess" in page.locator("#attached").inner_text()
    _shot(page, "33-role")
    _click(page, "Delete role deployer")
    assert "must detach all policies first" in _problem(page)
    _click(page, "Detach IAMReadOnlyAccess")
    _click(page, "Delete role deployer")
    assert page.url.endswith("/console/roles")
    with pytest.raises(ClientError):
        iam.get_role(RoleName="deployer")


def test_a_limited_user_gets_access_denied_and_changes_nothing(
    console: Console, browser: BrowserContext
) -> None:
    iam = console.server.client("iam")
    iam.create_group(GroupName="readers")
    iam.create_role(
        RoleName="reader-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    page = browser.new_page()
    _sign_in(page, console, "viewer")
    denied = f"User: arn:aws:iam::{ACCOUNT}:user/viewer is not authorized to perform: "
    page.goto(f"{console.url}/groups")
    page.get_by_label("Group name").fill("sneaky")
    _click(page, "Create group")
    assert denied + "iam:CreateGroup" in _problem(page)
    page.goto(f"{console.url}/group?name=readers")
    page.get_by_role("link", name="Attach a managed policy").click()
    page.wait_for_load_state()
    page.get_by_label("Managed policy to attach").select_option(label="AdministratorAccess")
    _click(page, "Attach policy")
    assert denied + "iam:AttachGroupPolicy" in _problem(page)
    page.goto(f"{console.url}/roles")
    page.get_by_label("Role name").fill("sneaky")
    _click(page, "Create role")
    assert denied + "iam:CreateRole" in _problem(page)
    page.goto(f"{console.url}/policies/new?target=trust&name=reader-role")
    _click(page, "Update trust policy")
    assert denied + "iam:UpdateAssumeRolePolicy" in _problem(page)
    page.goto(f"{console.url}/policies/new?target=user&name=viewer")
    page.get_by_label("Policy name").fill("escalate")
    page.get_by_label("Policy document (JSON)").fill(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        )
    )
    _click(page, "Save inline policy")
    assert denied + "iam:PutUserPolicy" in _problem(page)
    _shot(page, "34-limited-user")

    # A post without the session's CSRF token: 403, nothing changed.
    answer = page.request.post(
        f"{console.url}/groups", form={"action": "create-group", "name": "forged"}
    )
    assert answer.status == 403
    _click(page, "Sign out")
    _sign_in(page, console, "boss")
    forged = page.request.post(
        f"{console.url}/role?name=reader-role",
        form={"action": "delete", "name": "reader-role", "csrf": "not-the-token"},
    )
    assert forged.status == 403
    assert iam.get_role(RoleName="reader-role")["Role"]["RoleName"] == "reader-role"
    names = {g["GroupName"] for g in iam.list_groups()["Groups"]}
    assert "sneaky" not in names
    assert "forged" not in names
    assert iam.list_user_policies(UserName="viewer")["PolicyNames"] == []
    with pytest.raises(ClientError):
        iam.get_role(RoleName="sneaky")


class _Device:
    """Another browser, signed in with urllib: its own cookies and user agent."""

    def __init__(self, console: Console, user: str, agent: str) -> None:
        self._console = console
        self._agent = agent
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        page = self._get(console.url)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        form = {"csrf": csrf.group(1), "account": ACCOUNT, "username": user, "password": PASSWORD}
        request = urllib.request.Request(  # noqa: S310 - the test's own server
            f"{console.url}/signin",
            data=urllib.parse.urlencode(form).encode(),
            headers={"User-Agent": agent},
            method="POST",
        )
        with self._opener.open(request, timeout=30) as answer:
            assert answer.url == console.page_url

    def _get(self, url: str) -> str:
        request = urllib.request.Request(url, headers={"User-Agent": self._agent})  # noqa: S310
        with self._opener.open(request, timeout=30) as answer:
            return str(answer.read().decode())

    def signed_in(self) -> bool:
        """True when the page opens, False when it answers 401 (the sign-in page)."""
        try:
            self._get(self._console.page_url)
        except urllib.error.HTTPError as error:
            if error.code == 401:
                return False
            raise
        return True


def test_sessions_listed_and_signed_out(console: Console, browser: BrowserContext) -> None:
    iam = console.server.client("iam")
    iam.create_user(UserName="carol")
    iam.create_login_profile(UserName="carol", Password=PASSWORD)
    laptop = _Device(console, "carol", "Laptop-Browser/1.0")
    page = browser.new_page()
    _sign_in(page, console, "carol")
    page.get_by_role("link", name="My sessions").click()
    page.wait_for_load_state()
    rows = page.locator("#sessions tr.session")
    assert rows.count() == 2
    assert "This session" in page.locator("#current-session").inner_text()
    assert "HeadlessChrome" in page.locator("#current-session").inner_text()
    other = rows.filter(has_text="Laptop-Browser/1.0")
    assert "127.0.0.1" in other.inner_text()
    _shot(page, "35-sessions")
    _click(page, "Sign out all other sessions")
    assert "Signed out 1 other session." in _done(page)
    assert not laptop.signed_in()
    assert rows.count() == 1

    phone = _Device(console, "carol", "Phone-Browser/2.0")
    page.goto(f"{console.url}/sessions")
    page.locator("#sessions tr.session", has_text="Phone-Browser/2.0").get_by_role("button").click()
    page.wait_for_load_state()
    assert "Signed out that session." in _done(page)
    assert not phone.signed_in()
    page.goto(f"{console.url}/security-credentials")
    assert page.url == console.page_url

    # An administrator's view of carol's sessions: listed with iam:GetLoginProfile,
    # ended only with iam:DeleteLoginProfile.
    _click(page, "Sign out")
    tablet = _Device(console, "carol", "Tablet-Browser/3.0")
    _sign_in(page, console, "viewer")
    page.goto(f"{console.url}/user?name=carol")
    assert "Tablet-Browser/3.0" in page.locator("#console-sessions").inner_text()
    _click(page, "End console sessions of carol")
    denied = f"User: arn:aws:iam::{ACCOUNT}:user/viewer is not authorized to perform: "
    assert denied + "iam:DeleteLoginProfile" in _problem(page)
    assert tablet.signed_in()
    _click(page, "Sign out")
    _sign_in(page, console, "boss")
    page.goto(f"{console.url}/user?name=carol")
    _click(page, "End console sessions of carol")
    assert "Ended 1 console session of carol." in _done(page)
    assert "None open." in page.locator("#console-sessions").inner_text()
    assert not tablet.signed_in()


def test_the_organizations_accounts_for_its_management_account(
    console: Console, browser: BrowserContext
) -> None:
    page = browser.new_page()
    _sign_in(page, console, "boss")
    page.get_by_role("link", name="Organization").click()
    page.wait_for_load_state()
    assert "Your account is not a member of an organization." in _problem(page)

    organizations = console.server.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    member = new_account(organizations)
    root = organizations.list_roots()["Roots"][0]["Id"]
    unit = organizations.create_organizational_unit(ParentId=root, Name="Engineering")
    unit_id = unit["OrganizationalUnit"]["Id"]
    organizations.move_account(AccountId=member, SourceParentId=root, DestinationParentId=unit_id)
    page.reload()
    assert f"team-b {member}" in " ".join(page.locator(f"#account-{member}").inner_text().split())
    assert page.locator(f"#account-{ACCOUNT}").count() == 1
    engineering = page.locator(f"#unit-{unit_id}")
    assert "OU Engineering" in engineering.inner_text()
    assert member in engineering.locator("li.account").inner_text()
    assert ACCOUNT in page.locator(f"#unit-{root} > ul > li.account").inner_text()
    _shot(page, "36-organization")

    # As a role of the member account (switch role): a member is told whose page it is.
    page.goto(f"{console.url}/switch-role")
    page.get_by_label("Account ID").fill(member)
    page.get_by_label("Role name").fill("OrganizationAccountAccessRole")
    _click(page, "Switch role")
    page.goto(f"{console.url}/organization")
    assert f"Account {member} is a member of organization" in _problem(page)
    assert f"its management account, {ACCOUNT}." in _problem(page)
    assert page.locator("#accounts").count() == 0

    # Without organizations:ListAccounts (IAMReadOnlyAccess): AWS's AccessDenied.
    _click(page, "Sign out")
    _sign_in(page, console, "viewer")
    page.goto(f"{console.url}/organization")
    assert "is not authorized to perform: organizations:" in _problem(page)
    assert page.locator("#accounts").count() == 0


def test_bad_input_on_the_editing_pages_is_a_message_never_a_500(
    console: Console, browser: BrowserContext
) -> None:
    iam = console.server.client("iam")
    iam.create_role(
        RoleName="steady",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    page = browser.new_page()
    _sign_in(page, console, "boss")
    page.goto(f"{console.url}/groups")
    csrf = page.locator("input[name=csrf]").first.input_value()
    script = "<script>window.__iamd_pwned=1</script>"
    posts: list[tuple[str, dict[str, str]]] = [
        ("/role", {"name": "steady", "action": "update-role", "max_session_duration": "abc"}),
        ("/role", {"name": "steady", "action": "update-role", "description": script}),
        ("/role", {"name": "steady", "action": "no-such-action"}),
        ("/role", {"name": "steady", "action": "attach-policy", "value": script}),
        ("/group", {"name": "x" * 5000, "action": "add-user", "value": script}),
        ("/groups", {"action": "create-group", "name": ""}),
        ("/roles", {"action": "create-role", "name": "r", "trust": "{not json"}),
        ("/policies/new", {"target": "version", "name_of": script, "action": "save"}),
        ("/policies/new", {"target": "trust", "name_of": "nobody", "action": "save"}),
        ("/policies/new", {"target": "version", "name_of": "arn:x", "delete_version": "v1"}),
        ("/policies/new", {"target": "<b>", "action": "check", "document": script}),
        ("/sessions", {"action": "end", "handle": script}),
        ("/sessions", {"action": "whatever"}),
        ("/user", {"name": "nobody", "action": "end-sessions"}),
    ]
    for path, form in posts:
        answer = page.request.post(f"{console.url}{path}", form={**form, "csrf": csrf})
        assert answer.status in (200, 400, 404), (path, form, answer.status)
        assert "<script>window.__iamd_pwned" not in answer.text(), (path, form)
    for path in (
        "/group?name=%00",
        "/role?name=" + "r" * 3000,
        "/policy?arn=arn:aws:iam::aws:policy/IAMReadOnlyAccess&version=%3Cscript%3E",
        "/policies/new?target=user&name=nobody&policy=nothing",
        "/policies/new?target=version&arn=arn:aws:iam::123456789012:policy/missing",
    ):
        shown = page.goto(f"{console.url}{path}")
        assert shown is not None
        assert shown.status in (200, 400, 404), (path, shown.status)
        assert _scripts_ran(page) is None
    assert "console request failed" not in console.server.log_text()
    # IAM's descriptions allow markup: kept as text, shown as text, never run.
    assert iam.get_role(RoleName="steady")["Role"]["Description"] == script
    page.goto(f"{console.url}/role?name=steady")
    assert page.locator("#summary").get_by_label("Description").input_value() == script
    page.goto(f"{console.url}/roles")
    assert script in page.locator("#role-steady").inner_text()
    assert _scripts_ran(page) is None
