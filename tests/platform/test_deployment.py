"""docker-compose.yml and its nginx config, checked without Docker or nginx (neither runs here): PostgreSQL, a
migration before the app, two app replicas with a health check on /readyz behind a proxy that passes websockets
on, and the delivery worker on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import crossplane
import yaml

from app.core.settings import PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
NGINX = PROJECT_ROOT / "config" / "nginx" / "meldkamer.conf"


def _services() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text())["services"])


def _nginx(tmp_path: Path) -> list[dict[str, Any]]:
    """The proxy's config as nginx reads it: included in the http block of the image's nginx.conf."""
    main = tmp_path / "nginx.conf"
    main.write_text(f"events {{}}\nhttp {{\n    include {NGINX};\n}}\n")
    parsed = crossplane.parse(str(main), check_ctx=True, check_args=True)
    assert parsed["status"] == "ok", parsed["errors"]
    [included] = [entry for entry in parsed["config"] if entry["file"] == str(NGINX)]
    return list(included["parsed"])


def _find(block: list[dict[str, Any]], directive: str) -> list[dict[str, Any]]:
    return [entry for entry in block if entry["directive"] == directive]


def _settings(block: list[dict[str, Any]]) -> dict[str, list[str]]:
    return {" ".join([entry["directive"], *entry["args"][:-1]]): entry["args"] for entry in block}


def test_two_replicas_a_worker_and_a_migration_on_postgresql() -> None:
    services = _services()
    assert {"db", "migrate", "app1", "app2", "worker", "proxy"} <= set(services)
    for name in ("app1", "app2", "worker", "migrate"):
        env = services[name]["environment"]
        assert env["MELDKAMER_DATABASE_URL"].startswith("postgresql+asyncpg://") and "@db:5432/" in env[
            "MELDKAMER_DATABASE_URL"]
        assert env["MELDKAMER_ENVIRONMENT"] == "production"
        assert env["MELDKAMER_BROADCAST_WORKER_IN_APP"] == "false"  # alerts go out from the worker only
    assert services["worker"]["command"] == ["meldkamer", "worker"]
    assert services["migrate"]["command"] == ["meldkamer", "migrate"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for replica in ("app1", "app2"):
        service = services[replica]
        assert service["command"][:2] == ["meldkamer", "serve"] and "--forwarded-allow-ips" in service["command"]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "/readyz" in " ".join(service["healthcheck"]["test"])
        assert "ports" not in service  # reachable through the proxy only
        assert "appdata:/srv/meldkamer/var" in service["volumes"]  # photos shared between replicas


def test_the_proxy_waits_for_healthy_replicas_and_is_the_only_way_in() -> None:
    proxy = _services()["proxy"]
    assert proxy["depends_on"] == {"app1": {"condition": "service_healthy"},
                                   "app2": {"condition": "service_healthy"}}
    [mount] = proxy["volumes"]
    assert mount.split(":")[0] == "./config/nginx/meldkamer.conf"
    assert (PROJECT_ROOT / mount.split(":")[0]).is_file()


def test_nginx_balances_over_both_replicas_and_passes_websockets_on(tmp_path: Path) -> None:
    config = _nginx(tmp_path)
    [upstream] = _find(config, "upstream")
    assert sorted(entry["args"][0] for entry in _find(upstream["block"], "server")) == ["app1:8000", "app2:8000"]
    [upgrade_map] = _find(config, "map")
    assert upgrade_map["args"] == ["$http_upgrade", "$connection_upgrade"]
    [server] = _find(config, "server")
    server_settings = _settings(server["block"])
    assert server_settings["proxy_http_version"] == ["1.1"]
    assert server_settings["proxy_set_header Upgrade"] == ["Upgrade", "$http_upgrade"]
    assert server_settings["proxy_set_header Connection"] == ["Connection", "$connection_upgrade"]
    locations = {entry["args"][0]: entry["block"] for entry in _find(server["block"], "location")}
    for path in ("/", "/ws/"):
        assert _find(locations[path], "proxy_pass")[0]["args"] == ["http://meldkamer"]
        assert not _find(locations[path], "proxy_set_header")  # else the server's headers are not inherited
    assert _settings(locations["/ws/"])["proxy_read_timeout"] == ["1h"]
