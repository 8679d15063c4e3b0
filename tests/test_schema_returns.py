"""Every resolver that answers a strawberry object type says, in its Python types, which domain
object it really returns (``graphql_type=`` names the strawberry type, the return annotation
the domain class), and every field resolver names the domain object it is handed
(``strawberry.Parent[...]``). This test reads those annotations from the schema itself and
checks each pair they reveal: every plain field of the strawberry type is an attribute of the
domain class with the same type. So mypy checks the resolvers, and this checks the one seam
mypy cannot see (strawberry reading attributes of a domain object by name).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from enum import Enum
from typing import Any

from strawberry.parent import StrawberryParent
from strawberry.types.base import StrawberryList, StrawberryOptional, get_object_definition, has_object_definition
from strawberry.types.enum import StrawberryEnumDefinition
from strawberry.types.field import StrawberryField

import schema.messages
import schema.monitoring
import schema.orders
import schema.users

MODULES = (schema.orders, schema.users, schema.messages, schema.monitoring)


def strawberry_types() -> list[type]:
    return [v for m in MODULES for v in vars(m).values() if isinstance(v, type) and has_object_definition(v)]


def _unwrap(hint: Any) -> Any:
    """The class inside list[...] / X | None."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _unwrap(next(a for a in typing.get_args(hint) if a is not type(None)))
    if origin in (list, tuple):
        return _unwrap(typing.get_args(hint)[0])
    return hint


def _unwrap_schema(field_type: Any) -> Any:
    while isinstance(field_type, (StrawberryOptional, StrawberryList)):
        field_type = field_type.of_type
    return field_type


def _hints(field: StrawberryField) -> dict[str, Any]:
    assert field.base_resolver is not None
    return typing.get_type_hints(field.base_resolver.wrapped_func, include_extras=True)


def returned_pairs() -> set[tuple[type, type]]:
    """(strawberry type, domain class) for every resolver answering an object type with a
    domain object, and for every field resolver's ``Parent``."""
    pairs: set[tuple[type, type]] = set()
    for owner in strawberry_types():
        for field in get_object_definition(owner, strict=True).fields:
            if field.base_resolver is None:
                continue
            hints = _hints(field)
            target = _unwrap_schema(field.type)
            returned = _unwrap(hints.get("return"))
            if has_object_definition(target) and isinstance(returned, type) and not has_object_definition(returned):
                pairs.add((target, returned))
            for name, hint in hints.items():
                if name != "return" and typing.get_origin(hint) is typing.Annotated and any(
                    isinstance(extra, StrawberryParent) for extra in typing.get_args(hint)[1:]
                ):
                    pairs.add((owner, typing.get_args(hint)[0]))
    return pairs


def _domain_kind(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _domain_kind(next(a for a in typing.get_args(hint) if a is not type(None))) + "?"
    if origin in (list, tuple):
        return "[" + _domain_kind(typing.get_args(hint)[0]) + "]"
    if isinstance(hint, type) and issubclass(hint, Enum):
        return "enum"
    if hint in (str, int, float, bool, datetime):
        return hint.__name__
    return "object" if dataclasses.is_dataclass(hint) else str(hint)


def _schema_kind(field_type: Any) -> str:
    if isinstance(field_type, StrawberryOptional):
        return _schema_kind(field_type.of_type) + "?"
    if isinstance(field_type, StrawberryList):
        return "[" + _schema_kind(field_type.of_type) + "]"
    if isinstance(field_type, StrawberryEnumDefinition):
        return "enum"
    if has_object_definition(field_type):
        return "object"
    if getattr(field_type, "__supertype__", None) is str:  # strawberry.ID
        return "str"
    return getattr(field_type, "__name__", str(field_type))


def _attributes(cls: type) -> dict[str, Any]:
    """A domain class's fields and properties with their types."""
    hints = typing.get_type_hints(cls)
    found = {f.name: hints[f.name] for f in dataclasses.fields(cls)}
    for name, member in vars(cls).items():
        if isinstance(member, property) and member.fget is not None:
            found[name] = typing.get_type_hints(member.fget)["return"]
    return found


def test_resolvers_name_the_domain_objects_they_return() -> None:
    pairs = returned_pairs()
    found = {(s.__name__, d.__name__) for s, d in pairs}
    # the seams this test exists for: query answers, payloads and parents
    assert {("Order", "Order"), ("OrderPage", "OrderPage"), ("User", "Viewer"), ("LoginPayload", "LoginResult"),
            ("BindPayload", "Binding"), ("SessionInfo", "Viewer"), ("MessagePage", "MessagePage"),
            ("SendTemplateResult", "SendResult"), ("Performance", "PerformanceReport")} <= found, found
    assert all(dataclasses.is_dataclass(d) for _, d in pairs), pairs


def test_every_plain_field_is_an_attribute_of_the_domain_object_returned_into_it() -> None:
    todo, seen = sorted(returned_pairs(), key=lambda p: (p[0].__name__, p[1].__name__)), set()
    mismatches: dict[str, dict[str, tuple[str, str | None]]] = {}
    while todo:  # nested objects (Order.progress, SystemStatus.detail) are pairs too
        strawberry_type, domain_class = pair = todo.pop()
        if pair in seen:
            continue
        seen.add(pair)
        attributes = _attributes(domain_class)
        for field in get_object_definition(strawberry_type, strict=True).fields:
            if field.base_resolver is not None:
                continue
            hint = attributes.get(field.python_name)
            want, got = _schema_kind(field.type), None if hint is None else _domain_kind(hint)
            if want != got:
                mismatches.setdefault(f"{strawberry_type.__name__} <- {domain_class.__name__}", {})[field.python_name] = (want, got)
            elif "object" in want:
                todo.append((_unwrap_schema(field.type), _unwrap(hint)))
    assert len(seen) >= 20, seen  # the walk reached the nested types
    assert not mismatches, mismatches
