"""``HubProcess.wait_idle`` says whether the workers went idle (ops.hubprocess).

It returned the hub's health either way, and the tests that waited read its ``ok``, which
says only that the hub answers: ``assert proc.wait_idle()["ok"]`` held whether or not the
workers had finished (flake13 noticed). Its ``idle`` is now what a caller reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ops.hubprocess import HubProcess


def _hub(monkeypatch: pytest.MonkeyPatch, answers: list[bool]) -> HubProcess:
    hub = HubProcess(Path("."))

    def health() -> dict[str, Any]:
        pending = answers.pop(0) if len(answers) > 1 else answers[0]
        return {"ok": True, "pending": pending}
    monkeypatch.setattr(hub, "health", health)
    monkeypatch.setattr("ops.hubprocess.time.sleep", lambda s: None)
    return hub


def test_workers_that_stay_busy_are_not_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    health = _hub(monkeypatch, [True]).wait_idle(timeout=0.05)
    assert health["ok"] and not health["idle"]


def test_workers_idle_twice_in_a_row_are_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _hub(monkeypatch, [True, True, False, True, False, False]).wait_idle(timeout=30)["idle"]
