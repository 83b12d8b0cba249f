"""The request context a policy is evaluated against: action, resource and condition keys.

Built once per request and immutable afterwards. Condition-key names are case-insensitive
(`aws:CurrentTime` is `AWS:currenttime`), values are kept as given. A value given as a
sequence makes the key multivalued (e.g. `aws:TagKeys`), even with one element; such keys
cannot be used as policy variables.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence


class RequestContext:
    """Immutable request context; see the module docstring."""

    __slots__ = ("_multi", "_single", "_values", "action", "action_lower", "resource", "service")

    action: str
    action_lower: str
    resource: str
    service: str  # lower-cased service prefix of the action
    _values: Mapping[str, tuple[str, ...]]
    _single: Mapping[str, str]
    _multi: frozenset[str]

    def __init__(self, action: str, resource: str, keys: Mapping[str, str | Sequence[str]]) -> None:
        values: dict[str, tuple[str, ...]] = {}
        single: dict[str, str] = {}
        multi: set[str] = set()
        for name, value in keys.items():
            lower = name.lower()
            if isinstance(value, str):
                values[lower] = (value,)
                single[lower] = value
                multi.discard(lower)
            else:
                values[lower] = tuple(str(v) for v in value)
                single.pop(lower, None)
                multi.add(lower)
        object.__setattr__(self, "action", action)
        object.__setattr__(self, "action_lower", action.lower())
        object.__setattr__(self, "resource", resource)
        object.__setattr__(self, "service", action.lower().partition(":")[0])
        object.__setattr__(self, "_values", values)  # private; never handed out
        object.__setattr__(self, "_single", single)
        object.__setattr__(self, "_multi", frozenset(multi))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("RequestContext is immutable")

    def values(self, key_lower: str) -> tuple[str, ...] | None:
        """All values of a key (lower-cased name), or None when the key is absent."""
        return self._values.get(key_lower)

    def variable(self, key_lower: str) -> str | None:
        """The value a policy variable takes: single-valued keys only."""
        return self._single.get(key_lower)

    def has(self, key: str) -> bool:
        return key.lower() in self._values

    def keys(self) -> Iterator[str]:
        return iter(self._values)

    def __repr__(self) -> str:
        return f"RequestContext({self.action!r}, {self.resource!r}, {dict(self._values)!r})"
