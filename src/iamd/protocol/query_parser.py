"""Compilation of Query-protocol input shapes into readers of decoded forms.

A Query request is a flat form: ``Tags.member.1.Key=k``. Each structure, list and map
shape is compiled once into ``read(group, path, problems)`` where ``group`` holds the
form keys *relative to that value* (``member.1.Key`` for the ``Tags`` list). Keys are
grouped on the fly by their first dotted component, so the cost of a request is
proportional to its number of keys, and the model is never walked at request time.
Key layouts follow botocore's query serializer: ``Name.member.N`` (or the list member's
``locationName``), flattened lists without the ``member`` level, maps as
``Name.entry.N.key`` / ``.value``; indices are 1-based.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from iamd.protocol.scalars import INVALID, ScalarReader, scalar_reader
from iamd.protocol.service_model import is_flattened, lower_camel, wire_name
from iamd.protocol.validation import (
    UNREAD_ELEMENTS,
    Problems,
    max_elements,
    missing,
    size_checker,
    too_many,
)

Group = Mapping[str, str]
CompoundReader = Callable[[Group, str, Problems], Any]

_COMPOUND = frozenset({"structure", "list", "map"})
_NO_GROUPS: dict[str, dict[str, str]] = {}
_EMPTY_GROUP: Mapping[str, str] = {}


def _split(group: Group) -> dict[str, dict[str, str]]:
    """Group dotted keys by their first component: ``a.b.c`` -> ``{'a': {'b.c': v}}``."""
    nested: dict[str, dict[str, str]] = {}
    for key, value in group.items():
        head, dot, rest = key.partition(".")
        if dot:
            sub = nested.get(head)
            if sub is None:
                nested[head] = sub = {}
            sub[rest] = value
    return nested


#: A list index has at most this many digits (``int`` of more than 4,300 raises).
_INDEX_DIGITS = 10
_BEYOND = -1


def _index(text: str) -> int | None:
    """A canonical 1-based list index, ``_BEYOND`` for one too long to be an index of
    any list, else None (such keys are ignored)."""
    if text.isascii() and text.isdigit() and text[0] != "0":
        return int(text) if len(text) <= _INDEX_DIGITS else _BEYOND
    return None


def _elements(group: Group, prefix: str, high: int) -> dict[int, str | dict[str, str]] | None:
    """Collect ``{prefix}N`` (scalar) and ``{prefix}N.rest`` (compound) keys by index.

    None when there is an index past ``high`` or more than ``high`` elements: an element
    at position N means a list of at least N, too long to read.
    """
    found: dict[int, str | dict[str, str]] = {}
    skip = len(prefix)
    for key, value in group.items():
        if prefix and not key.startswith(prefix):
            continue
        number, dot, rest = key[skip:].partition(".")
        index = _index(number)
        if index is None:
            continue
        if index == _BEYOND or index > high:
            return None
        if dot:
            sub = found.get(index)
            if isinstance(sub, dict):
                sub[rest] = value
            else:
                found[index] = {rest: value}
        elif index not in found:
            found[index] = value
    return found


class InputCompiler:
    """Compiles input shapes of one service, sharing readers between operations."""

    def __init__(self) -> None:
        # Keyed by shape name and flattening: a member reference may flatten a list.
        self._compound: dict[tuple[str, bool], CompoundReader] = {}
        self._scalar: dict[str, ScalarReader] = {}

    def scalar(self, shape: Any) -> ScalarReader:
        reader = self._scalar.get(shape.name)
        if reader is None:
            reader = self._scalar[shape.name] = scalar_reader(shape)
        return reader

    def compound(self, shape: Any) -> CompoundReader:
        key = (shape.name, is_flattened(shape))
        reader = self._compound.get(key)
        if reader is not None:
            return reader
        # Recursive shapes: a forwarding reader stands in until the real one exists.
        cell: list[CompoundReader] = []

        def forward(group: Group, path: str, problems: Problems) -> Any:
            return cell[0](group, path, problems)

        self._compound[key] = forward
        if shape.type_name == "structure":
            reader = self._structure(shape)
        elif shape.type_name == "list":
            reader = self._list(shape)
        else:
            reader = self._map(shape)
        cell.append(reader)
        self._compound[key] = reader
        return reader

    def _structure(self, shape: Any) -> CompoundReader:
        required = set(shape.required_members)
        plans: list[tuple[str, str, str, str, bool, Any, bool, str | None]] = []
        for name, member in shape.members.items():
            key = wire_name(member, name)
            compound = member.type_name in _COMPOUND
            empty_marker = None
            if member.type_name == "list":
                # An empty list is sent as ``Name=`` (botocore) and a flattened list with
                # a member locationName replaces the last key component with that name.
                empty_marker = key
                if is_flattened(member) and "name" in member.member.serialization:
                    key = wire_name(member.member, key)
            reader = self.compound(member) if compound else self.scalar(member)
            path_name = lower_camel(name)
            plans.append(
                (
                    name,
                    key,
                    path_name,
                    "." + path_name,
                    compound,
                    reader,
                    name in required,
                    empty_marker,
                )
            )
        has_compound = any(plan[4] for plan in plans)

        def read(group: Group, path: str, problems: Problems) -> Any:
            nested = _split(group) if has_compound else _NO_GROUPS
            out: dict[str, Any] = {}
            for name, key, path_name, dot_name, compound, reader, required, marker in plans:
                if compound:
                    sub: Group | None = nested.get(key)
                    if sub is None and marker is not None and group.get(marker) == "":
                        sub = _EMPTY_GROUP
                    if sub is None:
                        if required:
                            problems.append(missing(path + dot_name if path else path_name))
                        continue
                    out[name] = reader(sub, path + dot_name if path else path_name, problems)
                else:
                    raw = group.get(key)
                    if raw is None:
                        if required:
                            problems.append(missing(path + dot_name if path else path_name))
                        continue
                    out[name] = reader(raw, path + dot_name if path else path_name, problems)
            return out

        return read

    def _list(self, shape: Any) -> CompoundReader:
        element = shape.member
        prefix = "" if is_flattened(shape) else wire_name(element, "member") + "."
        check = size_checker(shape)
        high = max_elements(shape)
        # Positions past the max are still read up to UNREAD_ELEMENTS, so that a list a
        # little too long is reported with its elements, as AWS does.
        readable = max(high, UNREAD_ELEMENTS)
        if element.type_name in _COMPOUND:
            read_compound = self.compound(element)

            def read_element(raw: str | dict[str, str], path: str, problems: Problems) -> Any:
                if isinstance(raw, str):
                    # ``Name.member.1=x`` for a structure element: no members given.
                    return read_compound(_EMPTY_GROUP, path, problems)
                return read_compound(raw, path, problems)

        else:
            read_scalar = self.scalar(element)

            def read_element(raw: str | dict[str, str], path: str, problems: Problems) -> Any:
                if isinstance(raw, dict):
                    # Only sub-keys (``Name.member.1.x``) were sent for a scalar element.
                    problems.append(missing(path))
                    return INVALID
                return read_scalar(raw, path, problems)

        def read(group: Group, path: str, problems: Problems) -> Any:
            found = _elements(group, prefix, readable) if group else {}
            if found is None:
                problems.append(too_many(path, high))
                return INVALID
            out = [
                read_element(found[index], f"{path}.{index}.member", problems)
                for index in sorted(found)
            ]
            check(out, path, problems)
            return out

        return read

    def _map(self, shape: Any) -> CompoundReader:
        prefix = "" if is_flattened(shape) else "entry."
        key_name = wire_name(shape.key, "key")
        value_name = wire_name(shape.value, "value")
        read_key = self.scalar(shape.key)
        value_compound = shape.value.type_name in _COMPOUND
        read_value: Any = self.compound(shape.value) if value_compound else self.scalar(shape.value)
        check = size_checker(shape)
        high = max_elements(shape)
        readable = max(high, UNREAD_ELEMENTS)

        def read(group: Group, path: str, problems: Problems) -> Any:
            out: dict[Any, Any] = {}
            found = _elements(group, prefix, readable)
            if found is None:
                problems.append(too_many(path, high))
                return INVALID
            for index, entry in sorted(found.items()):
                entry_path = f"{path}.entry.{index}"
                if isinstance(entry, str):
                    continue
                raw_key = entry.get(key_name)
                if raw_key is None:
                    problems.append(missing(f"{entry_path}.key"))
                    continue
                map_key = read_key(raw_key, f"{entry_path}.key", problems)
                if value_compound:
                    sub = _split(entry).get(value_name)
                    if sub is None:
                        problems.append(missing(f"{entry_path}.value"))
                        continue
                    out[map_key] = read_value(sub, f"{entry_path}.value", problems)
                else:
                    raw_value = entry.get(value_name)
                    if raw_value is None:
                        problems.append(missing(f"{entry_path}.value"))
                        continue
                    out[map_key] = read_value(raw_value, f"{entry_path}.value", problems)
            check(out, path, problems)
            return out

        return read
