"""Structured JSON logs: one object per line, with the request id, secrets masked."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from bff.monitor.calllog import mask_and_truncate
from bff.monitor.context import current_request_id
from bff.monitor.metrics import current_trace_id

# color_message: uvicorn's copy of its message with ANSI colour codes, for terminals only.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "color_message"}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # a library's colours never reach a JSON line
MAX_TRACEBACK = 8000
TRACEBACK_HEAD = 2000  # the outermost frames: which request or task it was; the rest goes to the tail


def shorten_traceback(text: str, max_len: int = MAX_TRACEBACK) -> str:
    """A traceback cut in the middle: its head (where it started) and its tail (the innermost
    frames and the exception's type and message, printed last) are what a reader needs."""
    if len(text) <= max_len:
        return text
    head = min(TRACEBACK_HEAD, max_len // 4)
    marker = f"\n… {len(text) - max_len} characters of frames left out …\n"
    tail = max_len - head - len(marker)
    return text[:head] + marker + text[-tail:]


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask_and_truncate(_ANSI.sub("", record.getMessage()), max_len=4000),
        }
        request_id = current_request_id()
        if request_id:
            entry["requestId"] = request_id
        trace_id = current_trace_id()
        if trace_id:
            entry["traceId"] = trace_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            masked = mask_and_truncate(self.formatException(record.exc_info), max_len=10**9) or ""
            entry["error"] = shorten_traceback(masked)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
