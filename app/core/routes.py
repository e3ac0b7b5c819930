"""The app's routes with their full paths, also those inside included routers (which FastAPI wraps)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from starlette.routing import compile_path


def flat_routes(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(full path, route) for every route that has methods, in matching order."""
    for route in routes:
        if getattr(route, "methods", None) and hasattr(route, "path"):
            yield prefix + route.path, route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from flat_routes(inner.routes, prefix + (getattr(context, "prefix", "") or ""))


@lru_cache(maxsize=8)
def _method_table(app: Any) -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for path, route in flat_routes(app.routes):
        table.setdefault(path, set()).update(route.methods)
    return {path: frozenset(methods) for path, methods in table.items()}


@lru_cache(maxsize=8)
def _patterns(app: Any) -> tuple[tuple[re.Pattern[str], frozenset[str]], ...]:
    return tuple((compile_path(path)[0], methods) for path, methods in _method_table(app).items() if "{" in path)


def allowed_methods(app: Any, path: str) -> list[str]:
    """Every method some route serves at this path: the Allow header of a 405. A literal path
    (`/broadcasts/preview`) is its own resource, even where a template (`/broadcasts/{id}`) would match it."""
    literal = _method_table(app).get(path)
    if literal is not None:
        return sorted(literal)
    methods: set[str] = set()
    for pattern, served in _patterns(app):
        if pattern.match(path):
            methods |= served
    return sorted(methods)
