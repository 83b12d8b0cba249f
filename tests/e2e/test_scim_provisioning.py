"""SCIM 2.0 provisioning of an Identity Center instance's identity store, with the
requests Okta and Microsoft Entra ID document for their SCIM clients, against a real
server; what they provision is checked through boto3's identitystore client."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.support.clock import ServerClock
from tests.support.scim import ScimClient, create_scim_token, scim_token_command
from tests.support.servers import RunningServer, start_server
from tests.support.trail_store import stored_records

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


@dataclass(frozen=True)
class Tenant:
    server: RunningServer
    clock: ServerClock
    instance: str
    store: str
    token: dict[str, str]

    def scim(self, user_agent: str = "Okta SCIM Client 1.0.0") -> ScimClient:
        return ScimClient(
            f"{self.server.endpoint}/{self.store}/scim/v2",
            self.token["AccessToken"],
            user_agent=user_agent,
        )

    def users(self) -> list[dict[str, Any]]:
        ids = self.server.client("identitystore")
        return list(ids.list_users(IdentityStoreId=self.store)["Users"])


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenant]:
    data = tmp_path_factory.mktemp("iamd-scim")
    clock = ServerClock(data / "clock")
    clock.set_offset(0)
    server = start_server(data / "data", test_clock_file=clock.path, extra_args=["--audit-trail"])
    try:
        admin = server.client("sso-admin")
        instance = admin.create_instance(Name="Corp")["InstanceArn"]
        store = admin.describe_instance(InstanceArn=instance)["IdentityStoreId"]
        token = create_scim_token(server, instance)
        yield Tenant(server, clock, instance, store, token)
    finally:
        server.stop()


def _okta_user(user_name: str, external_id: str) -> dict[str, Any]:
    # Okta's documented create request (its AWS IAM Identity Center app sends no password).
    return {
        "schemas": [USER],
        "userName": user_name,
        "name": {"givenName": "Isabella", "familyName": "Moore"},
        "emails": [{"primary": True, "value": user_name, "type": "work"}],
        "displayName": "Isabella Moore",
        "locale": "en-US",
        "externalId": external_id,
        "groups": [],
        "active": True,
    }


def test_okta_provisions_looks_up_updates_and_deactivates_a_user(tenant: Tenant) -> None:
    scim = tenant.scim()
    created = scim.call(
        "POST", "/Users", _okta_user("isabella@example.com", "00u1dhhb1fkIGP7RL1d8")
    )
    assert created.status == 201, created.document
    user = created.document
    assert user["userName"] == "isabella@example.com"
    assert user["externalId"] == "00u1dhhb1fkIGP7RL1d8"
    assert user["active"] is True
    assert user["meta"]["resourceType"] == "User"
    user_id = user["id"]

    found = scim.call(
        "GET",
        "/Users",
        query={"filter": 'userName eq "isabella@example.com"', "startIndex": "1", "count": "100"},
    )
    assert found.status == 200
    assert found.document["schemas"] == [LIST]
    assert found.document["totalResults"] == 1
    assert [r["id"] for r in found.document["Resources"]] == [user_id]
    missing = scim.call("GET", "/Users", query={"filter": 'userName eq "nobody@example.com"'})
    assert missing.document["totalResults"] == 0
    assert missing.document["Resources"] == []
    by_external = scim.call(
        "GET", "/Users", query={"filter": 'externalId eq "00u1dhhb1fkIGP7RL1d8"'}
    )
    assert [r["id"] for r in by_external.document["Resources"]] == [user_id]

    # The same user, through the identitystore API.
    ids = tenant.server.client("identitystore")
    described = ids.describe_user(IdentityStoreId=tenant.store, UserId=user_id)
    assert described["UserName"] == "isabella@example.com"
    assert described["Name"] == {"GivenName": "Isabella", "FamilyName": "Moore"}
    assert described["Emails"] == [
        {"Value": "isabella@example.com", "Type": "work", "Primary": True}
    ]
    assert described["ExternalIds"] == [{"Issuer": "scim", "Id": "00u1dhhb1fkIGP7RL1d8"}]
    assert described["UserStatus"] == "ENABLED"
    assert (
        ids.get_user_id(
            IdentityStoreId=tenant.store,
            AlternateIdentifier={"ExternalId": {"Issuer": "scim", "Id": "00u1dhhb1fkIGP7RL1d8"}},
        )["UserId"]
        == user_id
    )

    # Okta updates a profile with PUT (the whole user).
    put = _okta_user("isabella@example.com", "00u1dhhb1fkIGP7RL1d8")
    put["id"] = user_id
    put["name"] = {"givenName": "Isabella", "familyName": "Moore-Smith"}
    put["title"] = "Engineer"
    updated = scim.call("PUT", f"/Users/{user_id}", put)
    assert updated.status == 200, updated.document
    assert updated.document["name"]["familyName"] == "Moore-Smith"
    assert ids.describe_user(IdentityStoreId=tenant.store, UserId=user_id)["Title"] == "Engineer"

    # Okta deactivates with a PATCH whose value holds the attribute.
    deactivated = scim.call(
        "PATCH",
        f"/Users/{user_id}",
        {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]},
    )
    assert deactivated.status == 200, deactivated.document
    assert deactivated.document["active"] is False
    assert (
        ids.describe_user(IdentityStoreId=tenant.store, UserId=user_id)["UserStatus"] == "DISABLED"
    )
    assert scim.call("GET", f"/Users/{user_id}").document["active"] is False


def test_entra_provisions_patches_disables_and_deletes_a_user(tenant: Tenant) -> None:
    scim = tenant.scim("Azure Active Directory SCIM Client")
    body = {
        "schemas": [USER, ENTERPRISE],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
        "active": True,
        "displayName": "givenName familyName",
        "emails": [
            {
                "primary": True,
                "type": "work",
                "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com",
            }
        ],
        "meta": {"resourceType": "User"},
        "name": {
            "formatted": "givenName familyName",
            "familyName": "familyName",
            "givenName": "givenName",
        },
        "roles": [],
        ENTERPRISE: {"department": "Finance"},
    }
    created = scim.call("POST", "/Users", body)
    assert created.status == 201, created.document
    user_id = created.document["id"]
    assert created.document[ENTERPRISE] == {"department": "Finance"}
    looked_up = scim.call(
        "GET",
        "/Users",
        query={"filter": 'userName eq "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"'},
    )
    assert [r["id"] for r in looked_up.document["Resources"]] == [user_id]

    patched = scim.call(
        "PATCH",
        f"/Users/{user_id}",
        {
            "schemas": [PATCH],
            "Operations": [
                {
                    "op": "Replace",
                    "path": 'emails[type eq "work"].value',
                    "value": "updatedEmail@microsoft.com",
                },
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
                {
                    "op": "Add",
                    "path": f"{ENTERPRISE}:manager",
                    "value": "2819c223-7f76-453a-919d-413861904646",
                },
                {"op": "Add", "path": 'addresses[type eq "work"].locality', "value": "Redmond"},
            ],
        },
    )
    assert patched.status == 200, patched.document
    ids = tenant.server.client("identitystore")
    described = ids.describe_user(IdentityStoreId=tenant.store, UserId=user_id)
    assert described["Emails"] == [
        {"Value": "updatedEmail@microsoft.com", "Type": "work", "Primary": True}
    ]
    assert described["Name"]["FamilyName"] == "updatedFamilyName"
    assert described["Addresses"] == [{"Type": "work", "Locality": "Redmond"}]
    assert patched.document[ENTERPRISE]["manager"] == {
        "value": "2819c223-7f76-453a-919d-413861904646"
    }

    # Entra ID sends the boolean as a string, and `op` capitalized.
    disabled = scim.call(
        "PATCH",
        f"/Users/{user_id}",
        {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]},
    )
    assert disabled.status == 200, disabled.document
    assert (
        ids.describe_user(IdentityStoreId=tenant.store, UserId=user_id)["UserStatus"] == "DISABLED"
    )

    deleted = scim.call("DELETE", f"/Users/{user_id}")
    assert deleted.status == 204
    assert deleted.document is None
    gone = scim.call("GET", f"/Users/{user_id}")
    assert gone.status == 404
    assert gone.document["schemas"] == [ERROR]
    assert gone.document["status"] == "404"
    assert user_id not in {u["UserId"] for u in tenant.users()}


def _user(tenant: Tenant, name: str) -> str:
    answer = tenant.scim().call(
        "POST",
        "/Users",
        {
            "schemas": [USER],
            "userName": name,
            "name": {"givenName": "G", "familyName": "F"},
            "displayName": name,
        },
    )
    assert answer.status == 201, answer.document
    return str(answer.document["id"])


def _member_ids(tenant: Tenant, group_id: str) -> set[str]:
    ids = tenant.server.client("identitystore")
    memberships = ids.list_group_memberships(IdentityStoreId=tenant.store, GroupId=group_id)
    return {m["MemberId"]["UserId"] for m in memberships["GroupMemberships"]}


def test_okta_pushes_a_group_and_its_members(tenant: Tenant) -> None:
    scim = tenant.scim()
    first, second = _user(tenant, "okta-a@example.com"), _user(tenant, "okta-b@example.com")
    created = scim.call(
        "POST", "/Groups", {"schemas": [GROUP], "displayName": "Test SCIMv2", "members": []}
    )
    assert created.status == 201, created.document
    group_id = created.document["id"]
    added = scim.call(
        "PATCH",
        f"/Groups/{group_id}",
        {
            "schemas": [PATCH],
            "Operations": [
                {
                    "op": "add",
                    "path": "members",
                    "value": [
                        {"value": first, "display": "okta-a@example.com"},
                        {"value": second, "display": "okta-b@example.com"},
                    ],
                }
            ],
        },
    )
    assert added.status == 204, added.document
    assert _member_ids(tenant, group_id) == {first, second}
    removed = scim.call(
        "PATCH",
        f"/Groups/{group_id}",
        {
            "schemas": [PATCH],
            "Operations": [{"op": "remove", "path": f'members[value eq "{first}"]'}],
        },
    )
    assert removed.status == 204
    assert _member_ids(tenant, group_id) == {second}
    renamed = scim.call(
        "PATCH",
        f"/Groups/{group_id}",
        {
            "schemas": [PATCH],
            "Operations": [
                {"op": "replace", "value": {"id": group_id, "displayName": "Test SCIMv2 renamed"}}
            ],
        },
    )
    assert renamed.status == 204
    ids = tenant.server.client("identitystore")
    assert ids.describe_group(IdentityStoreId=tenant.store, GroupId=group_id)["DisplayName"] == (
        "Test SCIMv2 renamed"
    )
    of_member = scim.call("GET", "/Groups", query={"filter": f'members eq "{second}"'})
    assert [g["id"] for g in of_member.document["Resources"]] == [group_id]
    assert scim.call("DELETE", f"/Groups/{group_id}").status == 204
    assert scim.call("GET", f"/Groups/{group_id}").status == 404


def test_entra_creates_finds_and_changes_a_group(tenant: Tenant) -> None:
    scim = tenant.scim("Azure Active Directory SCIM Client")
    member = _user(tenant, "entra-member@example.com")
    created = scim.call(
        "POST",
        "/Groups",
        {
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {"resourceType": "Group"},
            "schemas": [GROUP],
        },
    )
    assert created.status == 201, created.document
    group_id = created.document["id"]
    assert created.document["externalId"] == "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"
    found = scim.call(
        "GET",
        "/Groups",
        query={"excludedAttributes": "members", "filter": 'displayName eq "displayName"'},
    )
    assert [g["id"] for g in found.document["Resources"]] == [group_id]
    change = {
        "schemas": [PATCH],
        "Operations": [
            {"op": "Add", "path": "members", "value": [{"$ref": None, "value": member}]}
        ],
    }
    assert scim.call("PATCH", f"/Groups/{group_id}", change).status == 204
    assert _member_ids(tenant, group_id) == {member}
    removal = {
        "schemas": [PATCH],
        "Operations": [
            {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": member}]}
        ],
    }
    assert scim.call("PATCH", f"/Groups/{group_id}", removal).status == 204
    assert _member_ids(tenant, group_id) == set()
    rename = {
        "schemas": [PATCH],
        "Operations": [
            {
                "op": "Replace",
                "path": "displayName",
                "value": "1879db59-3bdf-4490-ad68-ab880a269474",
            }
        ],
    }
    assert scim.call("PATCH", f"/Groups/{group_id}", rename).status == 204
    ids = tenant.server.client("identitystore")
    group = ids.describe_group(IdentityStoreId=tenant.store, GroupId=group_id)
    assert group["DisplayName"] == "1879db59-3bdf-4490-ad68-ab880a269474"
    assert group["ExternalIds"] == [
        {"Issuer": "scim", "Id": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"}
    ]


def _refused(answer: Any, status: int, scim_type: str | None) -> None:
    assert answer.status == status, answer.document
    assert answer.document["schemas"] == [ERROR]
    assert answer.document["status"] == str(status)
    assert answer.document.get("scimType") == scim_type
    assert answer.headers["content-type"].startswith("application/json")


def test_bad_requests_get_scim_errors_and_change_nothing(tenant: Tenant) -> None:
    scim = tenant.scim()
    _user(tenant, "taken@example.com")
    with_external = scim.call("POST", "/Users", _okta_user("ext@example.com", "00uTAKEN"))
    assert with_external.status == 201, with_external.document
    before = tenant.users()
    # An externalId names one user of the store, as in AWS.
    _refused(
        scim.call("POST", "/Users", _okta_user("other@example.com", "00uTAKEN")), 409, "uniqueness"
    )

    duplicate = {
        "schemas": [USER],
        "userName": "TAKEN@example.com",
        "name": {"givenName": "G", "familyName": "F"},
        "displayName": "Dup",
    }
    _refused(scim.call("POST", "/Users", duplicate), 409, "uniqueness")
    _refused(scim.call("POST", "/Users", raw=b'{"schemas": ["'), 400, "invalidSyntax")
    unknown = {**duplicate, "userName": "new@example.com", "shoeSize": 42}
    _refused(scim.call("POST", "/Users", unknown), 400, "invalidSyntax")
    no_display = {k: v for k, v in duplicate.items() if k != "displayName"}
    _refused(
        scim.call("POST", "/Users", {**no_display, "userName": "n@example.com"}),
        400,
        "invalidValue",
    )
    two_emails = {
        **duplicate,
        "userName": "two@example.com",
        "emails": [{"value": "a@x", "primary": True}, {"value": "b@x"}],
    }
    _refused(scim.call("POST", "/Users", two_emails), 400, "invalidValue")
    _refused(
        scim.call("GET", "/Users", query={"filter": 'userName co "taken"'}), 400, "invalidFilter"
    )
    _refused(
        scim.call("GET", "/Users", query={"filter": 'userName eq "x" or userName eq "y"'}),
        400,
        "invalidFilter",
    )
    _refused(scim.call("GET", "/Users", query={"filter": 'nickName eq "x"'}), 400, "invalidFilter")
    _refused(scim.call("GET", "/Users", query={"count": "500"}), 400, "invalidValue")
    bad_patch = {"schemas": [PATCH], "Operations": [{"op": "remove", "path": "userName"}]}
    user_id = before[0]["UserId"]
    _refused(scim.call("PATCH", f"/Users/{user_id}", bad_patch), 400, "invalidValue")
    _refused(
        scim.call(
            "PATCH",
            f"/Users/{user_id}",
            {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "id", "value": "x"}]},
        ),
        400,
        "invalidPath",
    )
    _refused(scim.call("POST", "/Users", raw=b"{" + b" " * (300 * 1024) + b"}"), 413, None)
    _refused(scim.call("GET", "/Users/not-a-user"), 404, None)
    # AWS's PatchGroup refuses replacing every member at once.
    group = scim.call("POST", "/Groups", {"schemas": [GROUP], "displayName": "Keep"}).document["id"]
    replace_all = {
        "schemas": [PATCH],
        "Operations": [{"op": "replace", "path": "members", "value": []}],
    }
    _refused(scim.call("PATCH", f"/Groups/{group}", replace_all), 400, "invalidValue")
    assert tenant.users() == before


def test_a_missing_wrong_or_other_tenants_token_is_401(tenant: Tenant) -> None:
    scim = tenant.scim()
    before = tenant.users()
    body = {
        "schemas": [USER],
        "userName": "intruder",
        "name": {"givenName": "a", "familyName": "b"},
        "displayName": "x",
    }
    for token in ("", "not-the-token", tenant.token["AccessToken"] + "x"):
        answer = scim.call("POST", "/Users", body, token=token)
        _refused(answer, 401, None)
        assert tenant.token["AccessToken"] not in json.dumps(answer.document)
    other = ScimClient(
        f"{tenant.server.endpoint}/d-0000000000/scim/v2", tenant.token["AccessToken"]
    )
    _refused(other.call("GET", "/Users"), 401, None)
    assert tenant.users() == before
    assert tenant.token["AccessToken"] not in tenant.server.log_text()


def test_discovery_documents(tenant: Tenant) -> None:
    scim = tenant.scim()
    config = scim.call("GET", "/ServiceProviderConfig").document
    assert config["patch"] == {"supported": True}
    assert config["bulk"]["supported"] is False
    assert config["filter"] == {"supported": True, "maxResults": 100}
    schemas = scim.call("GET", "/Schemas").document
    assert {s["id"] for s in schemas["Resources"]} == {USER, ENTERPRISE, GROUP}
    assert scim.call("GET", f"/Schemas/{USER}").document["name"] == "User"
    types = scim.call("GET", "/ResourceTypes").document
    assert {t["endpoint"] for t in types["Resources"]} == {"/Users", "/Groups"}


def test_paging_with_count_and_cursor(tenant: Tenant) -> None:
    scim = tenant.scim()
    for index in range(3):
        _user(tenant, f"page-{index}@example.com")
    total = len(tenant.users())
    seen: list[str] = []
    cursor = ""
    while True:
        page = scim.call("GET", "/Users", query={"count": "2", "cursor": cursor}).document
        assert page["itemsPerPage"] == len(page["Resources"]) <= 2
        seen += [r["id"] for r in page["Resources"]]
        if "nextCursor" not in page:
            break
        cursor = page["nextCursor"]
    assert len(seen) == len(set(seen)) == total
    first = scim.call("GET", "/Users", query={"count": "1"}).document
    assert first["totalResults"] == total
    assert first["itemsPerPage"] == 1


def test_token_commands_limit_two_and_delete_and_expiry(tenant: Tenant) -> None:
    second = create_scim_token(tenant.server, tenant.instance)
    third = scim_token_command(tenant.server, "create", "--instance-arn", tenant.instance)
    assert third.returncode != 0
    assert "2 SCIM access tokens" in third.stderr
    listed = json.loads(
        scim_token_command(tenant.server, "list", "--instance-arn", tenant.instance).stdout
    )
    assert {t["TokenId"] for t in listed["Tokens"]} == {tenant.token["TokenId"], second["TokenId"]}
    assert second["AccessToken"] not in json.dumps(listed)
    other = ScimClient(f"{tenant.server.endpoint}/{tenant.store}/scim/v2", second["AccessToken"])
    assert other.call("GET", "/ServiceProviderConfig").status == 200
    deleted = scim_token_command(
        tenant.server, "delete", "--instance-arn", tenant.instance, "--token-id", second["TokenId"]
    )
    assert deleted.returncode == 0, deleted.stderr
    _refused(other.call("GET", "/ServiceProviderConfig"), 401, None)
    # A year and a day later the first token has expired.
    tenant.clock.set_offset(366 * 86400)
    try:
        _refused(tenant.scim().call("GET", "/Users"), 401, None)
    finally:
        tenant.clock.set_offset(0)
    assert tenant.scim().call("GET", "/ServiceProviderConfig").status == 200


def test_scim_calls_are_in_the_audit_trail_without_the_token(tenant: Tenant) -> None:
    scim = tenant.scim()
    user_id = _user(tenant, "audited@example.com")
    scim.call("GET", f"/Users/{user_id}")
    scim.call("GET", "/Users/no-such-user")
    database = tenant.server.data_dir / "iamd.sqlite3"

    def scim_events() -> list[dict[str, Any]]:
        return [
            e
            for e in stored_records(database)
            if e["eventSource"] == "identitystore-scim.amazonaws.com"
            and e.get("requestParameters", {}).get("id") in (user_id, "no-such-user")
        ]

    deadline = time.monotonic() + 10
    while len(scim_events()) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    events = scim_events()
    assert [e["eventName"] for e in events] == ["CreateUser", "GetUser", "GetUser"]
    assert events[0]["userIdentity"] == {
        "type": "WebIdentityUser",
        "accountId": tenant.server.client("sts").get_caller_identity()["Account"],
        "accessKeyId": tenant.token["TokenId"],
    }
    assert events[0]["requestParameters"] == {"tenantId": tenant.store, "id": user_id}
    assert "errorCode" not in events[1]
    assert events[2]["errorCode"] == "ResourceNotFoundException"
    everything = json.dumps(stored_records(database))
    assert tenant.token["AccessToken"] not in everything
    assert "audited@example.com" not in json.dumps(events)


def test_scim_on_postgresql(fresh_postgres_url: str, tmp_path: Path) -> None:
    server = start_server(tmp_path / "pg", database_url=fresh_postgres_url)
    try:
        admin = server.client("sso-admin")
        instance = admin.create_instance(Name="Corp")["InstanceArn"]
        store = admin.describe_instance(InstanceArn=instance)["IdentityStoreId"]
        first = create_scim_token(server, instance)
        create_scim_token(server, instance)
        third = scim_token_command(server, "create", "--instance-arn", instance)
        assert third.returncode != 0
        scim = ScimClient(f"{server.endpoint}/{store}/scim/v2", first["AccessToken"])
        created = scim.call("POST", "/Users", _okta_user("pg@example.com", "00uPG"))
        assert created.status == 201, created.document
        group = scim.call(
            "POST",
            "/Groups",
            {
                "schemas": [GROUP],
                "displayName": "PG",
                "members": [{"value": created.document["id"]}],
            },
        )
        assert group.status == 201, group.document
        _refused(scim.call("POST", "/Users", _okta_user("PG@example.com", "x")), 409, "uniqueness")
        ids = server.client("identitystore")
        memberships = ids.list_group_memberships(
            IdentityStoreId=store, GroupId=group.document["id"]
        )["GroupMemberships"]
        assert [m["MemberId"]["UserId"] for m in memberships] == [created.document["id"]]
    finally:
        server.stop()
