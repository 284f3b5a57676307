"""``python -m demo.space build DIR``: write exactly what a Hugging Face Space runs.

The bundle holds app.py, core/ and demo/ (the files git keeps there, without caches and without this
package), the weights the app serves with their model cards, a README whose front matter configures
the Space, the Space's requirements.txt and a .gitattributes that routes every binary file through
LFS/Xet (the Hub refuses binary files stored otherwise). Nothing from docs/, bench/ or tests/.

Hardware (``--hardware``, Hugging Face's names):
  * ``zero-a10g`` (ZeroGPU, the one that free personal accounts can host): the Python and PyTorch
    versions pinned below are ones Hugging Face's ZeroGPU documentation lists as supported;
  * ``cpu-basic`` / ``cpu-upgrade``: PyTorch's CPU-only wheels (no CUDA packages), the project's
    own torch version.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from core.weights.store import card_path, resolve, weights_path
from demo.models.catalog import BASELINES, LSCAT

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CODE = ("app.py", "core", "demo")  # what the Space runs, besides the weights
SELF = "demo/space"  # this package: the Space does not need its own builder
MAX_BYTES = 10 * 2**20  # the bundle's size goal

# Hugging Face's hardware names -> the family whose requirements the bundle gets.
HARDWARE = {"zero-a10g": "zerogpu", "cpu-basic": "cpu", "cpu-upgrade": "cpu"}
DEFAULT_HARDWARE = "zero-a10g"
# From Hugging Face's ZeroGPU page (docs/hub/spaces-zerogpu.md, "Supported Versions": Gradio 4+, PyTorch
# 2.1.0 ... 2.8.0 in its full list, Python 3.10.13). Gradio's version is the project's (6.x is 4+).
ZEROGPU_PYTHON = "3.10.13"
ZEROGPU_TORCH = "2.8.0"
CPU_PYTHON = "3.11"  # the version the project is tested with (and bench/rehearse_space.py runs)
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# Not imported by the app (core.data imports torchvision only to read data sets for training).
NOT_SERVED = ("torchvision",)

# Every kind of binary file that could enter the bundle goes through LFS/Xet.
BINARY_PATTERNS = ("*.safetensors", "*.pt", "*.pth", "*.ckpt", "*.bin", "*.npy", "*.npz", "*.pkl", "*.onnx",
                   "*.png", "*.jpg", "*.jpeg", "*.gif", "*.webp", "*.bmp", "*.tif", "*.tiff", "*.ico",
                   "*.mp4", "*.webm", "*.wav", "*.mp3", "*.pdf", "*.zip", "*.gz", "*.tar", "*.xz")
# Python's caches (a run of the bundle writes them): never part of the bundle, never uploaded.
IGNORED = ("*.pyc", "*.pyo", "__pycache__/*", "*/__pycache__/*")
SHORT_DESCRIPTION = "Watch wavelet phases turn while moduli stay (ICLR 2022)"


class SpaceError(Exception):
    """Something the user can fix (a missing folder, a bad name, no token): printed without a traceback."""


@dataclass(frozen=True)
class Bundle:
    path: Path
    hardware: str
    files: tuple[str, ...]  # relative paths, sorted
    bytes: int
    weights: tuple[str, ...]


def served_weights() -> list[str]:
    """The pretrained entries the demo loads: for each model it offers, the first of its sources that is
    present (core.weights.resolve, as the demo's model store does)."""
    return [name for key in LSCAT + BASELINES if (name := resolve(key))]


def code_files(root: Path = ROOT) -> list[str]:
    """The files under app.py, core/ and demo/ that git keeps (tracked, or new and not ignored), less this
    package and Python caches; outside a git checkout, every such file on disk."""
    try:
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "--", *CODE], cwd=root,
                             capture_output=True, text=True, timeout=30, check=True).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        out = [p.relative_to(root).as_posix() for c in CODE for p in ([root / c] if (root / c).is_file()
                                                                       else (root / c).rglob("*"))]
    keep = []
    for rel in out:
        parts = rel.split("/")
        mine = rel == SELF or rel.startswith(SELF + "/")
        if not rel or mine or ignored(rel) or any(p.startswith(".") for p in parts):
            continue
        if (root / rel).is_file():
            keep.append(rel)
    return sorted(set(keep))


def project_requirements(root: Path = ROOT) -> dict[str, str]:
    """The project's runtime requirements.txt as {name: specifier line}, comments dropped."""
    reqs = {}
    for line in (root / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name = re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower()
            reqs[name] = line
    return reqs


def pinned(reqs: dict[str, str], name: str) -> str:
    """The version that ``name==X`` pins in the requirements."""
    m = re.fullmatch(rf"{re.escape(name)}==([\w.+]+)", reqs.get(name, ""))
    if not m:
        raise SpaceError(f"requirements.txt must pin {name} exactly ({name}==X), found {reqs.get(name)!r}")
    return m.group(1)


def family(hardware: str) -> str:
    if hardware not in HARDWARE:
        raise SpaceError(f"unknown hardware {hardware!r}: use one of {', '.join(HARDWARE)}")
    return HARDWARE[hardware]


def space_requirements(hardware: str, root: Path = ROOT) -> str:
    """The Space's requirements.txt: the project's runtime requirements with the torch that fits the hardware."""
    reqs = project_requirements(root)
    torch_version = pinned(reqs, "torch")
    rest = [line for name, line in reqs.items() if name not in ("torch", *NOT_SERVED)]
    head = [f"# Written by `python -m demo.space build --hardware {hardware}` from the project's requirements.txt."]
    if family(hardware) == "cpu":
        head += ["# PyTorch's CPU-only wheels: no CUDA packages to download on CPU hardware.",
                 f"--extra-index-url {CPU_INDEX}", f"torch=={torch_version}+cpu"]
    else:
        head += [f"# ZeroGPU: a PyTorch version its documentation lists (the project tests {torch_version}).",
                 f"torch=={ZEROGPU_TORCH}"]
    # `spaces`: ZeroGPU's decorator (a no-op elsewhere); Gradio's reloader on any Space (SYSTEM=spaces)
    # also imports it, and logs a traceback at start-up without it (bench/rehearse_space.py saw it).
    return "\n".join(head + ["spaces"] + rest) + "\n"


def space_readme(hardware: str, weights: list[str], root: Path = ROOT) -> str:
    python = ZEROGPU_PYTHON if family(hardware) == "zerogpu" else CPU_PYTHON
    listed = "\n".join(f"- `{w}`" for w in weights) or "- none: the LScat models run untrained"
    return (HERE / "space_readme.md").read_text().format(
        gradio=pinned(project_requirements(root), "gradio"), python=python, hardware=hardware,
        short=SHORT_DESCRIPTION, weights=listed)


def gitattributes() -> str:
    lines = ["# Every binary file goes through LFS/Xet: the Hub refuses binary files stored in git itself."]
    return "\n".join(lines + [f"{p} filter=lfs diff=lfs merge=lfs -text" for p in BINARY_PATTERNS]) + "\n"


def lfs_patterns(folder: Path) -> list[str]:
    """The patterns a folder's .gitattributes sends through LFS."""
    path = folder / ".gitattributes"
    lines = path.read_text().splitlines() if path.is_file() else []
    return [line.split()[0] for line in lines if "filter=lfs" in line and not line.startswith("#")]


def is_binary(path: Path) -> bool:
    """Git's rule: a NUL byte in the first 8000 bytes; also anything that is not UTF-8 text."""
    data = path.read_bytes()
    if b"\0" in data[:8000]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def ignored(rel: str) -> bool:
    return any(fnmatch.fnmatch(rel, p) for p in IGNORED)


def files_of(folder: Path) -> list[str]:
    """The bundle's files (relative paths), less Python's caches."""
    rels = (p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    return sorted(rel for rel in rels if not ignored(rel))


def problems(folder: Path) -> list[str]:
    """What stops ``folder`` from being pushed as a Space: size over the goal, a binary file that
    .gitattributes does not route through LFS, a missing file the Space needs."""
    found = [f"{name} is missing" for name in ("app.py", "README.md", "requirements.txt", ".gitattributes")
             if not (folder / name).is_file()]
    patterns = lfs_patterns(folder)
    for rel in files_of(folder):
        if is_binary(folder / rel) and not any(fnmatch.fnmatch(rel.rsplit("/", 1)[-1], p) for p in patterns):
            found.append(f"{rel} is binary and not routed through LFS by .gitattributes")
    size = sum((folder / rel).stat().st_size for rel in files_of(folder))
    if size > MAX_BYTES:
        found.append(f"the bundle is {size / 2**20:.1f} MB, over the {MAX_BYTES / 2**20:.0f} MB goal")
    return found


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


def build(dest: str | Path, hardware: str = DEFAULT_HARDWARE, root: Path = ROOT) -> Bundle:
    """Write the Space into ``dest`` (new or empty) and check it; raises SpaceError on a problem."""
    family(hardware)
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise SpaceError(f"{dest} exists and is not an empty folder: build into a new one")
    weights = served_weights()
    dest.mkdir(parents=True, exist_ok=True)
    for rel in code_files(root):
        _copy(root / rel, dest / rel)
    for name in weights:
        for src in (weights_path(name), card_path(name)):
            _copy(src, dest / "pretrained" / src.name)
    (dest / "README.md").write_text(space_readme(hardware, weights, root))
    (dest / "requirements.txt").write_text(space_requirements(hardware, root))
    (dest / ".gitattributes").write_text(gitattributes())
    found = problems(dest)
    if found:
        raise SpaceError(f"the bundle in {dest} is not fit to push: " + "; ".join(found))
    files = files_of(dest)
    return Bundle(dest, hardware, tuple(files), sum((dest / f).stat().st_size for f in files), tuple(weights))


def front_matter(folder: Path) -> dict[str, str]:
    """The README's front matter as flat ``key: value`` strings (all this project writes)."""
    path = Path(folder) / "README.md"
    text = path.read_text() if path.is_file() else ""
    m = re.match(r"---\n(.*?)\n---\n", text, re.S)
    pairs = (line.split(":", 1) for line in (m.group(1).splitlines() if m else []) if ":" in line)
    return {k.strip(): v.strip().strip('"') for k, v in pairs}
