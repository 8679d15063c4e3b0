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
            entry["error"] = mask_and_truncate(self.formatException(record.exc_info), max_len=8000)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
