"""Structured logs: one JSON object per line, with the request's trace id, nothing secret.

`configure` installs one handler on the root logger (uvicorn's loggers propagate to it), with
python-json-logger's formatter and two filters: `TraceIds` adds the trace id of the request
being served (a context variable the gateway sets), `Redact` masks what must never reach a
log even by mistake: bearer tokens and other JWTs, client secrets in a form body, and long
digit runs such as bank account and routing numbers. The redaction is a last line of defence;
the code never logs these on purpose.
"""

import logging
import re
import sys
from contextvars import ContextVar
from typing import Literal, TextIO

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["json", "text"]

current_trace_id: ContextVar[str | None] = ContextVar("apgraph_trace_id", default=None)

_JWT = re.compile(r"eyJ[\w-]{6,}\.[\w-]{6,}\.[\w-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',]+")
_SECRET = re.compile(r"(?i)(client_secret|secret|password)([=:]\s*)[^\s&\"',]+")
_DIGIT_RUN = re.compile(r"(?<![\w-])\d{8,19}(?![\w-])")  # account and routing numbers

TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"


def redact(text: str) -> str:
    text = _JWT.sub("[token]", text)
    text = _BEARER.sub(r"\1[token]", text)
    text = _SECRET.sub(r"\1\2[secret]", text)
    return _DIGIT_RUN.sub("[number]", text)


class Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = redact(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class TraceIds(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.trace_id = current_trace_id.get()
        return True


def configure(
    *, format: LogFormat = "json", level: int = logging.INFO, stream: TextIO | None = None
) -> logging.Handler:
    """Replaces the root logger's handlers with one that writes `format` to `stream`."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if format == "json":
        handler.setFormatter(
            JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level", "name": "logger"})
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(TraceIds())
    handler.addFilter(Redact())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request at INFO: one line per connector call drowns ours, and costs
    # CPU on the posting path. Set here so every process (each --workers one) gets it.
    logging.getLogger("httpx").setLevel(max(level, logging.WARNING))
    return handler
