"""Choosing the staff member at the window (8.1.2; node.window): the page header's choice
and ``/api/staff`` for programs. The choice is kept with this browser's node session."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from node import window
from node.errors import InvalidInput, NodeError
from node.sessions import cookie_name
from node.views.common import node

bp = Blueprint("staff", __name__)


def _choose(value: Any) -> str:
    """Check ``value`` against the roster and keep it for this browser's session."""
    n = node()
    staff = window.check(n, value)
    if not n.sessions.put(request.cookies.get(cookie_name(request.environ)), window.SESSION_KEY,
                          staff):
        raise NodeError("会话已结束，请重新输入口令 / the session ended: enter the passphrase "
                        "again", error="no_session", status=401)
    window.ACTING.set(staff)
    return staff


def state() -> dict[str, Any]:
    """The header's choice: the members on duty, who is chosen, whether a step would be
    refused for want of a choice, and what is recorded without a roster."""
    n = node()
    members = window.roster(n)
    current = window.ACTING.get()
    return {"staff": current, "on_duty": [{k: m.get(k) for k in ("id", "name", "role")}
                                          for m in window.on_duty(n)],
            "roster_empty": not members, "required": bool(members) and not current,
            "recorded_as": n.acting_staff()}


@bp.post("/staff")
def choose() -> Response:
    from node.views.home import _safe_next

    try:
        staff = _choose(request.form.get("staff", ""))
    except InvalidInput as exc:
        flash(exc.reason, "error")
    else:
        flash(_("当前经办人：") + (window.staff_name(node(), staff, node().institution) or staff),
              "ok")
    return redirect(_safe_next(request.form.get("next")))


@bp.get("/api/staff")
def api_state() -> Response:
    return jsonify(state())


@bp.post("/api/staff")
def api_choose() -> Response:
    """``{"staff": ID}``: this session's steps are recorded under ID from now on."""
    data = request.get_json(silent=True)
    _choose(data.get("staff") if isinstance(data, dict) else None)
    return jsonify(state())
