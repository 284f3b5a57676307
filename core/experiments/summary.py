"""Numbers and figures of the experiment reports: mean +- standard deviation over seeds, the error
ratio of two rows, and figures written as HTML and PNG."""

from __future__ import annotations

import math
import sys
from pathlib import Path


def mean_std(values: list[float]) -> tuple[float, float]:
    m = sum(values) / len(values)
    s = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return m, s


def pm(values: list[float], digits: int = 2) -> str:
    """"m ± s" over seeds (just "m" for one)."""
    m, s = mean_std(values)
    return f"{m:.{digits}f} ± {s:.{digits}f}" if len(values) > 1 else f"{m:.{digits}f}"


def error_ratio(results: dict[str, list[dict]], num: str = "cst", den: str = "mod") -> list[float]:
    """Per seed run by both rows, error(num) / error(den)."""
    err = {lab: {r["config"]["seed"]: 100 * (1 - r["top1"]) for r in results.get(lab, [])} for lab in (num, den)}
    return [err[num][s] / err[den][s] for s in sorted(set(err[num]) & set(err[den])) if err[den][s] > 0]


def write_figure(fig, stem: Path) -> list[Path]:
    """HTML (plotly.js from its CDN, to keep the repository small) and, where kaleido finds a
    Chromium, PNG."""
    import os

    written = [stem.with_suffix(".html")]
    fig.write_html(written[0], include_plotlyjs="cdn")
    if "BROWSER_PATH" not in os.environ and Path("/usr/bin/chromium").exists():
        os.environ["BROWSER_PATH"] = "/usr/bin/chromium"
    try:
        fig.write_image(stem.with_suffix(".png"))
        written.append(stem.with_suffix(".png"))
    except Exception as e:  # kaleido missing, or no Chrome/Chromium for it
        print(f"note: PNG not written ({type(e).__name__}: {str(e).splitlines()[0][:120]}); HTML only",
              file=sys.stderr)
    return written
