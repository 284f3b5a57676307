"""Reproduce the paper's comparisons in one command (SPEC §5-6): ``python -m core.experiments TABLE``.

    python -m core.experiments list                                   # the rows and their commands
    python -m core.experiments table1 --cifar10 ROOT --seeds 0 1 2    # Scat, LScat, LScat+skip, ResNet-18
    python -m core.experiments table2 --cifar10 ROOT                  # LScat+skip with mod, cst, ms, mc, tanh
    python -m core.experiments table3 --imagenette ROOT               # bias-free ResNet-18, 5 non-linearities
    python -m core.experiments layers --cifar10 ROOT                  # class-mean separation by block, mod vs cst
    python -m core.experiments report                                 # rebuild docs/experiments from results

Every row of a table is trained with one fixed short recipe, the same for all rows of that table
(``SHORT`` below: the budgeted recipe of ``core.recipes`` with a fixed number of epochs, so that no
row gets more steps than another). Each run lives in ``--out/<table>/<row>/seed<k>/`` (config,
per-epoch log, checkpoint, final metrics: ``core.train``); a run whose ``final.json`` exists is
skipped, and an interrupted one resumes from its checkpoint. Its log and final metrics (not the
checkpoint) are copied to ``docs/experiments/runs/`` so that they can be committed.

The report (``docs/experiments/<table>.md``, ``<table>.html`` and ``<table>.png``) puts the
paper's errors (SPEC §6) next to ours: final-epoch test error, mean ± standard deviation over the
seeds that have run. No epoch is picked on the test set.

The ``layers`` experiment loads the ``mod`` and ``cst`` LScat+skip runs of table 2 (seed 0) and
measures, for every block, the within/between-class variance and the nearest-class-mean accuracy
of its output (``core.separation``): the slides' claim that the network "moves spatial information
into channels and increases linear separation", and that phase collapse is what separates means.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "experiments"


@dataclass(frozen=True)
class Row:
    label: str
    overrides: dict
    paper_error: float | None = None  # SPEC §6, CIFAR-10 test error %


@dataclass(frozen=True)
class Table:
    title: str
    dataset: str  # which --data option feeds it
    recipe: str  # the short recipe's base (core.recipes)
    rows: tuple[Row, ...]
    note: str = ""
    extra: dict = field(default_factory=dict)


# One fixed short recipe per data set: the base recipe with a fixed epoch count (no wall-time
# budget, so that every row gets the same number of steps). 15 CIFAR epochs of LScat+skip are
# about 3 minutes of one H100 at the expected throughput; calibrate with --epochs.
SHORT = {"cifar10": {"epochs": 15, "budget_s": None}, "imagenette": {"epochs": 15, "budget_s": None}}

TABLES: dict[str, Table] = {
    "table1": Table(
        "Table 1: Scat, LScat, LScat+skip and ResNet-18 on CIFAR-10", "cifar10", "cifar10_lscat_skip",
        (Row("Scat (P fixed)", {"model": "scat_cifar10"}, 27.7),
         Row("LScat", {"model": "lscat_cifar10"}, 11.7),
         Row("LScat+skip", {"model": "lscat_skip_cifar10"}, 7.7),
         Row("ResNet-18", {"model": "resnet18_cifar10"}, 8.8)),
        note="The paper's ResNet figure is a ResNet-20 (8.8 %); ours is the standard CIFAR ResNet-18."),
    "table2": Table(
        "Table 2: LScat+skip with phase collapse (mod) or phase-preserving non-linearities, CIFAR-10", "cifar10",
        "cifar10_lscat_skip",
        (Row("mod", {"model": "lscat_skip_cifar10", "nonlinearity": "mod"}, 7.7),
         Row("cst", {"model": "lscat_skip_cifar10", "nonlinearity": "cst"}, 22.5),
         Row("ms", {"model": "lscat_skip_cifar10", "nonlinearity": "ms"}),
         Row("mc", {"model": "lscat_skip_cifar10", "nonlinearity": "mc"}),
         Row("tanh", {"model": "lscat_skip_cifar10", "nonlinearity": "tanh"})),
        note="The paper gives CIFAR-10 numbers for mod and cst only; ms, mc and tanh are its other "
             "phase-preserving non-linearities."),
    "table3": Table(
        "Table 3: bias-free ResNet-18 with each non-linearity, Imagenette (160 px)", "imagenette",
        "imagenette_resnet18",
        tuple(Row(nl, {"model": "resnet18_biasfree", "nonlinearity": nl, "build": {"num_classes": 10}})
              for nl in ("relu", "abs", "thresh", "tanh", "pow")),
        note="The paper ran this table on ImageNet and reports that soft-thresholding (thresh) considerably "
             "degrades accuracy while the absolute value keeps it high; our spec has no numbers for it. "
             "We use Imagenette (10 ImageNet classes at 160 px) to fit the GPU budget."),
}
LAYERS_SOURCE = ("table2", ("mod", "cst"))

# A tiny, CPU-sized variant of every run, for tests and for checking a setup (--smoke).
SMOKE = {"epochs": 1, "limit_train": 200, "limit_test": 100, "batch_size": 50, "eval_batch_size": 50,
         "bf16": False, "channels_last": False, "compile": False, "workers": 2, "warmup_epochs": 0.2,
         "final_shifts": [1], "check_every": 5}
SMOKE_WIDTHS = {"cifar10": [4] * 8, "imagenette": [4] * 11}


class ExperimentError(RuntimeError):
    """Missing data option, unknown table or row, unreadable results (one-line message)."""


def slug(label: str) -> str:
    """Row label -> folder / command-line name: "Scat (P fixed)" -> "scat_p_fixed"."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def run_config(table: Table, row: Row, seed: int, data: str, epochs: int | None, smoke: bool, device: str | None):
    from core.recipes import make_config

    over = dict(SHORT[table.dataset])
    over.update(row.overrides)
    if epochs:
        over["epochs"] = epochs
    if smoke:
        over.update(SMOKE)
        build = dict(over.get("build", {}))
        if over["model"].startswith(("lscat", "scat")):
            build["widths"] = SMOKE_WIDTHS[table.dataset]
        if table.dataset == "imagenette":
            over["aug"] = {"kind": "resized_crop_flip", "size": 32, "scale": [0.25, 1.0], "ratio": [0.75, 4 / 3]}
            over["store_size"] = over["test_size"] = 48
            if over["model"].startswith("lscat"):
                build["input_size"] = 48
        over["build"] = build
    if device:
        over["device"] = device
    return make_config(table.recipe, seed=seed, data=data, **over)


def run_dir(out: Path, table: str, row: Row, seed: int) -> Path:
    return out / table / slug(row.label) / f"seed{seed}"


def run_table(name: str, data: str, seeds: list[int], out: Path, docs: Path, epochs: int | None = None,
              rows: list[str] | None = None, smoke: bool = False, device: str | None = None) -> list[dict]:
    """Train every (row, seed) not done yet; returns their final metrics."""
    from core.train import train

    table = TABLES[name]
    chosen = [r for r in table.rows if rows is None or r.label in rows or slug(r.label) in rows]
    if rows is not None and len(chosen) != len(set(rows)):
        raise ExperimentError(f"unknown row(s) in {rows}; {name} has {', '.join(r.label for r in table.rows)}")
    results = []
    for row in chosen:
        for seed in seeds:
            d = run_dir(out, name, row, seed)
            done = (d / "final.json").is_file()
            print(f"[{name}] {row.label} seed {seed}: {'done, skipped' if done else 'training'} ({d})", flush=True)
            cfg = run_config(table, row, seed, data, epochs, smoke, device)
            t = time.time()
            final = train(cfg, d, progress=not smoke, verbose=not smoke,
                          command=" ".join(["python -m core.experiments"] + sys.argv[1:]))
            if not done:
                print(f"[{name}] {row.label} seed {seed}: top-1 {final['top1']:.4f} in {time.time() - t:.0f} s",
                      flush=True)
            keep = docs / "runs" / name / slug(row.label) / f"seed{seed}"
            keep.mkdir(parents=True, exist_ok=True)
            for f in ("log.jsonl", "final.json", "config.json"):
                if (d / f).is_file():
                    shutil.copyfile(d / f, keep / f)
            results.append({"row": row.label, "seed": seed, **final})
    return results


# -- report ----------------------------------------------------------------------------------


def collect(name: str, docs: Path) -> dict[str, list[dict]]:
    """Per row label, the final metrics of the seeds kept in docs/experiments/runs."""
    table = TABLES[name]
    out = {}
    for row in table.rows:
        finals = []
        for f in sorted((docs / "runs" / name / slug(row.label)).glob("seed*/final.json")):
            try:
                finals.append(json.loads(f.read_text()))
            except (OSError, json.JSONDecodeError) as e:
                raise ExperimentError(f"cannot read {f}: {e}") from None
        out[row.label] = finals
    return out


def mean_std(values: list[float]) -> tuple[float, float]:
    m = sum(values) / len(values)
    s = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return m, s


def table_markdown(name: str, results: dict[str, list[dict]]) -> str:
    table = TABLES[name]
    lines = [f"# {table.title}", ""]
    any_run = next((r for rs in results.values() for r in rs), None)
    if any_run:
        cfg, env = any_run["config"], any_run.get("env", {})
        lines += [f"Data: {any_run.get('data', table.dataset)}. Recipe `{cfg['name']}` with {cfg['epochs']} epochs, "
                  f"batch {cfg['batch_size']}, the same for every row. Measured on {env.get('device', '?')}, "
                  f"torch {env.get('torch', '?')}, {env.get('date', '?')}. Error = 100 − final-epoch test top-1 "
                  "(no epoch picked on the test set); mean ± std over seeds.", ""]
    else:
        lines += ["No run has finished yet: see `python -m core.experiments list` for the commands.", ""]
    lines += ["| row | paper error % | our error % | seeds | shift consistency (circular, 2 px) | img/s | wall s |",
              "|---|---|---|---|---|---|---|"]
    for row in table.rows:
        rs = results.get(row.label, [])
        paper = f"{row.paper_error:.1f}" if row.paper_error is not None else "–"
        if rs:
            m, s = mean_std([100 * (1 - r["top1"]) for r in rs])
            sc = [r.get("shift_consistency", {}).get("circular", {}).get("2") for r in rs]
            sc = [v for v in sc if v is not None]
            sc_txt = f"{mean_std(sc)[0]:.3f}" if sc else "–"
            ours = f"{m:.2f} ± {s:.2f}" if len(rs) > 1 else f"{m:.2f}"
            lines.append(f"| {row.label} | {paper} | {ours} | {len(rs)} | {sc_txt} | "
                         f"{mean_std([r['train_img_s_median'] for r in rs])[0]:,.0f} | "
                         f"{mean_std([r['wall_s'] for r in rs])[0]:.0f} |")
        else:
            lines.append(f"| {row.label} | {paper} | not run yet | 0 | – | – | – |")
    if table.note:
        lines += ["", table.note]
    lines += ["", "Data note: CIFAR-10 here is a JPEG copy (quality 75), so absolute errors are not directly "
              "comparable with the paper's; the comparisons between rows are. Per-run logs: "
              f"`docs/experiments/runs/{name}/`.", ""]
    return "\n".join(lines)


def table_figure(name: str, results: dict[str, list[dict]]):
    import plotly.graph_objects as go

    table = TABLES[name]
    labels = [r.label for r in table.rows]
    ours, err = [], []
    for lab in labels:
        rs = results.get(lab, [])
        m, s = mean_std([100 * (1 - r["top1"]) for r in rs]) if rs else (None, 0)
        ours.append(m)
        err.append(s)
    fig = go.Figure()
    fig.add_bar(name="paper (SPEC §6)", x=labels, y=[r.paper_error for r in table.rows], marker_color="#9aa5b1")
    fig.add_bar(name="ours (mean ± std over seeds)", x=labels, y=ours, error_y={"type": "data", "array": err},
                marker_color="#1f5fa8")
    fig.update_layout(title=table.title, yaxis_title="test error (%)", barmode="group", template="plotly_white",
                      width=900, height=480)
    return fig


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


def report(docs: Path, names=None) -> list[Path]:
    docs.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names or TABLES:
        res = collect(name, docs)
        md = docs / f"{name}.md"
        md.write_text(table_markdown(name, res))
        written.append(md)
        if any(res.values()):
            written += write_figure(table_figure(name, res), docs / name)
    if (docs / "layers.json").is_file():
        written += layers_report(docs)
    return written


# -- per-layer evidence ------------------------------------------------------------------------


def run_layers(data: str, out: Path, docs: Path, fit_images: int = 10_000, device: str | None = None) -> Path:
    """Separation by block for the mod and cst LScat+skip runs of table 2 (seed 0)."""
    from core import data as D
    from core.cli import pick_device, write_atomic
    from core.separation import separation_by_block
    from core.train import TrainError, load_trained

    src, labels = LAYERS_SOURCE
    table = TABLES[src]
    rows = {r.label: r for r in table.rows}
    dev = pick_device(device or "auto")
    result = {"source": f"{src} rows {', '.join(labels)}, seed 0", "fit_images": fit_images, "blocks": {}}
    for lab in labels:
        run = run_dir(out, src, rows[lab], 0)
        if not (run / "checkpoint.pt").is_file():
            raise ExperimentError(f"{run / 'checkpoint.pt'} is missing: run "
                                  f"`python -m core.experiments {src} --rows {lab}` first")
        try:
            model, cfg = load_trained(run, dev)
        except TrainError as e:
            raise ExperimentError(str(e)) from None
        size = cfg["store_size"]
        tr = D.open_dataset(cfg["dataset"], data, cfg["train_split"])
        te = D.open_dataset(cfg["dataset"], data, cfg["test_split"])
        xtr, ytr = D.decode(tr, size, min(fit_images, cfg["limit_train"] or fit_images), progress=True)
        xte, yte = D.decode(te, size, cfg["limit_test"], progress=True)

        def batches(x, y):
            for xb, yb in D.tensor_batches(x, y, 250):
                yield D.normalize_uint8(xb.to(dev)), yb

        result["blocks"][lab] = separation_by_block(model, batches(xtr, ytr), batches(xte, yte),
                                                    num_classes=D.NUM_CLASSES["cifar10"], device=dev)
        result.setdefault("test_top1", {})[lab] = json.loads((run / "final.json").read_text())["top1"]
    path = docs / "layers.json"
    docs.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(result, indent=2) + "\n")
    return path


def layers_report(docs: Path) -> list[Path]:
    from plotly.subplots import make_subplots

    res = json.loads((docs / "layers.json").read_text())
    colors = {"mod": "#1f5fa8", "cst": "#e07b1a"}
    fig = make_subplots(rows=1, cols=2, subplot_titles=("nearest-class-mean accuracy (test)",
                                                        "between / within-class variance (train)"))
    for lab, blocks in res["blocks"].items():
        x = [b["block"] for b in blocks]
        fig.add_scatter(x=x, y=[b["ncm_accuracy"] for b in blocks], name=lab, line_color=colors.get(lab),
                        row=1, col=1)
        fig.add_scatter(x=x, y=[b["ratio"] for b in blocks], name=lab, line_color=colors.get(lab),
                        showlegend=False, row=1, col=2)
    fig.update_xaxes(title_text="block")
    fig.update_yaxes(title_text="accuracy", row=1, col=1)
    fig.update_yaxes(title_text="ratio", type="log", row=1, col=2)
    fig.update_layout(title="Class-mean separation by block: LScat+skip with mod vs cst (CIFAR-10)",
                      template="plotly_white", width=1000, height=430)
    lines = ["# Per-layer evidence: class-mean separation, mod vs cst", "",
             f"Source: {res['source']}; class means and variances on {res['fit_images']:,} training images, "
             "nearest-class-mean accuracy on the test set. Features: each block's whole output map.", "",
             "| block | " + " | ".join(f"NCM {k} | B/W {k}" for k in res["blocks"]) + " |",
             "|---|" + "---|---|" * len(res["blocks"])]
    n = len(next(iter(res["blocks"].values())))
    for j in range(n):
        cells = []
        for blocks in res["blocks"].values():
            cells += [f"{blocks[j]['ncm_accuracy']:.3f}", f"{blocks[j]['ratio']:.3f}"]
        lines.append(f"| {j} | " + " | ".join(cells) + " |")
    if "test_top1" in res:
        lines += ["", "Final test top-1 of the two networks: " +
                  ", ".join(f"{k} {v:.4f}" for k, v in res["test_top1"].items()) + "."]
    md = docs / "layers.md"
    md.write_text("\n".join(lines) + "\n")
    return [md] + write_figure(fig, docs / "layers")


# -- command line ------------------------------------------------------------------------------


def list_runs(seeds: list[int]) -> str:
    out = []
    for name, table in TABLES.items():
        opt = "--cifar10" if table.dataset == "cifar10" else "--imagenette"
        out.append(f"{name}: {table.title}")
        for row in table.rows:
            out.append(f"  python -m core.experiments {name} {opt} ROOT --rows {slug(row.label)} "
                       f"--seeds {' '.join(map(str, seeds))}")
    out.append("layers: class-mean separation by block (needs table2's mod and cst, seed 0)")
    out.append("  python -m core.experiments layers --cifar10 ROOT")
    return "\n".join(out)


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m core.experiments", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=[*TABLES, "layers", "all", "report", "list"], help="what to run")
    p.add_argument("--cifar10", help="CIFAR-10 root (torchvision format or the JPEG ImageFolder copy)")
    p.add_argument("--imagenette", help="Imagenette root (holding imagenette2-160/)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds per row (default: 0; use 0 1 2 for ±)")
    p.add_argument("--rows", nargs="+", help="only these rows (labels or their slugs, as in `list`)")
    p.add_argument("--epochs", type=int,
                   help=f"override the short recipe's epochs (default: {SHORT['cifar10']['epochs']})")
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "experiments", help="run folders (default: %(default)s)")
    p.add_argument("--docs", type=Path, default=DOCS, help="report folder (default: %(default)s)")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    p.add_argument("--fit-images", type=int, default=10_000, help="layers: training images for class means")
    p.add_argument("--smoke", action="store_true", help="tiny CPU-sized runs to check a setup (not results)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from core.train import TrainError, TrainingDiverged

    try:
        if args.what == "list":
            print(list_runs(args.seeds))
            return 0
        names = list(TABLES) if args.what == "all" else [args.what] if args.what in TABLES else []
        for name in names:
            root = getattr(args, TABLES[name].dataset)
            if not root:
                raise ExperimentError(f"{name} needs --{TABLES[name].dataset} ROOT")
            run_table(name, root, args.seeds, args.out, args.docs, args.epochs, args.rows, args.smoke, args.device)
        if args.what in ("layers", "all"):
            if not args.cifar10:
                raise ExperimentError("layers needs --cifar10 ROOT")
            run_layers(args.cifar10, args.out, args.docs, args.fit_images, args.device)
        for path in report(args.docs, names or None):
            print(f"wrote {path}")
        return 0
    except (ExperimentError, TrainError, TrainingDiverged) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
