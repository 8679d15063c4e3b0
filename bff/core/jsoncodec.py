"""JSON on the hot path (orjson): the ERP's answers and our requests to it, GraphQL answers,
cache keys. About a fifth of the CPU of the standard library's encoder and decoder (issue 11).

orjson writes UTF-8 as is, writes NaN and infinities as null (the standard library wrote the
invalid ``NaN``), and refuses what JSON cannot carry (non-string keys, integers beyond 64 bits).
It reads integers beyond 64 bits as floats and refuses ``NaN``, infinities and lone surrogates:
callers that must tolerate anything (the ERP's answers) fall back to the standard library.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return orjson.dumps(value)


def loads(data: bytes | str) -> Any:
    """Strict UTF-8 JSON; raises ``orjson.JSONDecodeError`` (a ValueError)."""
    return orjson.loads(data)


def loads_tolerant(data: bytes) -> Any:
    """Whatever the standard library also reads (UTF-16/32 bodies, ``NaN``, huge integers)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def canonical(value: Any) -> str:
    """One text per value, keys sorted: a key for maps and caches."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
