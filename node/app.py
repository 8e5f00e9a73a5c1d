"""The field app's factory: ``create_app(config)`` (Flask's application-factory pattern).

One blueprint per resource (``node/views``); the :class:`node.core.Node` runtime
(enrollment, local store, keys, index, sync) hangs on ``app.extensions["bangban_node"]``.
zh-CN is the default locale, English the second (Flask-Babel, catalogs in
``node/translations``). Every asset is served from ``node/static``: the app must work
with no internet at all.
"""

from __future__ import annotations

import ipaddress
import secrets
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, g, jsonify, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from node import settings as settings_mod
from node import window
from node.core import Node
from node.errors import LAPTOP_DISK_FULL, DiskFull, Locked, NodeError, NoSession, NotEnrolled
from node.sessions import COOKIE_PREFIX, cookie_name
from schemas.errors import SchemaError
from sync.errors import SyncError

LOCALES = ("zh_CN", "en")
#: Endpoints reachable while the keys are locked.
OPEN_ENDPOINTS = {"static", "home.unlock", "home.lang", "home.large_text", "sync.status_json",
                  "api.openapi", "api.status", "api.unlock", "api.sync_state", "home.favicon"}


#: Endpoints pages call by themselves in the background (no sign of a clerk at the laptop).
POLLS = {"sync.status_json"}
#: the forms that record what the clerk typed (a case, a step, the applicant's particulars)
RECORDING = {"consultations.create", "handling.submit", "applicant.save", "town.notice"}


def create_app(config: Mapping[str, Any] | None = None, *, node: Node | None = None) -> Flask:
    """Build the node's WSGI app. ``config`` holds setting overrides (see node.settings)."""
    conf = dict(config or {})
    flask_conf = {k: conf.pop(k) for k in list(conf) if k.isupper()}
    settings = settings_mod.load(conf)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + 1_048_576,
        BABEL_DEFAULT_LOCALE=settings.locale,
        BABEL_TRANSLATION_DIRECTORIES="translations",
        JSON_AS_ASCII=False,
    )
    app.config.update(flask_conf)
    app.session_interface = FormSessions()
    # not sent with another site's requests (it holds the forms' token; SameSite Lax keeps
    # it on the links the clerk follows, as the language choice should be)
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:  # Flask's default: none at all
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    node = node or Node(settings)
    app.extensions["bangban_node"] = node
    Babel(app, locale_selector=_locale)

    from node.views import (
        api,
        applicant,
        applicant_copy,
        cases,
        consultations,
        forms,
        handling,
        home,
        staff,
        sync,
        town,
    )

    for module in (home, consultations, cases, handling, applicant, applicant_copy, forms, sync,
                   town, api, staff):
        app.register_blueprint(module.bp)

    app.before_request(_guard)
    app.teardown_request(_end_request)
    app.after_request(_no_store)
    app.context_processor(_template_globals)
    app.register_error_handler(NodeError, _node_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(SyncError, _foreign_error)
    app.register_error_handler(SchemaError, _foreign_error)
    app.jinja_env.globals["csrf_token"] = _csrf_token
    app.jinja_env.globals["page_here"] = page_here
    from node.once import OnceTokens

    app.extensions["bangban_once"] = OnceTokens()
    app.jinja_env.globals["once_token"] = OnceTokens.issue
    from node import labels

    labels.install(app)
    return app


def get_node() -> Node:
    from flask import current_app

    node: Node = current_app.extensions["bangban_node"]
    return node


def _locale() -> str:
    lang = session.get("lang") or request.args.get("lang")
    if lang in LOCALES:
        return str(lang)
    return str(get_node().settings.locale)


def _csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return str(token)


def _guard() -> Response | None:
    """Locked keys, or no session of this browser, send people to the unlock page; the API
    answers 423 (locked) or 401 (``no_session``). Forms need a CSRF token (the UI listens
    on loopback, but another local page must not post to it)."""
    node = get_node()
    g.started = time.perf_counter()
    if not host_allowed(request.host, str(node.settings.node_host)):
        raise NodeError("请用 http://127.0.0.1 地址打开本应用 / open the app at its "
                        "http://127.0.0.1 address", error="host", status=400)
    if from_another_site(request.method, request.headers) or posted_from_elsewhere(
            request.method, request.headers.get("Origin"), request.host):
        raise NodeError("其他网站的网页不能使用本应用，请从本应用的页面操作 / a page of another "
                        "site cannot use this app: work from the app's own pages",
                        error="cross_site", status=403)
    endpoint = request.endpoint or ""
    is_api = request.path.startswith("/api/")
    if request.method == "POST" and not is_api and endpoint != "static":
        # a session without a token is refused too: a cross-site post carries no cookie
        # (SameSite=Lax), and "no token" == "no token" let it through to an unlocked node
        token = session.get("csrf")
        if not token or not secrets.compare_digest(str(request.form.get("csrf", "")),
                                                   str(token)):
            raise NodeError("页面已过期（应用已重启或已锁定），请返回重新填写 / the page has "
                            "expired (the app restarted or locked): go back and fill it in "
                            "again", error="csrf", status=400)
    node.touch(activity=False)  # an idle lock first: it ends every session
    # Unlocked keys serve only the browser (or program) that entered the passphrase: its
    # session cookie (node.sessions; 7.2.2, design.md §5). Another OS user's curl, another
    # browser, gets the unlock page or a 401, never a case. Only its requests are activity:
    # a request without a session never keeps an unattended laptop unlocked (7.2.2.2).
    token = request.cookies.get(cookie_name(request.environ))
    g.session_live = node.has_session(token)
    if g.session_live and endpoint not in POLLS:
        node.touch()
        # who this browser's steps and reads are recorded under (8.1.2, 11.2.2)
        g.acting = window.begin(node, node.sessions.get(token, window.SESSION_KEY))
    if endpoint in OPEN_ENDPOINTS or g.session_live:
        return None
    if is_api:
        raise NoSession() if node.unlocked else Locked()
    if request.method == "POST":
        # a form sent after the keys locked (idle lock, another tab's lock): what the clerk
        # typed came with it and is not stored. The unlock page says so, and leads back to
        # the form's page: the post's own address, opened after the unlock, was a 405.
        # (A lock button, a search or the staff choice carry nothing typed to lose.)
        return redirect(url_for("home.unlock", next=form_page(request.referrer, request.host),
                                unsaved=1 if endpoint in RECORDING else None))
    return redirect(url_for("home.unlock", next=request.full_path))


def page_here() -> str:
    """Where the header's switches (language, large text, staff) come back to: this page,
    or for a form's refused POST (its own address answers GET with 405) the form's page."""
    if request.method == "GET":
        return request.full_path
    return form_page(request.referrer, request.host) or url_for("home.index")


def form_page(referrer: str | None, host: str) -> str | None:
    """The path (and query) of the page a form was posted from, when it is this app's."""
    parts = urlsplit(referrer or "")
    if parts.netloc != host or not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _end_request(exc: BaseException | None = None) -> None:
    """Forget this request's staff at the window: waitress reuses its threads (and the test
    client runs in the caller's), so the next request or the CLI must not inherit it."""
    token = g.pop("acting", None)
    if token is not None:
        window.ACTING.reset(token)


def _no_store(response: Response) -> Response:
    """Pages hold applicants' names and ID numbers in clear once unlocked: the browser must
    not keep them in its disk cache, where the sealed store's protection of a lost laptop
    would not reach (design.md: personal data is sealed before it touches a disk; 7.2.2.2).
    Static files (CSS, scripts, fonts) hold none and stay cacheable."""
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    if response.mimetype == "text/html":
        # No page of the app in another's frame: a page of another port of this laptop
        # (same-site, so the session cookie goes along) framed the unlocked app under its
        # own buttons, and the clerk's click urged a station or saved a step there. Fetch
        # Metadata refuses such a frame only in browsers that send it (Chromium 76 on; see
        # posted_from_elsewhere for the office browsers older than that).
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
    # a scan or a static file is read as the type it says, never sniffed into a page; a
    # page's address (/cases/<id>) goes to no other site in a Referer (W3C Referrer
    # Policy), while the app's own pages still get theirs (form_page reads it)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


#: What a page may load and run (W3C CSP Level 3): the app's own script file and style
#: sheet only (no style attribute either: injected markup cannot restyle a page into a
#: fake form, CSP3 §6.1.3 'unsafe-inline'), images of its own and the
#: signature pad's ``data:`` PNG (node/static/bangban.js), forms posting only here. A
#: name with markup that ever escaped the templates would not run: no inline script.
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
               "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
               "form-action 'self'; frame-ancestors 'none'")


class FormSessions(SecureCookieSessionInterface):
    """Flask's signed session (the forms' CSRF token, language, large text) under a cookie
    named per port, as node.sessions.cookie_name names the unlock's: browsers keep cookies
    per host, not per port (RFC 6265 §8.5), so two nodes on one laptop (the demo's town and
    village, a test's) overwrote each other's ``session`` and every form of the other tab
    was refused as expired (its token gone with the cookie)."""

    def get_cookie_name(self, app: Flask) -> str:
        return "bangban_form_" + cookie_name(request.environ).removeprefix(COOKIE_PREFIX)


def host_allowed(host: str, listen: str) -> bool:
    """Whether ``Host:`` names this laptop: an IP address, ``localhost`` or the address the
    UI listens on. Any other name is a DNS rebinding (a web page's own name pointed at
    127.0.0.1): its script would read this unauthenticated API (``/api/cases/…``: names,
    ID numbers, in clear once unlocked) as its own origin (7.2.2.2)."""
    try:
        name = (urlsplit("//" + host).hostname or "").rstrip(".")
    except ValueError:
        return False
    if name in ("localhost", listen.lower()):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def from_another_site(method: str, headers: Any) -> bool:
    """A request another site's page made by itself (W3C Fetch Metadata; browsers send it
    to loopback too): an image, script or fetch. Every read of a case records an access in
    the clerk's name and any request kept an unattended laptop unlocked, so a hidden
    ``<img src="http://127.0.0.1:8470/cases/…">`` on any site did both (7.2.2.2). A link
    followed to one of the app's pages (a navigation) is the clerk's own doing.
    ``headers``: the request's (Werkzeug ``Headers``, or any mapping of names)."""
    if headers.get("Sec-Fetch-Site") not in ("cross-site", "same-site"):
        return False  # same-origin, a typed address or bookmark ("none"), or no browser
    return not (method == "GET" and headers.get("Sec-Fetch-Mode") == "navigate"
                and headers.get("Sec-Fetch-Dest", "document") == "document")


def posted_from_elsewhere(method: str, origin: str | None, host: str) -> bool:
    """A write whose ``Origin`` is not this app (RFC 6454; OWASP's CSRF check of standard
    headers): browsers send it with every cross-origin POST, also those older than Fetch
    Metadata (Chromium before 76, which many office browsers are built on). Without it,
    a page of another port of this laptop (same-site: the session cookie goes along) could
    post ``/api/lock`` and ``/api/sync``, which read no JSON body and so need no CORS
    preflight. A request without ``Origin`` (a script, curl) is left to the other checks."""
    if method in ("GET", "HEAD", "OPTIONS") or origin is None:
        return False
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        return True
    return parts.scheme not in ("http", "https") or parts.netloc.lower() != host.lower()


def _template_globals() -> dict[str, Any]:
    node = get_node()
    return {
        "node": node,
        # this browser's view: the menu, the sync badge (whose poll would send an unlock
        # page to itself) and the clock warning only with a live session
        "session_live": bool(g.get("session_live")),
        "large_text": bool(session.get("large")),
        "current_lang": _locale(),
        "window_staff": _window_staff,
    }


def _window_staff() -> dict[str, Any]:
    """The page header's 当前经办人 choice (node.views.staff.state), for a live session."""
    from node.views.staff import state

    return state()


def _node_error(exc: NodeError) -> Any:
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(exc.as_json()), exc.status
    if isinstance(exc, NotEnrolled):
        return render_template("error.html", error=exc), exc.status
    if isinstance(exc, Locked):
        return redirect(url_for("home.unlock"))
    return render_template("error.html", error=exc), exc.status


#: Werkzeug's own refusals (a mistyped address, a page opened by a method it has not,
#: too large an upload) in the page's words, Chinese then English, not its English pages
HTTP_REASONS = {
    404: "页面不存在：地址有误或已失效，请从菜单进入 / page not found: use the menu",
    405: "此地址不能直接打开，请从菜单进入 / this address cannot be opened directly: use the menu",
    413: "上传的内容太大，请分开上传扫描件 / the upload is too large: send the scans separately",
    400: "请求无法识别，请返回页面重新操作 / the request could not be read: go back and try again",
    # an unexpected error (its traceback goes to node serve's log): said "500 Internal
    # Server Error", English only, with nothing on what to do
    500: "出错了：刚才的操作可能没有完成（详情已记入本机日志）。请返回查看后再试一次；仍出错请"
         "联系管理员 / something went wrong: what you did may not have been done (the details "
         "are in this laptop's log). Go back, check, and try again; call the operator if it "
         "happens again",
}


def _http_error(exc: HTTPException) -> Any:
    code = int(exc.code or 500)
    reason = HTTP_REASONS.get(code, f"{code} {exc.name}")
    return _node_error(NodeError(reason, error=exc.name.lower().replace(" ", "_"), status=code))


def _foreign_error(exc: SyncError | SchemaError) -> Any:
    """Errors of sync (store, crypto) and schemas reaching a view: translated here, at the
    node's boundary, into the node's own error with the same status and reason (a full
    disk in the clerk's words: what to do, and that nothing saved is lost)."""
    if exc.status == 507:
        return _node_error(DiskFull(LAPTOP_DISK_FULL))
    return _node_error(NodeError(exc.reason, error=exc.error, status=exc.status))
