"""Reading rows into records: an odd field degrades alone, a row without identity is skipped.

Both are counted in :class:`bff.erp.anomalies.Anomalies` by field name, never by value.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bff.erp.anomalies import RECORD, Anomalies

M = TypeVar("M", bound=BaseModel)


def _required_keys(model: type[BaseModel]) -> frozenset[str]:
    # The input keys of the identity fields: by alias where there is one.
    return frozenset(
        key for name, info in model.model_fields.items() if info.is_required() for key in (name, info.alias) if key
    )


def _failed_keys(error: ValidationError) -> set[str]:
    return {str(item["loc"][0]) for item in error.errors(include_input=False, include_url=False) if item["loc"]}


def read_record(form_id: int, model: type[M], row: Any, anomalies: Anomalies) -> M | None:
    if not isinstance(row, dict):
        anomalies.record(form_id, RECORD)
        return None
    try:
        return model.model_validate(row)
    except ValidationError as error:
        failed = _failed_keys(error)
    if failed & _required_keys(model):
        anomalies.record(form_id, RECORD)
        return None
    for key in sorted(failed):
        anomalies.record(form_id, key)
    try:
        return model.model_validate({key: value for key, value in row.items() if key not in failed})
    except ValidationError:  # cannot happen with optional fields; skip rather than fail a page
        anomalies.record(form_id, RECORD)
        return None


def read_rows(form_id: int, model: type[M], rows: Iterable[Any], anomalies: Anomalies) -> list[M]:
    return [record for record in (read_record(form_id, model, row, anomalies) for row in rows) if record is not None]
