"""The numbers README.md and pretrained/README.md quote for a shipped model are its card's.

Each markdown table whose first column names a model in backticks and that has a "top-1" (or
"top-5") column is read row by row: a row that names a card of pretrained/ must quote that card's
top-1 (top-5) to two decimals, and the number of evaluation images in its "evaluated on" column; a
card evaluated on a split that also made choices (Imagenette's val) must say so in that row. A
changed card then fails here until the docs follow. Every other two-decimal figure in these two
files (NN.NN) must be a top-1 or top-5 of some card or run record, so that no number is quoted
without one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "README.md", ROOT / "pretrained" / "README.md")
DISCLOSURE = "also chose"  # the clause a row about a model chosen on its own evaluation split carries
FIGURE = re.compile(r"(?<![\d.,])(\d{2}\.\d{2})(?![\d.]| ?M\b)")  # not a parameter count (12.25 M)


def cards(folder: Path = ROOT / "pretrained") -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def tables(text: str) -> list[list[list[str]]]:
    """Markdown tables as lists of rows of cells (the header row first, the |---| row dropped)."""
    out, rows = [], []
    for line in text.splitlines() + [""]:
        if line.lstrip().startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                rows.append(cells)
        elif rows:
            out.append(rows)
            rows = []
    return out


def quoted(text: str) -> list[dict]:
    """Per table row that names a model in its first cell: the name, the line's figures by column."""
    found = []
    for table in tables(text):
        header = [h.lower() for h in table[0]]
        cols = {key: header.index(key) for key in ("top-1", "top-5", "evaluated on") if key in header}
        if "top-1" not in cols:
            continue
        for row in table[1:]:
            name = re.fullmatch(r"`([\w.-]+)`", row[0])
            if name and len(row) == len(header):
                found.append({"name": name.group(1), **{k: row[i] for k, i in cols.items()}})
    return found


def percent(cell: str) -> str:
    m = re.fullmatch(r"(\d{1,3}\.\d{2}) ?%", cell)
    if not m:
        raise ValueError(f"not a two-decimal percentage: {cell!r}")
    return m.group(1)


def mismatches(text: str, known: dict[str, dict]) -> list[str]:
    """What a document quotes for the cards in ``known`` that the cards do not say."""
    bad = []
    for q in quoted(text):
        card = known.get(q["name"])
        if card is None:
            bad.append(f"{q['name']}: quoted in a table, but pretrained/ has no card of that name")
            continue
        for col, key in (("top-1", "top1"), ("top-5", "top5")):
            if col in q and percent(q[col]) != f"{100 * card[key]:.2f}":
                bad.append(f"{q['name']}: {col} {q[col]!r}, the card says {100 * card[key]:.2f} %")
        where = q.get("evaluated on", "")
        if where:
            n = re.match(r"([\d,]+) ", where)
            if not n or int(n.group(1).replace(",", "")) != card["n_test"]:
                bad.append(f"{q['name']}: evaluated on {where!r}, the card says {card['n_test']} images")
            if card.get("recipe", {}).get("test_split") == "val" and DISCLOSURE not in where:
                bad.append(f"{q['name']}: the row does not say that val also made the choices ({DISCLOSURE!r})")
    return bad


def stray_figures(text: str, known: list[dict]) -> list[str]:
    """Two-decimal figures that are no card's or record's top-1 / top-5."""
    values = {f"{100 * c[k]:.2f}" for c in known for k in ("top1", "top5") if isinstance(c.get(k), float)}
    return sorted({f for f in FIGURE.findall(text) if f not in values})


def records() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((ROOT / "docs" / "runs").glob("*/*.json"))
            if p.name != "config.json"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_quoted_numbers_are_the_cards(doc):
    text, known = doc.read_text(), cards()
    assert quoted(text), f"{doc.name}: no table of shipped models found"
    assert mismatches(text, known) == []


def test_both_pages_list_the_same_models():
    named = [{q["name"] for q in quoted(doc.read_text())} for doc in DOCS]
    assert named[0] == named[1] and named[0] <= set(cards())


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_two_decimal_figure_has_a_record(doc):
    assert stray_figures(doc.read_text(), list(cards().values()) + records()) == []


CARD = {"top1": 0.806624, "top5": 0.973758, "n_test": 3925, "recipe": {"test_split": "val"}}
DOC = """
| model | what | top-1 | evaluated on |
|---|---|---|---|
| `m` | a model \\| with a pipe | {top1} | 3,925 val images{note} |
"""


def test_the_check_fails_on_doctored_text():
    """The parser and the comparison on made-up text: each kind of drift is caught."""
    known = {"m": CARD}
    good = DOC.format(top1="80.66 %", note=" (val also chose cycles)")
    assert mismatches(good, known) == [] and quoted(good)[0]["top-1"] == "80.66 %"
    assert "top-1 '80.67 %'" in mismatches(DOC.format(top1="80.67 %", note=" (val also chose cycles)"), known)[0]
    assert "does not say" in mismatches(DOC.format(top1="80.66 %", note=""), known)[0]
    assert "no card" in mismatches(good.replace("`m`", "`other`"), known)[0]
    assert "3925 images" in mismatches(good.replace("3,925", "3,924"), known)[0]
    with pytest.raises(ValueError):
        mismatches(DOC.format(top1="about 81 %", note=" (val also chose cycles)"), known)
    assert stray_figures("80.66 % and 79.82 against 1.92, 12.25 M and 24,459,018.25", [CARD]) == ["79.82"]
