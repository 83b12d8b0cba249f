"""Tag<X>, Untag<X> and List<X>Tags for each taggable kind of IAM entity, written once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from iamd.model import Tag
from iamd.model.page import Page
from iamd.operations.iam.shapes import max_items, paged, tags_from_params, tags_shape
from iamd.operations.registry import CallContext, Operation, Params, ResourceOf, Result
from iamd.services.container import Services


class Taggable(Protocol):
    """A service whose entities, named by one request parameter, carry tags."""

    def tag(self, key: str, tags: Sequence[Tag], /) -> None: ...

    def untag(self, key: str, keys: Sequence[str], /) -> None: ...

    def list_tags(self, key: str, marker: str | None, max_items: int, /) -> Page[Tag]: ...


def tag_operations(
    noun: str,
    key_param: str,
    service_of: Callable[[Services], Taggable],
    resource: ResourceOf,
) -> tuple[Operation, ...]:
    """The three tag operations of `noun` ("User", "MFADevice"...), keyed by `key_param`."""

    def tag(ctx: CallContext, p: Params) -> Result:
        service_of(ctx.services).tag(p[key_param], tags_from_params(p["Tags"]))
        return None

    def untag(ctx: CallContext, p: Params) -> Result:
        service_of(ctx.services).untag(p[key_param], p["TagKeys"])
        return None

    def list_tags(ctx: CallContext, p: Params) -> Result:
        page = service_of(ctx.services).list_tags(p[key_param], p.get("Marker"), max_items(p))
        result = paged(page, "Tags", lambda t: t)
        result["Tags"] = tags_shape(page.items)
        return result

    return (
        Operation("iam", f"Tag{noun}", tag, resource),
        Operation("iam", f"Untag{noun}", untag, resource),
        Operation("iam", f"List{noun}Tags", list_tags, resource),
    )
