"""Every word a Chinese user reads, checked over the whole tree (DB4106/T 101—2023's vocabulary).

What is checked is what is shown: the node's catalog (its msgids are the zh-CN UI), the text of
the node's and the oversight's templates, and the Chinese string literals of ``node/``, ``hub/``
and the labels of ``schemas/`` (flash messages, refusals of the CLIs and of the device endpoint,
printed forms). Comments and docstrings are for engineers and are left out.

- One term per thing: the hub was 枢纽, 集中端, 中枢 and 中心 on different pages (a clerk asked to
  "请告知枢纽管理员" and a supervisor reading "中枢接收时间" meant the same server); the case's
  time limit was 办理期限 on one list and 办理时限 on the next; the person served was 申请人 on
  forms whose steps said 服务对象 (the standard's word, used throughout 10.1 and 10.2); a case
  is the standard's 办件 (8.1.1), not a court's 案件.
- Plain words for a clerk: a revoked laptop is 停用 (stopped), not 吊销; what the platform did not
  take is a 记录 (record), not a 文档.
- Chinese punctuation in Chinese text: no half-width comma, semicolon, question or exclamation
  mark beside a Chinese character, no ``...`` for ``……``, no straight quotes around Chinese.
- Simplified characters only (the standard's captured text is traditional: a copied phrase
  brought its characters along).
- No English word in the Chinese UI's text outside an allow-list (codes, commands, file types).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CJK = r"\u3400-\u9fff"

#: a term the UI must not use -> the one it uses for the same thing
TERMS = {
    "枢纽": "平台", "集中端": "平台", "中枢": "平台", "中心管理员": "平台管理员",
    "中心发来": "平台发来", "从中心": "从平台", "与中心同步": "与平台同步",
    "中心不保": "平台不保", "本中心加密": "平台加密",
    "监管端": "监督平台",
    "吊销": "停用",
    "文档": "记录",
    "本地数据": "本机数据",
    "办理期限": "办理时限", "办结期限": "办理时限",
    "申请人": "服务对象",
    # 8.1.1's 办件: a 案件 is a court's or the police's, 立案 and 结案 theirs too
    "案件": "办件", "本案": "本件", "立案": "登记", "结案": "办结", "新立": "新登记",
    "不予准予": "不予批准",  # the department's decision, as the termination reason says it
    "在办办件": "在办件",
}

#: traditional characters (those of the standard's captured text, and the commonest others)
TRADITIONAL = set(
    "來個僅價儀償優內備傳們動務區協員問單國圍執報場實寧審寫對導層崗幫廣張復愛態應據擺數時暫書"
    "會條業極構標樣機橫檔檢權歸殘決況溝滿漸濟為無營現環當發監確礎禮稱積筆簡簽紀納紙級終組結絡給"
    "統經綜維網線縣縱總績織繞繳繼續聯職臺與處術補見規視訂計訓記訪設許訴評詢話該認語誠說調請識護"
    "變負責費資質賬蹤轉辦達違遞適選邊鄉錄鎮鏈門開間關隊際隨難電項預領題類顯驗體點黨齊這們後過還"
    "從於號頭聲義問變種將學樣車長東寶齡殘")

PUNCT = [
    # an English clause after a Chinese word ("已超期: past the time limit", "撤并, merged")
    # is the English half of a bilingual message, and keeps English marks
    (re.compile(f"[{CJK}][,;:?!](?! ?[a-z`(])|[,;?!][{CJK}]"), "half-width mark beside Chinese"),
    (re.compile(f"[{CJK}](?:\\.\\.\\.|…(?!…))|(?:\\.\\.\\.|(?<!…)…)[{CJK}]"),
     "... or a single … beside Chinese (write ……)"),
    (re.compile(f"\"[{CJK}]|[{CJK}]\""), "straight quote beside Chinese (write “ ”)"),
    # a number is spaced from the words around it, as every count the pages fill in is
    # ("共 %(n)s 件"): "在1个工作日内" beside "在 5 个工作日内" on one page read as a slip.
    # A printed date (2026年3月5日, schemas.state.zh_date) is written as the forms write it.
    (re.compile(f"(?![年月])[{CJK}]\\d|\\d(?![年月日])[{CJK}]"), "a number not spaced from Chinese"),
]

#: English a Chinese page may show: codes, commands, file types, the product's name
ENGLISH_OK = {"PDF", "DB", "T", "Alt", "bangban", "Bangban", "node", "init", "HTTP", "JSON",
              "English", "chinesecalendar", "CSV", "Excel", "XLSX", "ID"}


def _templates() -> list[Path]:
    return sorted([*(ROOT / "node" / "templates").glob("*.html"),
                   *(ROOT / "hub" / "oversight" / "templates" / "oversight").glob("*.html")])


def _template_text(path: Path) -> str:
    """The template without its Jinja comments (``{# … #}``, notes for engineers)."""
    return re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)


def _quoted(block: re.Match[str]) -> str:
    """The string literals of a Jinja block: what it may print (``{{ '现值' if … }}``)."""
    return " ".join(q[1:-1] for q in re.findall(r"'[^'\n]*'|\"[^\"\n]*\"", block.group(0)))


def _visible(html: str, english: bool = False) -> str:
    """A template's text as a reader meets it: its words, the strings its Jinja blocks print
    and the attributes a reader sees (title, placeholder, aria-label), without the markup.
    With ``english``, the words only: Jinja blocks, an element marked ``lang="en"`` and a
    ``<code>`` command are left out (the last two are English on purpose)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    if english:
        html = re.sub(r"<(\w+)[^>]*\blang=\"en\"[^>]*>.*?</\1>|<code>.*?</code>", " ", html,
                      flags=re.S)
    # the English check reads the words only: a Jinja block's strings are mostly codes it maps
    html = re.sub(r"\{%.*?%\}|\{\{.*?\}\}", " " if english else _quoted, html, flags=re.S)
    html = re.sub(r"<[^>]*?\b(?:title|placeholder|aria-label)=\"([^\"]*)\"[^>]*>", r" \1 ", html)
    return re.sub(r"<[^>]*>|&\w+;", " ", html)


def _catalog() -> list[str]:
    po = ROOT / "node" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        return [str(m.id) for m in read_po(fh) if m.id]


def _literals(path: Path) -> list[tuple[int, str]]:
    """The Chinese string literals of ``path``, docstrings left out; an f-string's parts joined."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and n.body and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)}
    inner = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in n.values)
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs \
                and id(n) not in inner:
            text = n.value
        else:
            continue
        if re.search(f"[{CJK}]", text):
            out.append((n.lineno, str(text)))
    return out


def _sources() -> list[Path]:
    shown = [*(ROOT / "node").rglob("*.py"), *(ROOT / "hub").rglob("*.py"),
             ROOT / "schemas" / "vocab.py",
             ROOT / "schemas" / "case.py", ROOT / "ops" / "cli.py"]
    # update.py is the catalog's source, checked as the catalog
    return sorted(p for p in shown if p.name != "update.py")


def shown_texts() -> list[tuple[str, str]]:
    """(where, text) of every user-visible Chinese string the tree holds."""
    texts = [(f"catalog: {m}", m) for m in _catalog()]
    texts += [(str(p.relative_to(ROOT)), _visible(_template_text(p))) for p in _templates()]
    texts += [(f"{p.relative_to(ROOT)}:{line}", s) for p in _sources() for line, s in _literals(p)]
    return texts


def term_faults(texts: list[tuple[str, str]]) -> list[str]:
    return [f"{where}: {bad!r} -> {good!r}" for where, text in texts
            for bad, good in TERMS.items() if bad in text]


def punct_faults(texts: list[tuple[str, str]]) -> list[str]:
    out = []
    for where, text in texts:
        for line in text.splitlines():
            if not re.search(f"[{CJK}]", line):
                continue
            for pattern, rule in PUNCT:
                m = pattern.search(line)
                if m:
                    out.append(f"{where}: {rule}: …{line[max(0, m.start() - 12):m.end() + 12]}…")
    return out


def traditional_faults(texts: list[tuple[str, str]]) -> list[str]:
    return [f"{where}: {''.join(sorted(set(text) & TRADITIONAL))}" for where, text in texts
            if set(text) & TRADITIONAL]


def english_faults() -> list[str]:
    pages = [(f"catalog: {m}", re.sub(r"%\(\w+\)s", "", m)) for m in _catalog()]
    pages += [(str(p.relative_to(ROOT)), _visible(_template_text(p), english=True))
              for p in _templates()]
    out = []
    for where, text in pages:
        for line in text.splitlines():
            # "中文 / English" is the house's bilingual form (docs/CONVENTIONS.md, "Errors")
            chinese = re.split(r" / (?=[A-Za-z])", line)[0]
            words = set(re.findall(r"[A-Za-z][A-Za-z_]+", chinese)) - ENGLISH_OK
            if words and re.search(f"[{CJK}]", text):
                out.append(f"{where}: {sorted(words)}: {line.strip()[:80]}")
    return out


def test_one_term_per_thing() -> None:
    assert term_faults(shown_texts()) == []


def test_the_runbook_quotes_the_pages_terms() -> None:
    """docs/operations.md quotes what the clerk's page says ("平台的软件版本比本机旧"): an
    operator on the phone with a station searches it for the words the clerk reads out."""
    runbook = ROOT / "docs" / "operations.md"
    assert term_faults([(str(runbook), runbook.read_text(encoding="utf-8"))]) == []


def test_chinese_punctuation_in_chinese_text() -> None:
    assert punct_faults(shown_texts()) == []


def test_simplified_characters_only() -> None:
    assert traditional_faults(shown_texts()) == []


def test_no_english_word_in_the_chinese_ui() -> None:
    assert english_faults() == []


@pytest.mark.parametrize(("text", "faults"), [
    ("请告知枢纽管理员", 1), ("办理期限 2026年12月3日", 1), ("申请人（签字）", 1),
    ("与平台同步", 0), ("设备已吊销", 1),
])
def test_the_term_check_catches_the_old_words(text: str, faults: int) -> None:
    assert len(term_faults([("x", text)])) == faults


@pytest.mark.parametrize(("text", "faults"), [
    ("材料:M03", 1), ("已保存,请打印", 1), ("请稍候...", 1), ("类型选\"联系服务对象\"", 1),
    ("材料：M03", 0), ("file: 无法读取 / cannot read", 0), ("已保存，请打印", 0),
    ("请稍候……", 0), ("类型选“联系服务对象”", 0), ("需复核?", 1),
    ("须在1个工作日内答复", 1), ("须在 1 个工作日内答复", 0), ("2026年3月5日", 0),
])
def test_the_punctuation_check_catches_half_width_marks(text: str, faults: int) -> None:
    assert len(punct_faults([("x", text)])) == faults


def test_the_character_check_catches_traditional_characters() -> None:
    assert traditional_faults([("x", "幫辦代辦受理單")]) and not traditional_faults(
        [("x", "帮办代办受理单")])
