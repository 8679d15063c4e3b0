"""Record validation that logs what was wrong, never the values (they may be personal data)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bff.errors import ErpDataInvalid

logger = logging.getLogger("bff.erp")

M = TypeVar("M", bound=BaseModel)


def validate_rows(form_id: int, model: type[M], rows: Iterable[dict[str, Any]]) -> list[M]:
    result = []
    for index, row in enumerate(rows):
        try:
            result.append(model.model_validate(row))
        except ValidationError as error:
            problems = [
                (".".join(str(part) for part in item["loc"]), item["type"])
                for item in error.errors(include_input=False, include_url=False, include_context=False)
            ]
            logger.warning(
                "erp record invalid form=%s model=%s row=%d problems=%s", form_id, model.__name__, index, problems
            )
            raise ErpDataInvalid(f"form {form_id}: " + ", ".join(f"{field} ({kind})" for field, kind in problems)) from None
    return result
