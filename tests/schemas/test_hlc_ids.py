"""Hybrid logical clocks (design.md §6), ids and case numbers (design.md §2), sample people."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas import ValidationFailed
from schemas.errors import ClockError
from schemas.hlc import HLC, compare, pack, receive, skew_ms, tick, unpack
from schemas.ids import (
    GB32100_CHARS,
    case_no,
    device_id,
    doc_id,
    event_doc_id,
    gb11643_check_digit,
    gb11714_check_char,
    gb32100_check_char,
    institution_tier,
    is_valid_id_number,
    is_valid_uscc,
    parse_case_no,
    parse_doc_id,
    split_device_id,
    uscc_org_code_ok,
)
from schemas.sample import enterprise, id_number, mobile, person

nodes = st.sampled_from(["410621101201-A1", "410621101201-A2", "410621-B7", "410600-HB"])
clocks = st.builds(HLC, st.integers(0, 16**12 - 1), st.integers(0, 16**4 - 1), nodes)


@given(clocks)
def test_pack_unpack_roundtrip(h: HLC) -> None:
    assert unpack(pack(h)) == h


@given(clocks, clocks)
def test_string_order_is_clock_order(a: HLC, b: HLC) -> None:
    assert (pack(a) < pack(b)) == (a < b)
    assert compare(a, b) == compare(pack(a), pack(b))


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=30), nodes)
def test_tick_is_strictly_monotonic_even_when_the_wall_clock_goes_back(walls: list[int],
                                                                        node: str) -> None:
    last = None
    for w in walls:
        nxt = tick(w, last, node)
        assert last is None or nxt > last
        assert nxt.wall_ms >= w
        last = nxt


@given(st.integers(0, 10**6), st.one_of(st.none(), clocks), clocks, nodes)
def test_receive_is_after_both(local: int, last: HLC | None, remote: HLC, node: str) -> None:
    if remote.wall_ms >= 16**12 - 2 or (last and last.wall_ms >= 16**12 - 2):
        return
    h = receive(local, last, remote, node)
    assert (h.wall_ms, h.counter) > (remote.wall_ms, remote.counter)
    if last:
        assert (h.wall_ms, h.counter) > (last.wall_ms, last.counter)


def test_counter_overflow_borrows_next_ms_and_clock_limits() -> None:
    assert tick(5, HLC(10, 16**4 - 1, "n1"), "n1") == HLC(11, 0, "n1")
    with pytest.raises(ClockError):
        receive(1000, None, HLC(10**9, 0, "x1"), "n1", max_ahead_ms=60_000)
    with pytest.raises(ClockError):
        unpack("2026-01-01")
    assert skew_ms(HLC(1500, 0, "n"), 1000) == 500


def test_ids_and_case_numbers() -> None:
    assert [institution_tier(c) for c in ("410600", "410621", "410621101", "410621101201")] == \
        ["city", "county", "town", "village"]
    dev = device_id("410621101201", "A3")
    assert split_device_id(dev) == ("410621101201", "A3")
    no = case_no("410621101201", 2026, "A3", 17)
    assert no == "410621101201-2026-A3-00017"
    assert parse_case_no(no) == ("410621101201", 2026, "A3", 17)
    cid = pack(HLC(1_770_000_000_000, 0, dev))
    eid = pack(HLC(1_770_000_000_001, 3, dev))
    assert parse_doc_id(event_doc_id(cid, eid)) == ("event", cid, eid)
    assert parse_doc_id(doc_id("case", cid)) == ("case", cid, None)
    for bad in (lambda: device_id("4106", "A3"), lambda: device_id("410621", "a3"),
                lambda: parse_case_no("410621-26-A3-17"), lambda: parse_doc_id("foo:1"),
                lambda: case_no("410621", 2026, "A3", 0)):
        with pytest.raises(ValidationFailed):
            bad()


def test_case_numbers_of_two_devices_never_collide() -> None:
    a = {case_no("410621101201", 2026, "A1", n) for n in range(1, 200)}
    b = {case_no("410621101201", 2026, "A2", n) for n in range(1, 200)}
    assert not a & b


def test_gb11643_check_digit() -> None:
    assert gb11643_check_digit("11010519491231002") == "X"  # the standard's own example
    assert is_valid_id_number("11010519491231002X")
    assert not is_valid_id_number("110105194912310021")
    rng = random.Random(3)
    for _ in range(200):
        n = id_number(rng)
        assert len(n) == 18 and is_valid_id_number(n)
        m = mobile(rng)
        assert len(m) == 11 and m.startswith("1") and m.isdigit()


def test_gb32100_check_character() -> None:
    """A firm's 统一社会信用代码 (GB 32100-2015): 18 characters of 0-9 A-H J-N P-R T-U W-Y,
    weights 3^i mod 31, the last the check of the others; the sample's firms carry valid
    ones (they were random, and the window now refuses those)."""
    for real in ("91110000600037341L", "914403001922038216", "91110108551385082Q"):
        assert is_valid_uscc(real) and gb32100_check_char(real[:17]) == real[17]
    assert gb32100_check_char("91310000775785552") == "L"
    assert not is_valid_uscc("914403001922038217")  # the check character off by one
    assert not is_valid_uscc("914403001922083216")  # two characters swapped
    assert not is_valid_uscc("91110000600037341")  # 17 characters
    assert not is_valid_uscc("9111000060003734IL")  # I is not in the code set
    assert not is_valid_uscc("91110000600037341l")  # lower case: upper-cased at the window
    rng = random.Random(5)
    assert all(is_valid_uscc(enterprise(rng)["id_number"]) for _ in range(200))


_CODE = st.text(alphabet=GB32100_CHARS, min_size=8, max_size=8)


@given(head=_CODE, body=_CODE, at=st.integers(8, 16), digit=st.integers(0, 9))
def test_the_organisation_code_in_a_credit_code_is_checked(head: str, body: str, at: int,
                                                           digit: int) -> None:
    """GB 32100: characters 9–17 of a 统一社会信用代码 are an organisation code, whose 17th
    is GB 11714's check (weights 3 7 9 10 5 8 4 2, mod 11, 10 as X): a code built so is
    valid, and one digit there changed fails it even with the 18th computed again (GB
    11714's weights are prime to 11, so no one digit's change is lost; a letter's may be)."""
    first17 = head + body + gb11714_check_char(body)
    code = first17 + gb32100_check_char(first17)
    assert is_valid_uscc(code) and uscc_org_code_ok(code)
    if code[at].isdigit() and int(code[at]) != digit:
        changed = code[:at] + str(digit) + code[at + 1:17]
        changed += gb32100_check_char(changed)
        assert not uscc_org_code_ok(changed) and not is_valid_uscc(changed)


def test_gb11714_check_character() -> None:
    """The organisation codes inside real firms' codes, and the check's 10 and 11."""
    for real in ("91110000600037341L", "914403001922038216", "91110108551385082Q"):
        assert gb11714_check_char(real[8:16]) == real[16]
    assert gb11714_check_char("00000000") == "0"  # 11 - 0 = 11: written 0
    assert gb11714_check_char("00000006") == "X"  # 11 - 12 mod 11 = 10: written X
    assert gb11714_check_char("00000001") == "9"
    assert not uscc_org_code_ok("91410600MA44XXXX1F")


def test_sample_people_are_deterministic() -> None:
    assert person(random.Random(9)) == person(random.Random(9))
    assert person(random.Random(9)) != person(random.Random(10))
