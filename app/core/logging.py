"""JSON log lines, one object per line, with the request id where there is one. Phone numbers are redacted
from every line before it is written, and database errors carry no statement parameters (report texts,
numbers: see `hide_parameters` in app.core.database), so the logs hold nothing the retention must purge."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
# E.164 (+31612345678), international (0031...), and Dutch national writing (0612345678, 06-12345678).
_PHONE = re.compile(r"(?<![\w+])(?:\+\d(?:[ -]?\d){7,14}|00\d(?:[ -]?\d){7,13}|0\d(?:[ -]?\d){8})(?!\w)")
REDACTED_PHONE = "[telefoonnummer]"


def redact(text: str) -> str:
    return _PHONE.sub(REDACTED_PHONE, text)


class RedactPersonalData(logging.Filter):
    """Rewrites the record's message, its string extras and its exception text with phone numbers redacted."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__()
        self.formatter = formatter

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, redact(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_text:
            payload["exception"] = record.exc_text
        elif record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO", as_json: bool = True) -> None:
    handler = logging.StreamHandler()
    formatter = JsonFormatter() if as_json else logging.Formatter()
    handler.setFormatter(formatter)
    handler.addFilter(RedactPersonalData(formatter))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).disabled = True
