"""Sync state (last sync, pending changes, progress, errors) and 'sync now'."""

from __future__ import annotations

from flask import Blueprint, flash, g, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from node.errors import SyncFailed, Wiped
from node.views.common import node

bp = Blueprint("sync", __name__, url_prefix="/sync")


@bp.get("/")
def index() -> str:
    n = node()
    return render_template("sync.html", state=n.syncer.state, enrollment=n.enrollment or {},
                           clock_limit=n.settings.clock_warn_seconds)


@bp.get("/status.json")
def status_json() -> Response:
    n = node()
    # the badge's poll also tells an open page that the keys were dropped (idle lock) or
    # its session ended (a lock in another tab): "locked" for this browser
    return jsonify({**n.syncer.state.as_json(), "locked": not g.get("session_live")})


@bp.post("/now")
def now() -> Response:
    n = node()
    if n.syncer.in_background:
        # On a bad link a round takes up to sync_timeout per request, and one already
        # running holds the next: the clerk's page hung 20 s and more. The background loop
        # runs the round now; the badge and this page tell how it went.
        n.syncer.wake()
        flash(_("已开始同步，结果见本页与右上角的同步状态。"), "ok")
        return redirect(url_for("sync.index"))
    try:
        n.syncer.sync_once()
        flash(_("同步完成。"), "ok")
    except Wiped:
        return redirect(url_for("home.unlock"))
    except SyncFailed as exc:
        flash(_("同步失败，稍后自动重试：") + exc.reason, "error")
    return redirect(url_for("sync.index"))


@bp.post("/twin-resolved")
def twin_resolved() -> Response:
    """The copied folder dealt with (docs/operations.md, "A node folder copied onto another
    laptop"): the warning every page showed, kept across restarts, is cleared."""
    node().syncer.twin_resolved()
    flash(_("已清除节点文件夹被复制的提示。"), "ok")
    return redirect(url_for("sync.index"))
