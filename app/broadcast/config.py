"""config/broadcast.yaml: alert templates per kind, WhatsApp templates, forwarded replies and feedback texts.

Reloaded when the file changes, so wording can be adjusted without a restart."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from app.core.settings import config_dir

KINDS = ("heterdaad", "signalement", "vermissing", "waarschuwing", "informatie", "einde")
FOLLOW_UPS = ("ter_plaatse", "surveillance", "doorgezet_gemeente", "actie_wijkagent", "interne_informatiedeling",
              "geen_opvolging")
RESULTS = ("aanhouding", "persoon_gevonden", "geen_verdachte_situatie", "onbekend")


class BroadcastConfigError(ValueError):
    """config/broadcast.yaml is missing a section or has a wrong shape."""


@dataclass(frozen=True)
class KindConfig:
    label: str
    template: str


@dataclass(frozen=True)
class WhatsAppTemplate:
    name: str
    language: str


@dataclass(frozen=True)
class FeedbackText:
    notify: bool
    text: str


@dataclass(frozen=True)
class FeedbackConfig:
    message: str
    combine_seconds: float
    follow_up: Mapping[str, FeedbackText]
    result: Mapping[str, FeedbackText]
    note: FeedbackText


@dataclass(frozen=True)
class BroadcastConfig:
    kinds: Mapping[str, KindConfig]
    wijkagent_kinds: frozenset[str]
    window_hours: float
    templates: Mapping[str, WhatsAppTemplate]  # purpose (alert | feedback) -> template
    forwarded_replies: frozenset[str]
    feedback: FeedbackConfig


def _section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise BroadcastConfigError(f"broadcast.yaml: '{key}' must be a mapping")
    return value


def _feedback_texts(data: Mapping[str, Any], key: str, names: tuple[str, ...]) -> dict[str, FeedbackText]:
    section = _section(data, key)
    missing = [name for name in names if name not in section]
    if missing:
        raise BroadcastConfigError(f"broadcast.yaml: feedback.{key} lacks {', '.join(missing)}")
    return {name: FeedbackText(bool(section[name]["notify"]), str(section[name]["text"])) for name in names}


def parse_config(data: Mapping[str, Any]) -> BroadcastConfig:
    kinds = _section(data, "kinds")
    missing = [kind for kind in KINDS if kind not in kinds]
    if missing:
        raise BroadcastConfigError(f"broadcast.yaml: kinds lacks {', '.join(missing)}")
    whatsapp = _section(data, "whatsapp")
    feedback = _section(data, "feedback")
    note = _section(feedback, "note")
    return BroadcastConfig(
        kinds={kind: KindConfig(str(kinds[kind]["label"]), str(kinds[kind]["template"])) for kind in KINDS},
        wijkagent_kinds=frozenset(data.get("wijkagent_kinds") or ()),
        window_hours=float(whatsapp.get("window_hours", 24)),
        templates={purpose: WhatsAppTemplate(str(t["name"]), str(t["language"]))
                   for purpose, t in _section(whatsapp, "templates").items()},
        forwarded_replies=frozenset(str(reply).casefold() for reply in data.get("forwarded_replies") or ()),
        feedback=FeedbackConfig(
            message=str(feedback["message"]),
            combine_seconds=float(feedback.get("combine_seconds", 60)),
            follow_up=_feedback_texts(feedback, "follow_up", FOLLOW_UPS),
            result=_feedback_texts(feedback, "result", RESULTS),
            note=FeedbackText(bool(note["notify"]), str(note["text"])),
        ),
    )


class _Cache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, int] | None = None
        self._config: BroadcastConfig | None = None

    def get(self, path: Path) -> BroadcastConfig:
        key = (str(path), path.stat().st_mtime_ns)
        with self._lock:
            if self._config is None or key != self._key:
                self._config = parse_config(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
                self._key = key
            return self._config


_cache = _Cache()


def broadcast_config() -> BroadcastConfig:
    return _cache.get(config_dir() / "broadcast.yaml")
