"""Supervisors' sessions on the oversight pages: login, logout, the CSRF token of every
form, and :func:`login_required` (split from :mod:`hub.oversight.views`, which registers
these views on its blueprint).

A form sent after its session ended (12 hours, a logout or a password set again in
another tab) is not saved: the login page says so, so the supervisor types it again
instead of believing a complaint recorded (README "a form sent meanwhile was not saved").
"""

from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Callable
from typing import Any

from flask import current_app, g, redirect, render_template, request, session, url_for

from hub.errors import BadInput
from hub.oversight import supervisors as sup

#: The login page's notice when the request that led there was a form (``?lost=1``).
FORM_LOST = ("登录已失效（超过 12 小时、已退出或密码已重设），刚才提交的内容没有保存：请登录后重新填写并提交 "
             "/ your login had ended (12 hours, a logout or a new password): what you sent "
             "was not saved; log in and send it again")


def _ov() -> Any:
    from hub.oversight import oversight_for

    return oversight_for(current_app)


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return str(token)


#: A form older than the session it is sent in (a logout or a login in another tab since
#: it was opened). Not "reload the page": the page that says it is the answer to a POST,
#: and reloading it sent the same stale form again, the same refusal for ever.
STALE = ("csrf: the form is older than your login (a logout or a login since it was opened): "
         "go back, reload that page and send it again / 表单已失效（打开后有过退出或登录）："
         "请返回上一页，刷新后重新提交")
#: The same where the page sent comes back with the refusal, what was typed kept in it.
STALE_KEPT = ("csrf: the form was older than your login (a logout or a login since it was "
              "opened); what you typed is below: check it and send it again / "
              "表单已失效（打开后有过退出或登录），填写的内容已保留在下方，请核对后再次提交")


def check_csrf(reason: str = STALE) -> None:
    if not secrets.compare_digest(request.form.get("csrf", ""), session.get("csrf", "") or "-"):
        # a stale tab (logged out, or the form older than the session) met Werkzeug's
        # English "Bad Request"; say what happened and what to do
        raise BadInput(reason)


#: Pages any passer-by may read, cacheable: the public disclosure pages (8.1.2) and static
#: files.
CACHEABLE = frozenset({"oversight.public", "oversight.static"})


def no_store(response: Any) -> Any:
    """A supervisor's pages (staff rated one by one for their personal assessment, 11.2.2;
    complaints; case numbers of a whole subtree) and exports must not stay in the browser's
    disk cache of an office computer: after the logout, Back or the cache folder showed
    them to the next person at the desk (7.2.2.2)."""
    if request.endpoint not in CACHEABLE:
        response.headers.setdefault("Cache-Control", "no-store")
    # A page's address names a case (/oversight/case?no=…) or a scope: no other site
    # learns it from a Referer (W3C Referrer Policy); the app's own pages still see theirs.
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config.get("SESSION_COOKIE_SECURE"):  # reached over https (init_app)
        # the Secure cookie keeps the login off plain http, not the login page typed without
        # https://, where anyone on the wire served their own asking for the password
        # (RFC 6797); no includeSubDomains: other hosts of the domain may be plain http
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if response.mimetype == "text/html":
        # never in another site's frame: the login cookie is SameSite=Lax, sent to a frame
        # on a page of the same site (another host of the city's domain), where a click
        # on its own buttons recorded a complaint's handling here (clickjacking)
        response.headers.setdefault("X-Frame-Options", "DENY")
        policy = PAGE_POLICY
        if "script_nonce" in g:  # a page with the box's count (static/count.js): it alone
            policy = policy.replace("script-src 'none'", f"script-src 'nonce-{g.script_nonce}'")
        response.headers.setdefault("Content-Security-Policy", policy)
    return response


def script_nonce() -> str:
    """This answer's nonce for the hub's own script file a page names (a complaint box's
    count, static/count.js): markup that ever escaped the templates' escaping cannot know
    it, so nothing else runs (W3C CSP Level 3, nonce-source); pages without stay 'none'."""
    if "script_nonce" not in g:
        g.script_nonce = secrets.token_urlsafe(16)
    return str(g.script_nonce)


#: The pages have no script (README: server-rendered, no CDN; but a complaint box's count,
#: by :func:`script_nonce`), so none may run:
#: markup from a station (a name, a complaint's text) that ever escaped the templates'
#: escaping stays inert, and forms post only here (W3C CSP Level 3).
PAGE_POLICY = ("default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
               "form-action 'self'; frame-ancestors 'none'")


def _ended(sid: Any) -> bool:
    """Whether the login ``sid`` was ended by 退出; a login with no id (a cookie made before
    logins had one) counts as ended: it cannot be told apart from one logged out."""
    return not sid or bool(_ov().login_throttle.session_ended(str(sid)))


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        who = sup.load(_ov().hub, session.get("supervisor", ""), session.get("stamp", ""))
        if who is not None and _ended(session.get("sid")):
            who = None  # 退出 ended this login; the cookie was copied before (logout())
        if who is None:
            # a form sent without a session is dropped by the redirect (the browser GETs
            # the login page): said there, or the complaint typed in seemed recorded
            lost = "1" if request.method == "POST" else None  # None: left out of the URL
            return redirect(url_for("oversight.login", next=request.full_path, lost=lost))
        g.supervisor = who
        return view(*args, **kwargs)
    return wrapped


def login() -> Any:
    error = ""
    notice = FORM_LOST if request.args.get("lost") else ""
    if request.method == "POST":
        try:
            check_csrf()
        except BadInput:  # the login page again, with a token that works this time
            error = "表单已失效，请重新输入密码登录 / the form had expired: enter the password again"
            return render_template("oversight/login.html", error=error, notice=notice), 400
        name, address = request.form.get("login", "").strip(), request.remote_addr or ""
        throttle = _ov().login_throttle
        wait = throttle.wait_seconds(name, address)
        if wait:
            minutes = (wait + 59) // 60
            error = (f"登录失败次数过多，请 {minutes} 分钟后再试 / too many failed logins: "
                     f"try again in {minutes} min")
            return render_template("oversight/login.html", error=error, notice=notice), 429
        who = sup.authenticate(_ov().hub, name, request.form.get("password", ""))
        if who is not None:
            throttle.succeeded(name, address)
            session.clear()
            session["supervisor"] = who.login
            session["stamp"] = who.stamp
            # this login's own id, which 退出 records as ended (login_required)
            session["sid"] = secrets.token_urlsafe(16)
            nxt = request.args.get("next", "")
            return redirect(nxt if nxt.startswith("/oversight/") else url_for("oversight.index"))
        throttle.failed(name, address)
        error = "登录名或密码错误 / wrong login or password"
    return (render_template("oversight/login.html", error=error, notice=notice),
            401 if error else 200)


def logout() -> Any:
    if session.get("supervisor"):
        check_csrf()
    # else the login had already ended (12 hours, 退出 in another tab): a 退出 clicked on
    # a page left open was refused as "the form has expired, reload and send it again",
    # with no session left to end; the token only guards a live session
    sid = session.get("sid")
    if sid:
        # The cookie is signed, not stored: clearing it here left any copy taken before
        # (the office computer's cookie store, a proxy log) logged in for the rest of its
        # 12 hours. Recorded as ended on the hub, in the file every gateway reads.
        until = time.time() + current_app.permanent_session_lifetime.total_seconds()
        _ov().login_throttle.end_session(str(sid), until)
    session.clear()
    return redirect(url_for("oversight.login"))
