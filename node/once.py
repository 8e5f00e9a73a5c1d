"""One save per form filled: a form that opens a case or records a step carries a token;
a second submission of it with the same content is answered with the first one's page
instead of storing the record again.

A clerk saved a consultation, pressed the browser's Back to check it, found the form
filled in as they left it (the browser restores what was typed) and pressed 保存 again:
two cases, two numbers, for one visit (10.1.1). The browser renews the token's input on
Back, so the page's script keeps the token it sent (sessionStorage, per form address; a
random string, nothing of the case) and puts it back on a page reached by Back/Forward.
A form changed after Back (another applicant typed over the first) is another record:
the token is taken for it only when its content is the same. A double-click the page's
script did not hold is a second submission too. Tokens live in this process's memory:
a restart forgets them, and the form's CSRF token, also per process, refuses such a
stale form anyway (node.app).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

#: submissions remembered; the oldest forgotten first (a day's forms of a busy station)
KEEP = 2000
#: how long a second submission waits for the first one's answer (seconds)
WAIT = 30.0
#: inputs that are not the form's content
NOT_CONTENT = frozenset({"csrf", "once"})


def content_digest(items: Iterable[tuple[str, list[str]]]) -> str:
    """A digest of a submitted form's content (``request.form.lists()``)."""
    h = hashlib.sha256()
    for name, values in sorted(items):
        if name not in NOT_CONTENT:
            h.update(repr((name, sorted(values))).encode())
    return h.hexdigest()


class OnceTokens:
    """Submissions saved ((token, content digest) → the page their save led to), or
    being saved (→ None)."""

    def __init__(self, keep: int = KEEP) -> None:
        self._done: OrderedDict[tuple[str, str], str | None] = OrderedDict()
        self._keep = keep
        self._cond = threading.Condition()

    @staticmethod
    def issue() -> str:
        return secrets.token_urlsafe(16)

    @contextmanager
    def claim(self, token: str | None, digest: str) -> Iterator[str | None]:
        """Within the block the submission is saved once. Yields the page of an earlier
        save of the same token and content (the caller shows it instead of saving), else
        ``None``: the caller saves and calls :meth:`done` with the page it leads to. A
        block left without :meth:`done` (refused input, an error) frees the token: the
        same form may be corrected and sent again."""
        if not token:
            yield None
            return
        key, earlier = (token, digest), None
        with self._cond:
            if key in self._done:  # being saved: wait for that answer (or its refusal)
                self._cond.wait_for(lambda: self._done.get(key) is not None
                                    or key not in self._done, timeout=WAIT)
                earlier = self._done.get(key)
            if earlier is None:
                self._done[key] = None
                self._done.move_to_end(key)
                while len(self._done) > self._keep:
                    self._done.popitem(last=False)
        if earlier is not None:
            yield earlier
            return
        try:
            yield None
        finally:
            with self._cond:
                if key in self._done and self._done[key] is None:
                    del self._done[key]
                self._cond.notify_all()

    def done(self, token: str | None, digest: str, page: str) -> None:
        if token:
            with self._cond:
                self._done[(token, digest)] = page
                self._cond.notify_all()
