"""core.provenance: the header every measurement carries, and the rule that every benchmark uses it."""

import json
import re
import subprocess
from pathlib import Path

import pytest

from core import provenance as P

ROOT = Path(__file__).resolve().parents[1]


def test_measured_on_names_machine_torch_date_commit_and_load():
    head = P.measured_on()
    assert set(head) == {"date", "cpu", "cores", "gpu", "threads", "torch", "commit", "load_before"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", head["date"])
    assert head["cpu"] and head["cpu"] != "unknown" and head["cores"] >= 1 and head["threads"] >= 1
    assert len(head["load_before"]) == 3
    json.dumps(head)  # a JSON line


def test_commit_is_the_checkout_and_says_dirty(tmp_path, monkeypatch):
    if subprocess.run(["git", "--version"], capture_output=True).returncode != 0:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    (repo / "core").mkdir(parents=True)
    (repo / "core" / "a.py").write_text("x = 1\n")
    (repo / "docs.md").write_text("text\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    sha = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    monkeypatch.setattr(P, "ROOT", repo)
    assert P.commit() == sha and P.commit(short=True) == sha[:len(P.commit(short=True))]
    (repo / "docs.md").write_text("changed\n")  # outside the paths the number depends on
    assert P.commit() == sha
    (repo / "core" / "a.py").write_text("x = 2\n")
    assert P.commit() == sha + "-dirty" and P.commit(("docs.md",)) == sha + "-dirty"


def test_commit_outside_a_checkout_is_the_environments(tmp_path, monkeypatch):
    monkeypatch.setattr(P, "ROOT", tmp_path)  # no .git here (as on the device, which gets a copy of the tree)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.setenv("PHASE_COLLAPSE_COMMIT", "abc1234")
    assert P.commit() == "abc1234"
    monkeypatch.delenv("PHASE_COLLAPSE_COMMIT")
    assert P.commit() == "unknown"


def test_append_jsonl_appends_lines_and_none_writes_nothing(tmp_path):
    path = tmp_path / "deep" / "out.jsonl"
    P.append_jsonl(path, {"a": 1})
    P.append_jsonl(path, {"b": [1, 2]})
    P.append_jsonl(None, {"c": 3})
    assert [json.loads(x) for x in path.read_text().splitlines()] == [{"a": 1}, {"b": [1, 2]}]


def provenance_calls(text: str) -> set[str]:
    """The core.provenance functions a script imports and calls (its code, not its comments or strings),
    or "header" where it takes bench.bench_speed's header, which is built on core.provenance."""
    import ast

    tree = ast.parse(text)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "core.provenance":
            imported |= {a.asname or a.name for a in node.names}
        if isinstance(node, ast.ImportFrom) and node.module == "bench.bench_speed":
            imported |= {a.asname or a.name for a in node.names if a.name == "header"}
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return imported & called & {"measured_on", "append_jsonl", "header"}


def test_the_provenance_check_can_fail():
    assert provenance_calls("# from core.provenance import measured_on\nx = 'measured_on()'\n") == set()
    assert provenance_calls("from core.provenance import measured_on\n") == set()  # imported, never called
    assert provenance_calls("from core.provenance import measured_on\nrow = measured_on()\n") == {"measured_on"}


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "bench").glob("*.py") if p.name != "__init__.py"))
def test_every_benchmark_records_where_it_ran_through_provenance(script):
    """Each benchmark gets its header and its JSON lines from core.provenance, not from a copy of its own."""
    text = (ROOT / "bench" / script).read_text()
    assert provenance_calls(text), script
    assert "getloadavg" not in text and '"rev-parse"' not in text, script
