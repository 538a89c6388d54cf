"""GET /healthz: the status of each component, as JSON (always HTTP 200)."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify

bp = Blueprint("health", __name__)


def _check(fn) -> dict:
    started = time.monotonic()
    try:
        detail = fn() or {}
        return {"status": "ok", "ms": round((time.monotonic() - started) * 1000, 1), **detail}
    except Exception as exc:
        return {"status": "down", "error": type(exc).__name__}


@bp.get("/healthz")
def healthz():
    services = current_app.extensions["kb.services"]
    s = services.settings
    components = {
        "redis": _check(lambda: {"mode": "in-process" if services.in_process_redis else "server",
                                 "ping": bool(services.redis.ping())}),
        "database": _check(lambda: (services.db.ping(), {"dialect": services.db.engine.dialect.name})[1]),
        "queue": _check(services.queue.stats),
        "line": {"status": "ok", "api": s.line_api_base_url, "dev_credentials": s.dev_line},
    }
    for name, probe in current_app.extensions.get("kb.health_probes", {}).items():
        components[name] = _check(probe)
    states = {c.get("status") for c in components.values()}
    overall = "down" if "down" in states else ("degraded" if "degraded" in states else "ok")
    return jsonify({"status": overall, "components": components})
