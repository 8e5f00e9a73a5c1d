"""The case index's tables (:mod:`node.index`) and the versions of what fills them."""

from __future__ import annotations

SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS cases (
  case_id TEXT PRIMARY KEY,
  case_no TEXT,
  institution TEXT NOT NULL,
  holder TEXT,
  service_item TEXT,
  service_type TEXT,
  status TEXT,
  needs_review INTEGER NOT NULL DEFAULT 0,
  created TEXT,
  updated TEXT NOT NULL,
  due TEXT,
  closed INTEGER NOT NULL DEFAULT 0,
  handed_from TEXT,
  pending INTEGER NOT NULL DEFAULT 0,
  limit_due TEXT,
  suspended_since TEXT
);
CREATE INDEX IF NOT EXISTS cases_updated ON cases(updated DESC, case_id DESC);
CREATE INDEX IF NOT EXISTS cases_status ON cases(status, updated DESC, case_id DESC);
CREATE INDEX IF NOT EXISTS cases_item ON cases(service_item, updated DESC, case_id DESC);
CREATE INDEX IF NOT EXISTS cases_no ON cases(case_no);
DROP INDEX IF EXISTS cases_open_due;
DROP INDEX IF EXISTS cases_open_due_id;
CREATE INDEX IF NOT EXISTS cases_due_open ON cases(due, case_id) WHERE closed = 0;
DROP INDEX IF EXISTS cases_created;
CREATE INDEX IF NOT EXISTS cases_created_id ON cases(created DESC, case_id DESC);
CREATE INDEX IF NOT EXISTS cases_handed ON cases(handed_from, closed, due);
CREATE INDEX IF NOT EXISTS cases_review ON cases(updated DESC, case_id DESC) WHERE needs_review = 1;
CREATE INDEX IF NOT EXISTS cases_pending ON cases(updated DESC, case_id DESC) WHERE pending = 1;
CREATE INDEX IF NOT EXISTS cases_open ON cases(updated DESC, case_id DESC) WHERE closed = 0;
-- The work lists of the cases held here (4.3), in their orders, and the counts of the
-- town's hand-over boxes; read through cases_open, the holder of each open case was read
-- from its row (the home page took 180 ms at 100,000 cases, docs/benchmarks.md).
CREATE INDEX IF NOT EXISTS cases_open_holder
  ON cases(coalesce(holder, institution), due, case_id) WHERE closed = 0;
CREATE INDEX IF NOT EXISTS cases_open_holder_limit
  ON cases(coalesce(holder, institution), limit_due, case_id, status, suspended_since)
  WHERE closed = 0;
CREATE INDEX IF NOT EXISTS cases_open_holder_updated
  ON cases(coalesce(holder, institution), updated DESC, case_id DESC) WHERE closed = 0;
CREATE INDEX IF NOT EXISTS cases_handed_updated
  ON cases(updated DESC, case_id DESC) WHERE handed_from IS NOT NULL;
CREATE TABLE IF NOT EXISTS name_tokens (
  token BLOB NOT NULL,
  case_id TEXT NOT NULL,
  PRIMARY KEY (token, case_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS name_tokens_case ON name_tokens(case_id);
-- Cases whose search tokens are not made (node.tokenmaker): ``later``, indexed while the
-- keys were locked or by a catch-up during a pull (made by the pull's end, or by the
-- unlock's background thread: node.tokenmaker.OwedTokens), else no key opens the case
-- here yet (made when its keyring's change arrives). What a name search cannot see.
CREATE TABLE IF NOT EXISTS tokens_owed (
  case_id TEXT PRIMARY KEY,
  later INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
-- The header revision (``_rev``) each case's tokens were made from: a case touched by new
-- steps keeps them (a refold of every case, a pull of the day's steps cost no key
-- unwrapped), one whose header changed (更正 elsewhere) gets them again.
CREATE TABLE IF NOT EXISTS tokens_made (
  case_id TEXT PRIMARY KEY,
  header TEXT NOT NULL
) WITHOUT ROWID;
"""


class Kept(tuple[str, ...]):
    """Tokens that are those of the case's header revision already: left as they are."""


KEPT = Kept()
#: Kept in ``meta`` once an older file's cases without tokens are put in ``tokens_owed``
#: (later: made at the next unlock): before it, a pulled case had tokens only once opened.
TOKENS_OWED = "1"

COLUMNS = ("case_id", "case_no", "institution", "holder", "service_item", "service_type",
           "status", "needs_review", "created", "updated", "due", "closed", "handed_from",
           "pending", "limit_due", "suspended_since")
#: Columns added after the first release, with their SQL type: an older index file gets
#: them (ALTER TABLE) and is refolded from the store at the next catch-up (``store_seq``
#: reset), since its rows cannot fill them in themselves.
ADDED_COLUMNS = {"limit_due": "TEXT", "suspended_since": "TEXT"}
#: The fold the rows were made by: a file written under another one (its rows' status and
#: ``closed`` are stale) is refolded from the store at the next catch-up, as for a new
#: column. 2: an answered consultation with no reply pending is ``consulted``, closed.
#: 3: a deadline whose suspension spans 1 January counts the new year's holidays
#: (schemas.workdays, 10.2.5). (A refold then did not make the search tokens, so those
#: of a phone's digits, new in the same release, came with each case's next write or
#: opening; it makes them now: node.tokenmaker.) 4: a resumption deadline on a weekend or holiday runs to the
#: next working day (10.2.5.2, schemas.state.resume_by); an acceptance on a lapsed
#: entrustment is a review (10.2.3); a materials period ending on a day off runs to the
#: next working day (10.2.5.1 a). 5: a restored hub's second termination of a suspension
#: is the same act, not a review (10.2.5.2, schemas.rules.repeats_termination).
#: 6: so is a second 冲突复核 of one step (schemas.state.resettles). 7: 撤销办结
#: (schemas.withdraw): a completion withdrawn is handling again, its time limit running.
#: 8: a 补录 step behind a live step of its case (another laptop's, concurrent) is a
#: review (schemas.paper_fold). 9: a step kept for review while a completion stood
#: applies once that completion is withdrawn, if legal then (schemas.withdraw). 10: a
#: 冲突复核 of a step so released and of one still refused resolves the latter; a second
#: 撤销办结 of one completion is the same act (schemas.state.resettles). 11: a 补录 step
#: held by a withdrawn completion that made the case live is paper history (schemas.withdraw);
#: a repeated 撤销办结 held behind a completion and released is the same act, not a review.
FOLD_VERSION = "11"
