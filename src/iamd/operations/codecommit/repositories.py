"""CodeCommit repository operations: create, get, list, update description, delete."""

from __future__ import annotations

from typing import Any

from iamd.model.arn import codecommit_repository_arn
from iamd.model.repository import Repository
from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource


def repository_arn(ctx: CallContext, name: str) -> str:
    return codecommit_repository_arn(ctx.region, ctx.caller.account_id, name)


def repository_resource(ctx: CallContext, params: Params) -> str:
    """The named repository's ARN (it need not exist: AWS authorizes before it looks)."""
    return repository_arn(ctx, params["repositoryName"])


def _metadata(ctx: CallContext, repository: Repository) -> dict[str, Any]:
    urls = ctx.services.clone_urls
    return {
        "accountId": ctx.caller.account_id,
        "repositoryId": repository.repository_id,
        "repositoryName": repository.name,
        "repositoryDescription": repository.description,
        "defaultBranch": repository.default_branch,
        "lastModifiedDate": repository.last_modified_date,
        "creationDate": repository.creation_date,
        "cloneUrlHttp": urls.http(repository.name),
        "cloneUrlSsh": urls.ssh(repository.name),
        "Arn": repository_arn(ctx, repository.name),
    }


def create_repository(ctx: CallContext, p: Params) -> Result:
    repository = ctx.services.repositories.create(
        p["repositoryName"], p.get("repositoryDescription"), p.get("tags") or {}
    )
    return {"repositoryMetadata": _metadata(ctx, repository)}


def get_repository(ctx: CallContext, p: Params) -> Result:
    repository = ctx.services.repositories.get(p["repositoryName"])
    return {"repositoryMetadata": _metadata(ctx, repository)}


def list_repositories(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.repositories.listing(
        p.get("nextToken"),
        by_last_modified=p.get("sortBy") == "lastModifiedDate",
        descending=p.get("order") == "descending",
    )
    return {
        "repositories": [
            {"repositoryName": r.name, "repositoryId": r.repository_id} for r in page.items
        ],
        "nextToken": page.next_token,
    }


def update_repository_description(ctx: CallContext, p: Params) -> Result:
    ctx.services.repositories.update_description(
        p["repositoryName"], p.get("repositoryDescription")
    )
    return None


def delete_repository(ctx: CallContext, p: Params) -> Result:
    # Deleting a repository that does not exist succeeds without an id, as on AWS.
    return {"repositoryId": ctx.services.repositories.delete(p["repositoryName"])}


OPERATIONS = (
    Operation("codecommit", "CreateRepository", create_repository, repository_resource),
    Operation("codecommit", "GetRepository", get_repository, repository_resource),
    Operation("codecommit", "ListRepositories", list_repositories, any_resource),
    Operation(
        "codecommit",
        "UpdateRepositoryDescription",
        update_repository_description,
        repository_resource,
    ),
    Operation("codecommit", "DeleteRepository", delete_repository, repository_resource),
)
