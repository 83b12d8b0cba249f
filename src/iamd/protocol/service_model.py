"""Access to botocore's service models and the few shape facts the codecs need.

The models are the single source of truth for the wire format; they are loaded through
botocore's own loader (never copied into the repository), once per process and service.
botocore is untyped, so its objects travel as ``Any`` and are only read here and by the
plan compilers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, TypeVar

import botocore.loaders
import botocore.model

#: Shape name that IAM uses for every policy-document string. botocore's
#: ``after-call.iam`` handler URL-decodes and JSON-loads members of this shape.
POLICY_DOCUMENT_SHAPE = "policyDocumentType"

R = TypeVar("R")
W = TypeVar("W")


# The loader and the model classes, not a botocore Session: a Session imports botocore's
# client machinery (urllib3, waiters, docs), a fifth of a second of the server's start.
@cache
def _loader() -> Any:
    return botocore.loaders.create_loader()


@cache
def load_service_model(service_name: str) -> Any:
    """Return botocore's ``ServiceModel`` for ``service_name`` (cached per process)."""
    data = _loader().load_service_model(service_name, "service-2")
    return botocore.model.ServiceModel(data, service_name=service_name)


@dataclass(frozen=True, slots=True)
class OperationPlans(Generic[R, W]):
    """A service model's facts a codec needs, and a plan per operation, compiled once."""

    api_version: str
    metadata: dict[str, Any]
    operation_names: frozenset[str]
    readers: dict[str, R | None]  # None: the operation takes no input
    outputs: dict[str, W]


def compile_operations(
    service_name: str,
    protocol: str,
    reader_of: Callable[[Any], R],
    output_of: Callable[[str, Any], W],
) -> OperationPlans[R, W]:
    """Load `service_name`'s model, check it speaks `protocol`, and compile each operation:
    `reader_of(input_shape)` and `output_of(operation_name, output_shape or None)`."""
    model = load_service_model(service_name)
    if model.protocol != protocol:
        raise ValueError(f"{service_name} does not use the {protocol} protocol")
    readers: dict[str, R | None] = {}
    outputs: dict[str, W] = {}
    for name in sorted(model.operation_names):
        operation = model.operation_model(name)
        input_shape = operation.input_shape
        readers[name] = None if input_shape is None else reader_of(input_shape)
        outputs[name] = output_of(name, operation.output_shape)
    return OperationPlans(
        model.api_version, dict(model.metadata), frozenset(model.operation_names), readers, outputs
    )


def wire_name(shape: Any, default: str) -> str:
    """The serialized (``locationName``) name of a shape, else ``default``."""
    name = shape.serialization.get("name")
    return name if isinstance(name, str) else default


def is_flattened(shape: Any) -> bool:
    return bool(shape.serialization.get("flattened"))


def is_sensitive(shape: Any) -> bool:
    return bool(shape.metadata.get("sensitive"))


def lower_camel(member_name: str) -> str:
    """AWS's validation messages name members in lowerCamelCase (``userName``)."""
    return member_name[:1].lower() + member_name[1:]
