"""A step entered later from paper (补录, schemas.paper) behind a live step of its case in
the fold: kept for review, not applied, and the case marked 需复核 (design.md §3).

A case's paper steps come first (:func:`schemas.paper.check_paper_day`: none after a step
entered live, or a suspension could be slipped in before a deadline that has run out,
10.2.5, 11.1 b). The node refuses such a step and so does the hub, judged by what its
writer had seen (hub.transitions.paper_refusal): a laptop that had not pulled another
laptop's live step of the case types its paper step as the case's next one, and the hub
takes it, as it takes any step legal from its writer's view. In the fold (hlc order) it
then follows that live step: the two cannot both hold. Only the 补录 audit listed it
(hub.oversight.paper): the case counted the back-dated step, and neither the station's
coordinator nor the supervisor saw the case as 需复核. Now the fold keeps it as it keeps
any concurrent step that breaks a rule (``state.reviews``): its dates count for nothing
until someone compares it with the paper ledger and, if the step still stands, records
it live; then a 冲突复核 (review_resolved) clears the mark.

Public API: :func:`is_paper_step`, :func:`check_in_fold`, :func:`mark_live`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas.errors import IllegalTransition
from schemas.paper import PAPER_STEPS, entered_later
from schemas.rules import check_transition
from schemas.state import CaseState, unsettled

#: what the review says (clause 11.1 b: a back-dated step moves the case's deadlines)
CLAUSE, RULE = "11.1 b", "paper_after_live"
EN = ("entered later from paper behind a step recorded live (by a laptop that had not synced "
      "it): paper steps come before live ones, so it does not count; compare it with the paper "
      "ledger and record it live if it still stands")
ZH = ("补录步骤排在本案当日登记的步骤之后（录入的电脑当时未同步到该步骤）：纸质步骤须在当日登记之前，"
      "此步未计入；请与纸质台账核对，如仍需办理请当日登记")


def is_paper_step(event: Mapping[str, Any]) -> bool:
    """A step of the paper ledger entered later: a type of :data:`schemas.paper.PAPER_STEPS`
    declaring itself so (:func:`schemas.paper.entered_later`)."""
    if event.get("event_type") not in PAPER_STEPS:
        return False
    at = str(event.get("at") or "")
    # the fold reads every event of a million cases: a time stated in Beijing's offset
    # (every node's) that is not noon on the dot is live without parsing two clocks
    return not (at.endswith("+08:00") and at[11:19] != "12:00:00") and entered_later(event)


def mark_live(state: CaseState, event: Mapping[str, Any]) -> None:
    """Note ``event``, a step recorded live, in ``state.went_live`` (and the first such
    step in ``state.live_from``, for a withdrawal of it: schemas.withdraw.withdraw)."""
    if not state.went_live:
        state.went_live, state.live_from = True, str(event.get("hlc"))


def _relive(state: CaseState, event: Mapping[str, Any]) -> None:
    """Note a withdrawal before ``event`` in clock order as the step that made the case
    live. Needed for one held behind a completion withdrawn in its turn: judged again and
    applied (schemas.fold._release) after the case was made paper again, it is live for
    the held steps typed after it, though the release marks the case live only at its end."""
    hlc = str(event.get("hlc"))
    before = [str(w["event"]) for w in state.withdrawals if str(w["event"]) < hlc]
    if before:
        mark_live(state, {"hlc": min(before)})


def check_in_fold(state: CaseState, event: Mapping[str, Any]) -> None:
    """:func:`schemas.rules.check_transition` at ``event``'s place in the fold, which also
    notes a step recorded live (``state.went_live``: a read is none, a step kept for review
    is one, as :func:`schemas.paper.check_paper_day` counts them) and refuses a paper step
    after one, and judges a 冲突复核 by the steps it names still open (state.unsettled).
    Called by the fold alone (schemas.fold._fold): it advances ``state``."""
    paper = is_paper_step(event)
    if paper and not state.went_live:
        _relive(state, event)
    if paper and state.went_live:
        raise IllegalTransition(CLAUSE, RULE, EN, ZH, event_id=event.get("hlc"))
    if not paper and event.get("event_type") != "access":
        mark_live(state, event)
    check_transition(state, unsettled(state, event))


__all__ = ["CLAUSE", "RULE", "check_in_fold", "is_paper_step", "mark_live"]
