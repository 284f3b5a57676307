"""demo.space: the bundle a Hugging Face Space runs (contents, size, LFS routing, front matter,
requirements, imports from the bundle alone) and the push, with the Hub client replaced by a recorder."""

import ast
import fnmatch
import hashlib
import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from core.weights.store import resolve, weights_path
from demo.models.catalog import BASELINES, LSCAT
from demo.space import build as space
from demo.space.__main__ import main
from demo.space.push import push


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    root = tmp_path_factory.mktemp("space")
    return {hw: space.build(root / hw, hw) for hw in ("zero-a10g", "cpu-basic")}


@pytest.fixture
def cpu(bundles):
    return bundles["cpu-basic"]


def test_bundle_holds_exactly_the_space(cpu):
    files = set(cpu.files)
    weights = {resolve(k) for k in LSCAT + BASELINES} - {None}
    assert len(weights) == 4 and set(cpu.weights) == weights
    want = {f"pretrained/{w}.{ext}" for w in weights for ext in ("safetensors", "json")}
    assert {f for f in files if f.startswith("pretrained/")} == want
    assert {f.split("/")[0] for f in files} == {"app.py", "core", "demo", "pretrained", "README.md",
                                               "requirements.txt", ".gitattributes"}
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc") or f.startswith("demo/space")]
    assert {"core/__init__.py", "demo/__init__.py", "demo/examples/cat.jpg"} <= files
    for w in weights:  # the very files the project ships
        got = (cpu.path / "pretrained" / f"{w}.safetensors").read_bytes()
        assert hashlib.sha256(got).digest() == hashlib.sha256(weights_path(w).read_bytes()).digest()


def test_bundle_is_small_and_every_binary_goes_through_lfs(bundles):
    for b in bundles.values():
        assert b.bytes <= space.MAX_BYTES, b.bytes
        assert space.problems(b.path) == []
        binaries = [f for f in b.files if space.is_binary(b.path / f)]
        assert any(f.endswith(".safetensors") for f in binaries) and any(f.endswith(".jpg") for f in binaries)


def test_problems_catches_an_unrouted_binary_and_an_oversized_bundle(tmp_path):
    b = space.build(tmp_path / "b", "cpu-basic")
    (b.path / "core" / "blob.dat").write_bytes(b"\x00\x01\x02" * 10)
    (b.path / "notes.txt").write_bytes("café".encode("latin-1"))  # not UTF-8: binary to git's eyes
    found = space.problems(b.path)
    assert any("core/blob.dat" in p for p in found) and any("notes.txt" in p for p in found), found
    (b.path / "core" / "blob.dat").unlink()
    (b.path / "notes.txt").unlink()
    (b.path / "pretrained" / "big.safetensors").write_bytes(b"\0" * (space.MAX_BYTES + 1))
    assert any("over the 10 MB goal" in p for p in space.problems(b.path))
    (b.path / ".gitattributes").unlink()
    assert any(".gitattributes is missing" in p for p in space.problems(b.path))


def test_readme_front_matter(bundles):
    reqs = space.project_requirements()
    for hw, b in bundles.items():
        text = (b.path / "README.md").read_text()
        meta = yaml.safe_load(text.split("---\n")[1])
        assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py"
        assert reqs["gradio"] == f"gradio=={meta['sdk_version']}"
        assert f"gradio=={meta['sdk_version']}" in (b.path / "requirements.txt").read_text().splitlines()
        assert meta["suggested_hardware"] == hw and 0 < len(meta["short_description"]) <= 60
        assert str(meta["python_version"]) == (space.ZEROGPU_PYTHON if hw == "zero-a10g" else space.CPU_PYTHON)
        assert all(w in text for w in b.weights)


def test_requirements_per_hardware(bundles):
    torch_version = space.pinned(space.project_requirements(), "torch")
    cpu = (bundles["cpu-basic"].path / "requirements.txt").read_text().splitlines()
    assert f"--extra-index-url {space.CPU_INDEX}" in cpu and f"torch=={torch_version}+cpu" in cpu
    zero = (bundles["zero-a10g"].path / "requirements.txt").read_text().splitlines()
    assert f"torch=={space.ZEROGPU_TORCH}" in zero and "spaces" in zero and "spaces" in cpu
    assert not [line for line in zero if "extra-index-url" in line or "+cpu" in line]
    for lines in (cpu, zero):
        assert not [line for line in lines if line.startswith(("torchvision", "nvidia"))]
        assert sum(line.startswith("torch") for line in lines) == 1


def test_bundle_app_imports_from_the_bundle_alone(cpu):
    """A clean interpreter in the bundle: app, core and demo come from it, every offered model loads its
    trained weights from its pretrained/, and the Blocks build (no server)."""
    code = textwrap.dedent("""
        import os, app, core, demo, core.weights.store as p
        from demo.models.catalog import offered
        here = os.getcwd()
        assert all(m.__file__.startswith(here) for m in (app, core, demo)), (app.__file__, core.__file__)
        assert str(p.PRETRAINED_DIR).startswith(here), p.PRETRAINED_DIR
        a, blocks = app.create_app()
        loaded = [(k, a.store.get(k).weights) for k in offered()]
        assert all(w for _, w in loaded), loaded
        print("OK", loaded)
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PHASE_COLLAPSE"))}
    out = subprocess.run([sys.executable, "-s", "-E", "-c", code], cwd=cpu.path, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0 and "OK" in out.stdout, out.stdout + out.stderr
    assert len(out.stdout.split("_small")) == 5, out.stdout  # the four served weights


def test_build_refuses_a_folder_in_use_and_unknown_hardware(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    assert main(["build", str(tmp_path / "x")]) == 2
    assert "not an empty folder" in capsys.readouterr().err
    with pytest.raises(space.SpaceError, match="unknown hardware"):
        space.build(tmp_path / "y", "t4-small")
    assert (tmp_path / "x" / "keep.txt").read_text() == "mine"


class Recorder:
    """Stands in for huggingface_hub.HfApi: records what would be sent."""

    def __init__(self, fail=None):
        self.calls, self.fail = [], fail

    def create_repo(self, repo_id, **kw):
        self.calls.append(("create_repo", repo_id, kw))
        if self.fail:
            raise self.fail

    def upload_folder(self, **kw):
        root = Path(kw["folder_path"])
        rels = (p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        files = sorted(r for r in rels if not any(fnmatch.fnmatch(r, i) for i in kw["ignore_patterns"]))
        self.calls.append(("upload_folder", kw["repo_id"], {**kw, "files": files}))


def test_push_sends_one_commit_with_the_whole_bundle(bundles, capsys):
    b = bundles["zero-a10g"]
    rec = Recorder()
    sent = push(b.path, "someone/phase-collapse", private=True, api=rec)
    assert [c[0] for c in rec.calls] == ["create_repo", "upload_folder"]
    _, repo, kw = rec.calls[0]
    assert repo == "someone/phase-collapse"
    assert kw == {"repo_type": "space", "space_sdk": "gradio", "space_hardware": "zero-a10g", "private": True,
                  "exist_ok": True}
    _, _, up = rec.calls[1]
    assert up["repo_type"] == "space" and up["delete_patterns"] == "*" and up["files"] == list(b.files)
    assert (sent.files, sent.bytes, sent.url) == (len(b.files), b.bytes,
                                                  "https://huggingface.co/spaces/someone/phase-collapse")
    out = capsys.readouterr().out
    assert f"sent {len(b.files)} files, {b.bytes} bytes" in out and sent.url in out


def test_push_hardware_must_fit_the_bundle(bundles):
    rec = Recorder()
    assert push(bundles["cpu-basic"].path, "a/b", "cpu-upgrade", api=rec).hardware == "cpu-upgrade"
    with pytest.raises(space.SpaceError, match="rebuild it with --hardware zero-a10g"):
        push(bundles["cpu-basic"].path, "a/b", "zero-a10g", api=Recorder())


@pytest.mark.parametrize("args, says", [
    (["push", "/nonexistent/bundle", "a/b"], "is not a folder"),
    (["push", "{cpu}", "no-owner"], "OWNER/NAME"),
    (["push", "{cpu}", "a/b/c"], "OWNER/NAME"),
    (["push", "{cpu}", "me/bad name"], "not a valid Space name"),
    (["push", "{cpu}", "me/space"], "no Hugging Face token"),
])
def test_push_errors_are_clear_messages(args, says, cpu, monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # no stored login either
    assert main([a.format(cpu=cpu.path) for a in args]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err, err


def test_push_of_a_folder_that_is_no_bundle(tmp_path, capsys):
    (tmp_path / "app.py").write_text("print('hi')\n")
    assert main(["push", str(tmp_path), "a/b"]) == 2
    assert "not a bundle" in capsys.readouterr().err


def test_push_reports_a_refusal_from_the_hub(cpu):
    import httpx
    from huggingface_hub.errors import HfHubHTTPError

    response = httpx.Response(401, request=httpx.Request("POST", "https://huggingface.co/api/repos/create"))
    with pytest.raises(space.SpaceError, match="the Hub refused: 401"):
        push(cpu.path, "a/b", api=Recorder(fail=HfHubHTTPError("401 Unauthorized: invalid token",
                                                              response=response)))


def test_the_documented_commands_parse():
    """Every `python -m demo.space` line of docs/HOSTING.md is accepted by the command's parser."""
    from demo.space.__main__ import parser

    doc = (Path(__file__).resolve().parents[1] / "docs" / "HOSTING.md").read_text()
    lines = [line.split("#")[0].replace("[--private]", "--private") for line in doc.splitlines()
             if line.startswith("python -m demo.space ")]
    assert len(lines) >= 3, lines
    for line in lines:
        args = parser().parse_args(shlex.split(line)[3:])
        assert args.command in ("build", "push") and args.dir.startswith("/tmp/"), line


def test_zerogpu_bundle_is_python_3_10_syntax(bundles):
    """ZeroGPU runs Python 3.10.13 (space.ZEROGPU_PYTHON): every module of the bundle parses as 3.10 (the
    project's own interpreter is newer, so a 3.11-only construct would otherwise pass unnoticed)."""
    assert space.ZEROGPU_PYTHON.startswith("3.10")
    files = sorted(bundles["zero-a10g"].path.rglob("*.py"))
    assert len(files) > 40
    for f in files:
        ast.parse(f.read_text(), str(f), feature_version=(3, 10))
    with pytest.raises(SyntaxError):  # the check can fail: a 3.11 except* group
        ast.parse("try:\n    pass\nexcept* ValueError:\n    pass\n", feature_version=(3, 10))
