"""Validation of user input, shared by every resolver: one clear BAD_USER_INPUT per problem."""

from __future__ import annotations

import re

from bff.core.errors import BffError, ErrorCode


def bad_input(message: str, field: str) -> BffError:
    return BffError(ErrorCode.BAD_USER_INPUT, message, field=field)


def text(value: str | None, field: str, *, max_len: int, required: bool = False, label: str = "") -> str | None:
    if value is None or not value.strip():
        if required:
            raise bad_input(f"请填写{label or field}", field)
        return None
    value = value.strip()
    if len(value) > max_len:
        raise bad_input(f"{label or field}不能超过 {max_len} 个字符", field)
    if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", value):
        raise bad_input(f"{label or field}包含无效字符", field)
    return value


def https_url(value: str | None, field: str, *, label: str) -> str | None:
    value = text(value, field, max_len=500, label=label)
    if value is not None and not re.match(r"^https://[^\s]+$", value):
        raise bad_input(f"{label}必须是 https 地址", field)
    return value
