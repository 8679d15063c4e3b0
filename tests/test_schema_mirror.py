"""Every strawberry type mirrors the domain object returned into it: each plain field exists on
the domain side with the same type, and each enum has the domain enum's values.

Strawberry reads attributes, so a field renamed or retyped on one side only would answer null
or fail at run time; this test fails first.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from enum import Enum
from typing import Any

import pytest
from strawberry.types.base import StrawberryList, StrawberryOptional, has_object_definition
from strawberry.types.enum import StrawberryEnumDefinition

import schema.messages as s_messages
import schema.monitoring as s_monitoring
import schema.orders as s_orders
import schema.users as s_users
from bff.core import domain
from bff.monitor import performance, probe, status
from bff.notify.templates import USER_KINDS
from resolvers import orders as r_orders

MIRRORS: list[tuple[type, type]] = [
    (s_orders.Progress, domain.Progress),
    (s_orders.Attachment, domain.Attachment),
    (s_orders.ShipmentLine, domain.ShipmentLine),
    (s_orders.Shipment, domain.Shipment),
    (s_orders.Tracking, domain.Tracking),
    (s_orders.TrackEvent, domain.TrackEvent),
    (s_orders.Material, domain.Material),
    (s_orders.TimelineStep, domain.TimelineStep),
    (s_orders.Order, domain.Order),
    (s_orders.OrderPage, r_orders.OrderPage),
    (s_users.Company, domain.Company),
    (s_users.Binding, domain.Binding),
    (s_monitoring.ErpStatusDetail, status.ErpStatus),
    (s_monitoring.SystemStatus, status.SystemStatusView),
    (s_monitoring.OperationPerformance, performance.OperationFigures),
    (s_monitoring.Performance, performance.PerformanceReport),
]
ENUMS: list[tuple[Any, type[Enum]]] = [
    (s_orders.OrderStatus, domain.OrderStatus),
    (s_orders.ProgressStage, domain.ProgressStage),
    (s_orders.DeliveryStatus, domain.DeliveryStatus),
    (s_orders.ShipmentState, domain.ShipmentState),
    (s_orders.TrackingState, domain.TrackingState),
    (s_orders.ShippingFilter, domain.ShippingFilter),
    (s_users.Role, domain.Role),
    (s_users.Permission, domain.Permission),
    (s_monitoring.ErpState, probe.ErpState),
]


def _domain_type(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _domain_type(args[0]) + "?"
    if origin in (list, tuple):
        return "[" + _domain_type(typing.get_args(hint)[0]) + "]"
    if isinstance(hint, type) and issubclass(hint, Enum):
        return "enum:" + hint.__name__
    if hint in (str, int, float, bool, datetime):
        return hint.__name__
    name = getattr(hint, "__name__", str(hint))
    return SCHEMA_NAME.get(name, name)


def _schema_type(field_type: Any) -> str:
    if isinstance(field_type, StrawberryOptional):
        return _schema_type(field_type.of_type) + "?"
    if isinstance(field_type, StrawberryList):
        return "[" + _schema_type(field_type.of_type) + "]"
    if isinstance(field_type, StrawberryEnumDefinition):
        return "enum:" + field_type.wrapped_cls.__name__
    if has_object_definition(field_type):
        return field_type.__strawberry_definition__.name
    if getattr(field_type, "__supertype__", None) is str:  # strawberry.ID
        return "str"
    return getattr(field_type, "__name__", str(field_type))


# A nested domain object shows under its mirror's name (ErpStatus is the schema's ErpStatusDetail).
SCHEMA_NAME = {d.__name__: s.__strawberry_definition__.name for s, d in MIRRORS}  # type: ignore[attr-defined]


def _domain_fields(cls: type) -> dict[str, str]:
    hints = typing.get_type_hints(cls)
    found = {f.name: _domain_type(hints[f.name]) for f in dataclasses.fields(cls)}
    for name, member in vars(cls).items():
        if isinstance(member, property) and member.fget is not None:
            found[name] = _domain_type(typing.get_type_hints(member.fget)["return"])
    return found


@pytest.mark.parametrize("strawberry_type, domain_type", MIRRORS, ids=lambda t: t.__name__)
def test_strawberry_type_mirrors_its_domain_object(strawberry_type: type, domain_type: type) -> None:
    definition = strawberry_type.__strawberry_definition__  # type: ignore[attr-defined]
    mirrored = _domain_fields(domain_type)
    plain = [f for f in definition.fields if f.base_resolver is None]
    assert plain, strawberry_type
    mismatches = {}
    for field in plain:
        want = _schema_type(field.type)
        got = mirrored.get(field.python_name)
        # the domain may hold a tuple where the schema shows a list, or a domain enum where the
        # schema names its own enum of the same values (checked below)
        if got is None or (got.replace("enum:", "") != want.replace("enum:", "")):
            mismatches[field.python_name] = (want, got)
    assert not mismatches, f"{strawberry_type.__name__} vs {domain_type.__name__}: {mismatches}"


@pytest.mark.parametrize("strawberry_enum, domain_enum", ENUMS, ids=lambda t: getattr(t, "__name__", "annotated"))
def test_enums_are_the_domain_enums(strawberry_enum: Any, domain_enum: type[Enum]) -> None:
    """Exposed as they are (``Annotated[domain enum, strawberry.enum(...)]``), never copied."""
    assert typing.get_origin(strawberry_enum) is typing.Annotated
    assert typing.get_args(strawberry_enum)[0] is domain_enum


def test_notification_kinds_are_event_kinds() -> None:
    """The one enum that is a deliberate subset: the kinds a purchaser may switch."""
    assert {m.value for m in s_messages.NotificationKind} == {k.value for k in USER_KINDS}
