"""The list-query rules of getBusinessPageList / getDatasource: filters, keyword, order, sums."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bff.sim.erp.data import Record

Test = Callable[[Record], bool]


def text(value: Any) -> str:
    """Values compare as strings (``"36"`` matches 36), booleans as JSON spells them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def any_of(wanted: Any) -> set[str]:
    """A value or a list of values ("any of"), as compared texts."""
    return {text(v) for v in (wanted if isinstance(wanted, list) else [wanted])}


def field_in(key: str, allowed: set[str]) -> Test:
    return lambda record: text(record.get(key)) in allowed


def filter_tests(filters: Mapping[str, Any]) -> tuple[list[Test], str]:
    """One test per filter (``null`` is ignored, ``[]`` matches nothing) and the fulltext keyword."""
    tests: list[Test] = []
    keyword = ""
    for key, wanted in filters.items():
        if key == "systemFulltext":
            keyword = text(wanted).strip().lower()
        elif wanted is not None:
            tests.append(field_in(key, any_of(wanted)))
    return tests, keyword


def search(records: Iterable[Record], tests: list[Test], keyword: str, fields: tuple[str, ...]) -> list[Record]:
    return [
        r for r in records
        if all(t(r) for t in tests) and (not keyword or any(keyword in text(r.get(f)).lower() for f in fields))
    ]


def _sort_key(value: Any) -> tuple[int, float, str]:
    """Empty first, then numbers (numeric text too), then text."""
    if value is None or value == "":
        return (0, 0.0, "")
    if isinstance(value, bool | int | float):
        return (1, float(value), "")
    try:
        return (1, float(str(value)), "")
    except ValueError:
        return (2, 0.0, str(value))


def order(records: list[Record], orderby: str) -> None:
    """Sort in place by ``"a desc, b asc"`` (the first key wins)."""
    for part in reversed(orderby.split(",")):
        words = part.split()
        if words:
            desc = len(words) > 1 and words[1].lower() == "desc"
            name = words[0]
            records.sort(key=lambda record: _sort_key(record.get(name)), reverse=desc)


def sums(records: list[Record], summed: tuple[str, ...]) -> dict[str, float]:
    return {f: round(sum(r.get(f) or 0 for r in records), 2) for f in summed if records and f in records[0]}
