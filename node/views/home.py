"""Home: the institution's day at a glance; unlock, lock, language and large text."""

from __future__ import annotations

from typing import TypeVar

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from node.errors import BadPassphrase, NodeError
from node.sessions import cookie_name, cookie_options
from node.views.common import node, soon, today

bp = Blueprint("home", __name__)
R = TypeVar("R", bound=Response)  # Flask's JSON responses too


def _safe_next(value: str | None) -> str:
    """A ``next=`` that stays on this app: a path, never another host. Browsers drop tabs
    and newlines from a URL and read a backslash as a slash (WHATWG URL), and Werkzeug
    dropped the tab itself: ``next=/%09/evil.test`` passed the "//" test and was sent as
    ``Location: //evil.test`` after the unlock (a page there asking for the passphrase
    again would have had it)."""
    if (value and value.startswith("/") and not value.startswith("//")
            and not any(c < " " or c in "\\\x7f" for c in value)):
        return value
    return url_for("home.index")


@bp.get("/")
def index() -> str:
    n = node()
    t = today().isoformat()
    # The cases this institution holds now: one handed up (or down) is the new holder's,
    # counted here as "handed elsewhere" (4.3); each tile counts the list it opens.
    counts = n.index.counts(today=t, soon=soon(), holder=n.institution)
    lists = {view: n.index.search(view=view, today=t, soon=soon(), limit=8,
                                  holder=n.institution).rows
             for view in ("today", "overdue", "deadline_passed", "due_soon", "needs_review")}
    from node.notices import received

    return render_template("home.html", counts=counts, lists=lists, sync=n.syncer.state,
                           notices=received(n))


@bp.get("/favicon.ico")
def favicon() -> Response:
    return redirect(url_for("static", filename="favicon.svg"))


@bp.route("/unlock", methods=["GET", "POST"])
def unlock() -> str | Response:
    n = node()
    error, status = None, 200
    nxt = request.values.get("next")
    if request.method == "POST":
        try:
            token = n.open_session(request.form.get("passphrase", ""))
        except BadPassphrase:
            error, status = _("口令不正确，请重新输入。"), 401
        except NodeError as exc:  # e.g. 429 after too many wrong passphrases
            error, status = exc.reason, exc.status
        else:
            n.syncer.start_background()
            return with_session(redirect(_safe_next(nxt)), token)
    return render_template("unlock.html", error=error, next=nxt,  # type: ignore[return-value]
                           unsaved=bool(request.values.get("unsaved"))), status


@bp.post("/lock")
def lock() -> Response:
    node().lock()
    flash(_("已锁定。"), "ok")
    return without_session(redirect(url_for("home.unlock")))


def with_session(response: R, token: str) -> R:
    """``response`` carrying this browser's new session cookie (node.sessions)."""
    response.set_cookie(cookie_name(request.environ), token, **cookie_options())
    return response


def without_session(response: R) -> R:
    """``response`` telling the browser to forget its session cookie (the lock ended it)."""
    response.delete_cookie(cookie_name(request.environ), **cookie_options())
    return response


@bp.post("/lang")
def lang() -> Response:
    code = request.form.get("lang", "zh_CN")
    session["lang"] = code if code in ("zh_CN", "en") else "zh_CN"
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/large-text")
def large_text() -> Response:
    session["large"] = not session.get("large")
    return redirect(_safe_next(request.form.get("next")))
