"""The hub's Flask application factory.

``create_app(config)`` builds one :class:`hub.core.Hub` from the settings and
registers one blueprint per resource:

* :mod:`hub.replication.blueprint` — the CouchDB-compatible replication endpoint
  (``/`` and ``/{db}/…``), per device view;
* :mod:`hub.api` — the hub's own resources under ``/_hub/`` (health, key registration);
* every module named in :data:`EXTRA_BLUEPRINTS` that exists (the oversight dashboard
  of issue 8 plugs in here: ``hub/oversight/__init__.py`` exposing ``blueprint`` and
  optionally ``init_app(app)``).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response

from hub.core import Hub
from hub.errors import HubError
from hub.settings import Settings

#: Optional blueprints registered when their module exists (registration point, issue 8).
EXTRA_BLUEPRINTS = ("hub.oversight",)


def create_app(config: Mapping[str, Any] | None = None, *, hub: Hub | None = None) -> Flask:
    settings = hub.settings if hub is not None else Settings.load(config)
    app = Flask("hub")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.extensions["bangban_hub"] = hub or Hub(settings)

    from hub.api import blueprint as api
    from hub.replication.blueprint import blueprint as replication

    app.register_blueprint(api)
    for name in EXTRA_BLUEPRINTS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        if hasattr(module, "init_app"):
            module.init_app(app)
        elif hasattr(module, "blueprint"):
            app.register_blueprint(module.blueprint)
    app.register_blueprint(replication)  # last: its routes catch every database path

    @app.errorhandler(HubError)
    def _hub_error(exc: HubError) -> Response:
        return _json(exc.status, exc.as_json())

    @app.errorhandler(404)
    def _not_found(exc: Exception) -> Response:
        return _json(404, {"error": "not_found", "reason": "missing"})

    @app.errorhandler(405)
    def _method(exc: Exception) -> Response:
        return _json(405, {"error": "method_not_allowed", "reason": "method not allowed"})

    @app.errorhandler(413)
    def _too_large(exc: Exception) -> Response:
        return _json(413, {"error": "too_large", "reason": "the request entity is too large"})

    return app


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body, ensure_ascii=False) + "\n", status=status,
                    content_type="application/json")
