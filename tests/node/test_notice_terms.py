"""The one-time notification tells the 办理条件 and 办理流程 too (一次性告知, standard 3:
"条件、程序、材料、时限"; 10.1.4): form N printed the missing materials, how to obtain each
and the period, never the conditions or the procedure (docs/conformance.md, clause 3). The
clerk reads them on the page before printing; an item the catalog gives none for says so."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from node import formdata, pdf
from node.verify import check_documents
from schemas.reference import CONDITIONS_MAX_LEN
from schemas.sample import catalog
from tests.node.test_clerk_catalog import _with_items
from tests.node.test_clerk_day import _case_id, _consult, _step
from tests.node.test_pdf import CASE

ITEM = {**CASE["item"], "conditions": "年满16周岁，未参加职工基本养老保险。",
        "procedure": "村（社区）窗口登记→选择缴费档次→银行或线上缴费。"}


def _rows(case: dict[str, Any]) -> dict[str, str]:
    return dict(formdata.build("N", case).rows)


def test_form_n_prints_the_item_s_conditions_and_procedure() -> None:
    rows = _rows({**CASE, "item": ITEM})
    assert rows["办理条件"] == ITEM["conditions"] and rows["办理流程"] == ITEM["procedure"]


def test_form_n_says_plainly_when_the_catalog_gives_none() -> None:
    """A blank line read as "no conditions"; the form names the department to ask."""
    rows = _rows(CASE)  # an item of a catalog imported before the columns existed
    assert rows["办理条件"] == "服务事项清单未列明办理条件，请向人力资源和社会保障局咨询"
    assert rows["办理流程"] == "服务事项清单未列明办理流程，请向人力资源和社会保障局咨询"
    # no item chosen yet (暂不确定): as its time limit row says
    assert _rows({**CASE, "item": None, "events": []})["办理条件"] == "待确定服务事项后告知"


def test_a_long_procedure_wraps_inside_the_page_and_is_printed_whole(tmp_path: Path) -> None:
    """The longest text the catalog takes, in lines, runs on within the table's column
    (pdftotext -bbox: no word past the right margin) and every character is printed."""
    steps = "\n".join(f"{n}. 申请材料提交至乡镇（街道）便民服务中心窗口，由窗口人员核验原件"
                      for n in range(1, 40))[:CONDITIONS_MAX_LEN]
    path = tmp_path / "n.pdf"
    path.write_bytes(pdf.render(formdata.build("N", {**CASE, "item": {**ITEM,
                                                                      "procedure": steps}})))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    # every character printed (none clipped), the page's foot running between the pages
    assert all(text.count(ch) >= steps.count(ch) for ch in set(steps) - {" ", "\n"})
    assert "28. 申请材料" in text and "第 2 页" in text  # long enough to run on
    box = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True,
                         text=True, check=True).stdout
    width = float(re.search(r'<page width="([\d.]+)"', box)[1])  # type: ignore[index]
    right = max(float(x) for x in re.findall(r'xMax="([\d.]+)"', box))
    assert right <= width - 50, (right, width)  # the margin is 20 mm (57 pt)


def test_the_consultation_page_shows_them_before_form_n_is_printed(unlocked: Any,
                                                                    tmp_path: Path) -> None:
    item = next(i for i in catalog() if len(i["materials"]) > 1)
    bare = {k: v for k, v in item.items() if k not in ("conditions", "procedure")}
    other = {**next(i for i in catalog() if i["code"] != item["code"]), "code": "MS-901",
             "_id": "service_item:MS-901", **{"conditions": "只在本页", "procedure": "一步"}}
    _with_items(unlocked, other)
    page = unlocked.get("/consultations/new").data.decode()
    assert "只在本页" in page and "办理流程" in page, page[:3000]
    _with_items(unlocked, bare)
    unlocked.application.extensions["bangban_node"].cache.clear()
    page = unlocked.get("/consultations/new").data.decode()
    assert "服务事项清单未列明，请向审批部门咨询" in page
    # printed: the case's notification of the missing materials, with both texts
    case_id = _case_id(_consult(unlocked, service_item="MS-901", service_type="assist"))
    page = unlocked.get(f"/cases/{case_id}/steps/notification").data.decode()
    assert "只在本页" in page
    out = tmp_path / "n.pdf"
    out.write_bytes(unlocked.get(f"/cases/{case_id}/forms/N.pdf").data)
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "办理条件" in text and "只在本页" in text and "一步" in text, text
    assert _step(unlocked, case_id, "notification",
                 materials=[item["materials"][0]["code"]]).status_code == 302


def test_a_node_that_does_not_know_them_stores_the_item_untouched() -> None:
    """The compatibility the new members rely on (no new schema_version): a node checks a
    pulled or bundled reference document's signature, never its schema (node.verify), so
    an older node stores an item carrying them and reads the members it knows. Passes on
    the old code too: it pins the behaviour the choice relies on."""
    doc = {**catalog()[0], "_rev": "1-a", "a_member_of_a_later_version": "x"}
    accepted, refused = check_documents([doc], None, [])
    assert refused == [] and accepted == [doc]
