"""Whatever the ERP holds, every rendered value satisfies its keyword's type rule."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bff.core.config import Settings
from bff.notify.render import order_page, render
from bff.notify.templates import EventKind, Templates
from bff.services import template_ids
from bff.wechat.value_rules import violation

TEMPLATES = Templates(template_ids(Settings()))
FACTS = ("order_code", "summary", "product", "status", "remark", "quantity", "logistics_company",
         "tracking_number", "content", "level", "advice", "time")
ERP_TEXT = st.one_of(st.none(), st.text(max_size=80), st.from_regex(r"SO-\d{4}-\d{1,40}", fullmatch=True),
                     st.floats(allow_nan=True).map(str), st.integers().map(str))


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from([k for k in EventKind if k is not EventKind.PROGRESS]),
       facts=st.fixed_dictionaries(dict.fromkeys(FACTS, ERP_TEXT)),
       now=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)))
def test_every_rendered_value_satisfies_its_rule(kind: EventKind, facts: dict[str, object], now: datetime) -> None:
    spec = TEMPLATES.for_kind(kind)
    assert spec is not None
    data = render(spec, facts, now)
    assert set(data) == set(spec.fields)
    for key, key_kind in spec.key_types().items():
        assert violation(key_kind, data[key]) is None, (key, data[key])


def test_long_values_are_shortened_not_dropped() -> None:
    spec = TEMPLATES.for_kind(EventKind.ORDER_SHIPPED)
    assert spec is not None
    data = render(spec, {"order_code": "SO-1", "summary": "高精度数控车床主轴轴承组件" * 3,
                         "tracking_number": "SF 1234 5678 9012"}, datetime(2026, 1, 1, tzinfo=UTC))
    assert data["thing2"].endswith("…") and len(data["thing2"]) == 20
    assert data["character_string4"] == "SF123456789012"
    assert data["time5"] == "2026年1月1日 08:00"  # Beijing time
    assert order_page("42", "m1") == "pages/order/order?id=42&msg=m1"
