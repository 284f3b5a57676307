"""Reproduce the paper's comparisons in one command (SPEC §5-6): ``python -m core.experiments TABLE``.

    python -m core.experiments list                                   # the rows and their commands
    python -m core.experiments table1 --cifar10 ROOT --seeds 0 1 2    # Scat, LScat, LScat+skip, ResNet-18
    python -m core.experiments table2 --cifar10 ROOT                  # LScat+skip with mod, cst, ms, mc, tanh
    python -m core.experiments table3 --imagenette ROOT               # bias-free ResNet-18, 5 non-linearities
    python -m core.experiments layers --cifar10 ROOT                  # class-mean separation by block, mod vs cst
    python -m core.experiments report                                 # rebuild docs/experiments from results

    # the laptop scale: Tables 1-2 and the per-block separation on a 2-core CPU (see SCALES), two
    # runs at a time on one core each
    python -m core.experiments all --scale laptop --cifar10 ROOT --seeds 0 1 2 --jobs 2 --threads 1
    python -m core.experiments probe --scale laptop --cifar10 ROOT --seeds 0 1 2 --threads 1   # the cost
    python -m core.experiments probe --recipe cifar10_resnet18_small --cifar10 ROOT --threads 1  # a recipe's

Every row of a table is trained with one fixed short recipe, the same for all rows of that table
(the scale's recipe below: the table's recipe of ``core.recipes`` with a fixed number of epochs, so
that no row gets more steps than another). Each run lives in ``--out/<table>/<row>/seed<k>/``
(config, per-epoch log, checkpoint, final metrics: ``core.train``); a run whose ``final.json``
exists is skipped, and an interrupted one resumes from its checkpoint. Its log and final metrics
(not the checkpoint) are copied to ``docs/experiments/runs/`` so that they can be committed.
Table 1's LScat+skip row and Table 2's mod row are the same configuration: they share their runs
(those of table 2).

Scales (``--scale``): ``full`` trains the paper's widths (a GPU's work); ``laptop`` is a
reduced-scale test of the same claim on a CPU: the same code path and recipe, only the keys of
``SCALES["laptop"]`` differ (eighth-width scattering models, a ResNet-18 of matched parameter
count, a training subset, fewer epochs, compiled bf16 steps). Its runs go to
``runs/experiments/laptop`` and its report to ``docs/experiments/laptop``. It is not a
reproduction of the paper's numbers, which stay in their own column.

The report (``<docs>/<table>.md``, ``<table>.html`` and ``<table>.png``) puts the paper's errors
(SPEC §6) next to ours: final-epoch test error, mean ± standard deviation over the seeds that
have run. No epoch is picked on the test set.

The ``layers`` experiment loads the ``mod`` and ``cst`` LScat+skip runs of table 2 (every seed
asked for) and measures, for every block, the within/between-class variance and the
nearest-class-mean accuracy of its output (``core.separation``): the slides' claim that the
network "moves spatial information into channels and increases linear separation", and that phase
collapse is what separates means.
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

from core.models import CIFAR10_SMALL, RESNET18_WIDTH_CIFAR10_SMALL

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "experiments"


@dataclass(frozen=True)
class Row:
    label: str
    overrides: dict
    paper_error: float | None = None  # SPEC §6, CIFAR-10 test error %
    shared: tuple[str, str] | None = None  # (table, row label) whose runs this row reuses: the same configuration


@dataclass(frozen=True)
class Table:
    title: str
    dataset: str  # which --data option feeds it
    recipe: str  # the short recipe's base (core.recipes)
    rows: tuple[Row, ...]
    note: str = ""
    extra: dict = field(default_factory=dict)


# One fixed short recipe per data set and scale: the table's recipe with a fixed epoch count (no
# wall-time budget, so that every row gets the same number of steps), and the widths of the models.


@dataclass(frozen=True)
class Scale:
    """How big every run of the tables is. Only these keys differ between scales (a test checks it):
    ``recipe`` overrides the table's recipe for every row; ``scat_widths`` sets ``build.widths`` of
    every scattering model, ``resnet_width`` ``build.width`` of every ResNet (absent: the paper's)."""

    summary: str
    recipe: dict  # data set -> recipe overrides
    scat_widths: dict = field(default_factory=dict)  # data set -> P widths
    resnet_width: dict = field(default_factory=dict)  # data set -> ResNet-18 width
    tables: tuple[str, ...] = ()  # the tables defined at this scale (``all`` runs them, then layers)
    cost: str = ""  # the estimated cost, from ``probe`` (docs/EXPERIMENTS.md)


SCALES: dict[str, Scale] = {
    # 15 CIFAR epochs of LScat+skip are about 3 minutes of one H100 at the expected throughput;
    # calibrate with --epochs.
    "full": Scale("the paper's widths, all training images, 15 epochs (a GPU)",
                  {"cifar10": {"epochs": 15, "budget_s": None}, "imagenette": {"epochs": 15, "budget_s": None}},
                  tables=("table1", "table2", "table3"),
                  cost="about 3 min per CIFAR-10 row and seed on one H100 (expected; not measured yet)"),
    # A reduced-scale test of the claim on a 2-core CPU. Eighth-width scattering models
    # (CIFAR10_SMALL, 0.39 M parameters for LScat+skip), a ResNet-18 of width 12 (0.40 M: the width
    # whose parameter count is closest, core.models), a fixed 10,000-image training subset (every
    # class; core.data.decode) and 2,000 test images, batch 128 (the CPU recipes'), compiled bf16
    # steps (AMX): 2.2x eager fp32 for LScat+skip, and inductor's FX graph cache makes the
    # recompilation of a graph already compiled cheap (2-6 s instead of 45-70 s, probe below). The
    # final shift consistency at 2 px only (the tables show that one). 8 epochs of 10,000 images: what
    # the probe says fits in 2.5 hours with a margin (docs/EXPERIMENTS.md, "Laptop scale").
    "laptop": Scale("eighth-width scattering models, width-matched ResNet-18 (width 12), 10,000 training "
                    "/ 2,000 test images, 8 epochs, compiled bf16 on the CPU",
                    {"cifar10": {"epochs": 8, "budget_s": None, "limit_train": 10_000, "limit_test": 2_000,
                                 "batch_size": 128, "warmup_epochs": 1.0, "workers": 2, "check_every": 20,
                                 "final_shifts": [2], "compile": True}},
                    scat_widths={"cifar10": CIFAR10_SMALL}, resnet_width={"cifar10": RESNET18_WIDTH_CIFAR10_SMALL},
                    tables=("table1", "table2"),
                    cost="about 1.9 h for Tables 1-2 and layers with 3 seeds on 2 idle cores, with --jobs 2 "
                         "--threads 1 (an estimate from `probe`, 2026-12-03; docs/EXPERIMENTS.md)"),
}
SHORT = {ds: dict(over) for ds, over in SCALES["full"].recipe.items()}  # the full scale's recipe (as before)

TABLES: dict[str, Table] = {
    "table1": Table(
        "Table 1: Scat, LScat, LScat+skip and ResNet-18 on CIFAR-10", "cifar10", "cifar10_lscat_skip",
        (Row("Scat (P fixed)", {"model": "scat_cifar10"}, 27.7),
         Row("LScat", {"model": "lscat_cifar10"}, 11.7),
         Row("LScat+skip", {"model": "lscat_skip_cifar10", "nonlinearity": "mod"}, 7.7, shared=("table2", "mod")),
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
SMOKE_RESNET_WIDTH = 4


class ExperimentError(RuntimeError):
    """Missing data option, unknown table or row, unreadable results (one-line message)."""


def slug(label: str) -> str:
    """Row label -> folder / command-line name: "Scat (P fixed)" -> "scat_p_fixed"."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def home(name: str, row: Row) -> tuple[str, Row]:
    """The (table, row) whose runs ``row`` of table ``name`` uses: itself, or the row it shares."""
    if row.shared is None:
        return name, row
    table, label = row.shared
    return table, next(r for r in TABLES[table].rows if r.label == label)


def run_config(table: Table, row: Row, seed: int, data: str, epochs: int | None, smoke: bool, device: str | None,
               scale: str = "full"):
    """The configuration of one run: the table's recipe < the scale's overrides < the row's (model,
    non-linearity) < the scale's widths < --epochs < --smoke's tiny sizes < --device."""
    from core.recipes import make_config

    sc = SCALES[scale]
    if table.dataset not in sc.recipe:
        raise ExperimentError(f"the {scale} scale does not define {table.dataset} runs (its tables: "
                              f"{', '.join(sc.tables)})")
    over = dict(sc.recipe[table.dataset])
    over.update(row.overrides)
    build = dict(over.get("build", {}))
    scattering = over["model"].startswith(("lscat", "scat"))
    if scattering and table.dataset in sc.scat_widths:
        build["widths"] = list(sc.scat_widths[table.dataset])
    if over["model"].startswith("resnet") and table.dataset in sc.resnet_width:
        build["width"] = sc.resnet_width[table.dataset]
    if epochs:
        over["epochs"] = epochs
    if smoke:
        over.update(SMOKE)
        if scattering:
            build["widths"] = SMOKE_WIDTHS[table.dataset]
        else:
            build["width"] = SMOKE_RESNET_WIDTH
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


def scale_paths(scale: str, out: Path | None, docs: Path | None) -> tuple[Path, Path]:
    """Default run and report folders: runs/experiments and docs/experiments, with a subfolder per
    scale other than full (runs/experiments/laptop, docs/experiments/laptop)."""
    sub = () if scale == "full" else (scale,)
    return (out or ROOT.joinpath("runs", "experiments", *sub)), (docs or DOCS.joinpath(*sub))


def command_line() -> str:
    return " ".join(["python -m core.experiments"] + sys.argv[1:])


@dataclass(frozen=True)
class Task:
    """One training run of a table: the row asked for, and where its runs live (its home row's)."""

    table: str
    label: str
    home: str  # "table/row-slug" of the run folder
    seed: int
    cfg: dict
    dir: Path
    keep: Path  # where its log, config and final metrics are copied for the report


def plan_table(name: str, data: str, seeds: list[int], out: Path, docs: Path, epochs: int | None = None,
               rows: list[str] | None = None, smoke: bool = False, device: str | None = None,
               scale: str = "full") -> list[Task]:
    """The runs of table ``name`` for ``seeds`` (a shared row: its home row's runs)."""
    table = TABLES[name]
    if name not in SCALES[scale].tables:
        raise ExperimentError(f"{name} is not defined at the {scale} scale (its tables: "
                              f"{', '.join(SCALES[scale].tables)})")
    chosen = [r for r in table.rows if rows is None or r.label in rows or slug(r.label) in rows]
    if rows is not None and len(chosen) != len(set(rows)):
        raise ExperimentError(f"unknown row(s) in {rows}; {name} has {', '.join(r.label for r in table.rows)}")
    tasks = []
    for row in chosen:
        hname, hrow = home(name, row)
        for seed in seeds:
            cfg = run_config(TABLES[hname], hrow, seed, data, epochs, smoke, device, scale)
            keep = docs / "runs" / hname / slug(hrow.label) / f"seed{seed}"
            tasks.append(Task(name, row.label, f"{hname}/{slug(hrow.label)}", seed, cfg,
                              run_dir(out, hname, hrow, seed), keep))
    return tasks


def run_table(name: str, data: str, seeds: list[int], out: Path, docs: Path, epochs: int | None = None,
              rows: list[str] | None = None, smoke: bool = False, device: str | None = None,
              scale: str = "full", jobs: int = 1, threads: int | None = None) -> list[dict]:
    """Train every (row, seed) not done yet; returns their final metrics. A row that shares another's
    runs (``Row.shared``) trains them there if they are not done yet, or reuses them."""
    return execute(plan_table(name, data, seeds, out, docs, epochs, rows, smoke, device, scale), jobs, threads,
                   quiet=smoke)


def execute(tasks: list[Task], jobs: int = 1, threads: int | None = None, quiet: bool = False) -> list[dict]:
    """Run ``tasks`` (each run folder once: a shared row's runs are trained by the first task that
    needs them): in this process one after the other (``jobs`` = 1), or in ``jobs`` worker processes
    of ``threads`` torch threads each (default: the cores shared out), longest rows first. Finished
    runs are skipped, interrupted ones resume. Copies each run's log, config and final metrics to its
    ``keep`` folder. Returns one result per task, in the order of ``tasks``."""
    import os

    first: dict[Path, Task] = {}
    for t in tasks:
        first.setdefault(t.dir, t)
    for t in tasks:
        done = (t.dir / "final.json").is_file()
        via = f" = {t.home.replace('/', ' ')}" if t.home != f"{t.table}/{slug(t.label)}" else ""
        state = "done, skipped" if done else ("training" if first[t.dir] is t else "trained by the task above")
        print(f"[{t.table}] {t.label}{via} seed {t.seed}: {state} ({t.dir})", flush=True)
    todo = [t for t in first.values() if not (t.dir / "final.json").is_file()]
    finals: dict[Path, dict] = {}
    if jobs <= 1 or len(todo) <= 1:
        for t in first.values():
            finals[t.dir] = _train_task(t, quiet)
    else:
        import multiprocessing as mp

        threads = threads or max(1, (os.cpu_count() or 1) // jobs)
        # longest first (the table's recipe order says nothing about cost; the step cost does): a
        # greedy queue then balances the workers
        order = sorted(todo, key=lambda t: -_relative_cost(t.cfg))
        print(f"{len(order)} run(s) in {jobs} worker processes of {threads} thread(s) each", flush=True)
        pool = mp.get_context("spawn").Pool(jobs, initializer=_init_worker, initargs=(threads,))
        try:
            for t, final in pool.imap_unordered(_train_task_in_worker, [(t, True) for t in order]):
                finals[t.dir] = final
                _keep(t)
            pool.close()
        except BaseException:
            pool.terminate()
            raise
        finally:
            pool.join()
        for t in first.values():
            if t.dir not in finals:
                finals[t.dir] = _train_task(t, quiet)  # done already: reads its final.json
    for t in first.values():
        _keep(t)
    return [{"row": t.label, "seed": t.seed, **finals[t.dir]} for t in tasks]


def _relative_cost(cfg: dict) -> float:
    """A rough ordering of runs by cost: the laptop probe's run times relative to LScat+skip with mod
    (1 thread, docs/experiments/laptop/probe.json): ms, cst and tanh slowest, Scat and the ResNet fastest."""
    weight = {"scat_cifar10": 0.24, "resnet18_cifar10": 0.17, "lscat_cifar10": 0.75}
    nl = {"ms": 1.59, "cst": 1.53, "tanh": 1.43, "mc": 1.17, "mod": 1.0}
    w = weight.get(cfg["model"], nl.get(cfg["nonlinearity"] or "mod", 1.0))
    return w * cfg["epochs"] * (cfg["limit_train"] or 50_000)


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _train_task_in_worker(args) -> tuple[Task, dict]:
    task, quiet = args
    return task, _train_task(task, quiet, worker=True)


def _train_task(t: Task, quiet: bool = False, worker: bool = False) -> dict:
    from core.train import train

    done = (t.dir / "final.json").is_file()
    if done:  # skipped: its result as stored (train() would start again where the checkpoint is gone)
        return json.loads((t.dir / "final.json").read_text())
    if t.cfg["compile"]:
        _reset_compiler()
    start = time.time()
    if worker:
        import os

        print(f"[{t.table}] {t.label} seed {t.seed}: started in worker {os.getpid()} (per-epoch log: "
              f"{t.dir / 'log.jsonl'})", flush=True)
    final = train(t.cfg, t.dir, progress=not (quiet or worker), verbose=not (quiet or worker), command=command_line())
    print(f"[{t.table}] {t.label} seed {t.seed}: top-1 {final['top1']:.4f} in {time.time() - start:.0f} s",
          flush=True)
    return final


def _keep(t: Task) -> None:
    t.keep.mkdir(parents=True, exist_ok=True)
    for f in ("log.jsonl", "final.json", "config.json"):
        if (t.dir / f).is_file():
            shutil.copyfile(t.dir / f, t.keep / f)


def _reset_compiler() -> None:
    """A fresh Dynamo cache before each compiled run: a process that trains many models (rows x seeds,
    train and eval graphs) would otherwise reach Dynamo's recompile limit and silently fall back to
    eager. Inductor's FX graph cache (on disk) survives, so a graph compiled before costs a trace only."""
    import torch

    torch._dynamo.reset()


# -- report ----------------------------------------------------------------------------------


def collect(name: str, docs: Path) -> dict[str, list[dict]]:
    """Per row label, the final metrics of the seeds kept in <docs>/runs (a shared row: its home's)."""
    table = TABLES[name]
    out = {}
    for row in table.rows:
        hname, hrow = home(name, row)
        finals = []
        for f in sorted((docs / "runs" / hname / slug(hrow.label)).glob("seed*/final.json")):
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


def pm(values: list[float], digits: int = 2) -> str:
    """"m ± s" over seeds (just "m" for one)."""
    m, s = mean_std(values)
    return f"{m:.{digits}f} ± {s:.{digits}f}" if len(values) > 1 else f"{m:.{digits}f}"


def error_ratio(results: dict[str, list[dict]], num: str = "cst", den: str = "mod") -> list[float]:
    """Per seed run by both rows, error(num) / error(den)."""
    err = {lab: {r["config"]["seed"]: 100 * (1 - r["top1"]) for r in results.get(lab, [])} for lab in (num, den)}
    return [err[num][s] / err[den][s] for s in sorted(set(err[num]) & set(err[den])) if err[den][s] > 0]


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def table_markdown(name: str, results: dict[str, list[dict]], scale: str = "full", docs: Path = DOCS) -> str:
    table = TABLES[name]
    title = table.title if scale == "full" else f"{table.title} ({scale} scale)"
    lines = [f"# {title}", ""]
    if scale != "full":
        lines += [f"**{scale.capitalize()} scale** ({SCALES[scale].summary}): a reduced-scale test of the paper's "
                  "claim, not a reproduction of its numbers. The paper's column is its full-scale result "
                  "(SPEC §6), shown for reference only; compare the rows with each other.", ""]
    runs = [r for rs in results.values() for r in rs]
    if runs:
        cfg = runs[0]["config"]
        envs = [r.get("env", {}) for r in runs]
        machines = sorted({e.get("device", "?") + (f", {e['cpu']}" if e.get("cpu") else "") for e in envs})
        dates = sorted(e.get("date", "?")[:10] for e in envs)
        when = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
        lines += [f"Data: {runs[0].get('data', table.dataset)}. Recipe `{cfg['name']}` with {cfg['epochs']} epochs, "
                  f"batch {cfg['batch_size']}, the same for every row. Measured on {'; '.join(machines)}, "
                  f"torch {', '.join(sorted({e.get('torch', '?') for e in envs}))}, {when} (each run's machine, "
                  "commit and date: its final.json). Error = 100 − final-epoch test top-1 (no epoch picked on "
                  "the test set); mean ± std over seeds.", ""]
    else:
        scale_opt = "" if scale == "full" else f" --scale {scale}"
        lines += [f"No run has finished yet: see `python -m core.experiments list{scale_opt}` for the commands.", ""]
    paper_head = "paper error %" if scale == "full" else "paper error % (its full scale)"
    ours_head = "our error %" if scale == "full" else f"our error % ({scale} scale)"
    lines += [f"| row | {paper_head} | {ours_head} | seeds | params | shift consistency (circular, 2 px) | img/s "
              "| wall s |", "|---|---|---|---|---|---|---|---|"]
    for row in table.rows:
        rs = results.get(row.label, [])
        paper = f"{row.paper_error:.1f}" if row.paper_error is not None else "–"
        label = row.label if row.shared is None else f"{row.label} (= {row.shared[0]} {row.shared[1]})"
        if rs:
            sc = [r.get("shift_consistency", {}).get("circular", {}).get("2") for r in rs]
            sc = [v for v in sc if v is not None]
            sc_txt = f"{mean_std(sc)[0]:.3f}" if sc else "–"
            params = f"{rs[0]['params']:,}" if "params" in rs[0] else "–"
            lines.append(f"| {label} | {paper} | {pm([100 * (1 - r['top1']) for r in rs])} | {len(rs)} | {params} | "
                         f"{sc_txt} | {mean_std([r['train_img_s_median'] for r in rs])[0]:,.0f} | "
                         f"{mean_std([r['wall_s'] for r in rs])[0]:.0f} |")
        else:
            lines.append(f"| {label} | {paper} | not run yet | 0 | – | – | – | – |")
    ratio = error_ratio(results) if name == "table2" else []
    if ratio:
        lines += ["", f"Error ratio cst / mod, per seed then mean ± std over {len(ratio)} seed(s): "
                      f"{pm(ratio)} (the paper's at full scale: 22.5 / 7.7 ≈ 2.9)."]
    if table.note:
        lines += ["", table.note]
    if any(r.shared for r in table.rows):
        lines += ["", "A row marked (= table row) is the same configuration as that row, whose runs it shows."]
    lines += ["", "Data note: CIFAR-10 here is a JPEG copy (quality 75), so absolute errors are not directly "
              "comparable with the paper's; the comparisons between rows are. Per-run logs: "
              f"`{_shown(docs)}/runs/`.", ""]
    return "\n".join(lines)


def table_figure(name: str, results: dict[str, list[dict]], scale: str = "full"):
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
    ours_name = "ours (mean ± std over seeds)" if scale == "full" else f"ours, {scale} scale (mean ± std over seeds)"
    fig.add_bar(name=ours_name, x=labels, y=ours, error_y={"type": "data", "array": err}, marker_color="#1f5fa8")
    title = table.title if scale == "full" else f"{table.title}<br><sup>{scale} scale: {SCALES[scale].summary}</sup>"
    fig.update_layout(title=title, yaxis_title="test error (%)", barmode="group", template="plotly_white",
                      width=900, height=500)
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


def report(docs: Path, names=None, scale: str = "full") -> list[Path]:
    docs.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names or SCALES[scale].tables:
        res = collect(name, docs)
        md = docs / f"{name}.md"
        md.write_text(table_markdown(name, res, scale, docs))
        written.append(md)
        if any(res.values()):
            written += write_figure(table_figure(name, res, scale), docs / name)
    if (docs / "layers.json").is_file():
        written += layers_report(docs)
    return written


# -- per-layer evidence ------------------------------------------------------------------------


def run_layers(data: str, out: Path, docs: Path, fit_images: int = 10_000, device: str | None = None,
               seeds: list[int] | tuple[int, ...] = (0,), scale: str = "full") -> Path:
    """Separation by block for the mod and cst LScat+skip runs of table 2, for each of ``seeds``."""
    from core import data as D
    from core.cli import pick_device, write_atomic
    from core.separation import separation_by_block
    from core.train import TrainError, load_trained

    src, labels = LAYERS_SOURCE
    table = TABLES[src]
    rows = {r.label: r for r in table.rows}
    dev = pick_device(device or "auto")
    seeds = list(dict.fromkeys(seeds))
    result = {"source": f"{src} rows {', '.join(labels)}, seed{'s' if len(seeds) > 1 else ''} "
                        f"{', '.join(map(str, seeds))}",
              "scale": scale, "seeds": seeds, "fit_images": fit_images, "blocks": {}, "by_seed": {}, "test_top1": {}}
    scale_opt = "" if scale == "full" else f" --scale {scale}"
    for seed in seeds:
        per = result["by_seed"][str(seed)] = {}
        for lab in labels:
            run = run_dir(out, src, rows[lab], seed)
            if not (run / "checkpoint.pt").is_file() or not (run / "final.json").is_file():
                raise ExperimentError(f"{run / 'final.json'} is missing: run `python -m core.experiments {src}"
                                      f"{scale_opt} --rows {lab} --seeds {seed}` first")
            try:
                model, cfg = load_trained(run, dev)
            except TrainError as e:
                raise ExperimentError(str(e)) from None
            size = cfg["store_size"]
            tr = D.open_dataset(cfg["dataset"], data, cfg["train_split"])
            te = D.open_dataset(cfg["dataset"], data, cfg["test_split"])
            n_fit = min(fit_images, cfg["limit_train"] or fit_images)
            xtr, ytr = D.decode(tr, size, n_fit, progress=True)
            xte, yte = D.decode(te, size, cfg["limit_test"], progress=True)
            result["fit_images"] = len(ytr)

            def batches(x, y):
                for xb, yb in D.tensor_batches(x, y, 250):
                    yield D.normalize_uint8(xb.to(dev)), yb

            per[lab] = separation_by_block(model, batches(xtr, ytr), batches(xte, yte),
                                           num_classes=D.NUM_CLASSES["cifar10"], device=dev)
            result["test_top1"].setdefault(lab, []).append(json.loads((run / "final.json").read_text())["top1"])
            ncm = " ".join(f"{b['ncm_accuracy']:.3f}" for b in per[lab])
            print(f"[layers] {lab} seed {seed}: NCM accuracy by block {ncm}", flush=True)
    result["blocks"] = result["by_seed"][str(seeds[0])]  # the first seed's (as before several seeds)
    path = docs / "layers.json"
    docs.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(result, indent=2) + "\n")
    return path


def _per_block(res: dict, lab: str, key: str) -> list[list[float]]:
    """For label ``lab``: per block, the value of ``key`` in every seed."""
    by_seed = res.get("by_seed") or {"0": res["blocks"]}
    runs = [blocks[lab] for blocks in by_seed.values() if lab in blocks]
    return [[run[j][key] for run in runs] for j in range(len(runs[0]))]


def layers_report(docs: Path) -> list[Path]:
    from plotly.subplots import make_subplots

    res = json.loads((docs / "layers.json").read_text())
    labels = list(res["blocks"])
    colors = {"mod": "#1f5fa8", "cst": "#e07b1a"}
    fig = make_subplots(rows=1, cols=3, subplot_titles=("nearest-class-mean accuracy (test)",
                                                        "within (dashed) and between-class variance (train)",
                                                        "between / within-class variance (train)"))
    for lab in labels:
        x = [b["block"] for b in res["blocks"][lab]]
        for col, key, dash, legend in ((1, "ncm_accuracy", None, True), (2, "within", "dash", False),
                                       (2, "between", None, False), (3, "ratio", None, False)):
            vals = _per_block(res, lab, key)
            fig.add_scatter(x=x, y=[mean_std(v)[0] for v in vals], name=lab, legendgroup=lab, showlegend=legend,
                            error_y={"type": "data", "array": [mean_std(v)[1] for v in vals]},
                            line={"color": colors.get(lab), "dash": dash}, row=1, col=col)
    fig.update_xaxes(title_text="block")
    fig.update_yaxes(title_text="accuracy", row=1, col=1)
    fig.update_yaxes(title_text="variance", type="log", row=1, col=2)
    fig.update_yaxes(title_text="ratio", type="log", row=1, col=3)
    scale = res.get("scale", "full")
    title = "Class-mean separation by block: LScat+skip with mod vs cst (CIFAR-10)"
    if scale != "full":
        title += f"<br><sup>{scale} scale: {SCALES[scale].summary}</sup>"
    fig.update_layout(title=title, template="plotly_white", width=1300, height=460)
    n_seeds = len(res.get("by_seed") or {"0": 0})
    lines = ["# Per-layer evidence: class-mean separation, mod vs cst", ""]
    if scale != "full":
        lines += [f"**{scale.capitalize()} scale** ({SCALES[scale].summary}): a reduced-scale test, not a "
                  "reproduction of the paper.", ""]
    lines += [f"Source: {res['source']}; class means and variances on {res['fit_images']:,} training images, "
              "nearest-class-mean (NCM) accuracy on the test set. Features: each block's whole output map. "
              + (f"Mean ± std over {n_seeds} seeds." if n_seeds > 1 else ""), "",
              "| block | " + " | ".join(f"NCM {k} | within {k} | between {k} | B/W {k}" for k in labels) + " |",
              "|---|" + "---|---|---|---|" * len(labels)]
    cols = {lab: {key: _per_block(res, lab, key) for key in ("ncm_accuracy", "within", "between", "ratio")}
            for lab in labels}
    for j in range(len(res["blocks"][labels[0]])):
        cells = []
        for lab in labels:
            c = cols[lab]
            cells += [pm(c["ncm_accuracy"][j], 3), pm(c["within"][j], 3), pm(c["between"][j], 3), pm(c["ratio"][j], 3)]
        lines.append(f"| {j} | " + " | ".join(cells) + " |")
    if res.get("test_top1"):
        top = {k: v if isinstance(v, list) else [v] for k, v in res["test_top1"].items()}
        lines += ["", "Final test top-1 of the networks: " + ", ".join(f"{k} {pm(v, 4)}" for k, v in top.items()) + "."]
    md = docs / "layers.md"
    md.write_text("\n".join(lines) + "\n")
    return [md] + write_figure(fig, docs / "layers")


# -- command line ------------------------------------------------------------------------------


def list_runs(seeds: list[int], scale: str = "full") -> str:
    sc = SCALES[scale]
    seeds_txt = " ".join(map(str, seeds))
    opt_scale = "" if scale == "full" else f" --scale {scale}"
    out = [f"scale {scale}: {sc.summary}", f"  estimated cost: {sc.cost}"]
    for name in sc.tables:
        table = TABLES[name]
        opt = "--cifar10" if table.dataset == "cifar10" else "--imagenette"
        out.append(f"{name}: {table.title}")
        for row in table.rows:
            same = f"   (same runs as {row.shared[0]} {row.shared[1]})" if row.shared else ""
            out.append(f"  python -m core.experiments {name}{opt_scale} {opt} ROOT --rows {slug(row.label)} "
                       f"--seeds {seeds_txt}{same}")
    out.append(f"layers: class-mean separation by block (needs table2's mod and cst, seeds {seeds_txt})")
    out.append(f"  python -m core.experiments layers{opt_scale} --cifar10 ROOT --seeds {seeds_txt}")
    if scale != "full":
        out.append(f"everything at this scale, then the report ({sc.cost}):")
        out.append(f"  python -m core.experiments all{opt_scale} --cifar10 ROOT --seeds {seeds_txt}")
    others = [n for n in SCALES if n != scale]
    out.append(f"other scales: {', '.join(others)} (list --scale NAME)")
    return "\n".join(out)


def scales_help() -> str:
    lines = ["scales (--scale):"]
    for name, sc in SCALES.items():
        lines.append(f"  {name:7s} {sc.summary}; tables {', '.join(sc.tables)}")
        lines.append(f"          estimated cost: {sc.cost}")
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m core.experiments", description=__doc__, epilog=scales_help(),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=[*TABLES, "layers", "all", "report", "list", "probe"],
                   help="what to run (probe: time a few steps of every configuration of --scale and estimate "
                        "the cost of the whole scale; writes <docs>/probe.json)")
    p.add_argument("--scale", choices=list(SCALES), default="full",
                   help="full: the paper's widths (GPU); laptop: a reduced-scale CPU test (default: %(default)s)")
    p.add_argument("--cifar10", help="CIFAR-10 root (torchvision format or the JPEG ImageFolder copy)")
    p.add_argument("--imagenette", help="Imagenette root (holding imagenette2-160/)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds per row (default: 0; use 0 1 2 for ±)")
    p.add_argument("--rows", nargs="+", help="only these rows (labels or their slugs, as in `list`)")
    p.add_argument("--epochs", type=int,
                   help="override the scale's epochs (default: " +
                        ", ".join(f"{n} {sc.recipe['cifar10']['epochs']}" for n, sc in SCALES.items()) + ")")
    p.add_argument("--out", type=Path, help="run folders (default: runs/experiments, runs/experiments/<scale> for "
                                            "another scale than full)")
    p.add_argument("--docs", type=Path, help="report folder (default: docs/experiments, docs/experiments/<scale>)")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    p.add_argument("--fit-images", type=int, default=10_000,
                   help="layers: training images for class means (at most the scale's training subset)")
    p.add_argument("--steps", type=int, default=30, help="probe: timed training steps per configuration")
    p.add_argument("--jobs", type=int, default=1,
                   help="training runs at a time, in worker processes (default: 1, in this process). On a CPU, "
                        "--jobs 2 --threads 1 trains two runs at once on one core each: as fast as one run on two "
                        "cores when the machine is idle, and far faster when something else also runs")
    p.add_argument("--threads", type=int,
                   help="torch threads per worker with --jobs, and of probe (default: the cores shared out)")
    p.add_argument("--recipe", help="probe: time this core.recipes recipe instead of the scale's tables "
                                    "(data from --cifar10 or --imagenette)")
    p.add_argument("--smoke", action="store_true", help="tiny CPU-sized runs to check a setup (not results)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from core.train import TrainError, TrainingDiverged

    try:
        if args.what == "list":
            print(list_runs(args.seeds, args.scale))
            return 0
        out, docs = scale_paths(args.scale, args.out, args.docs)
        if args.what == "probe":
            if args.threads:
                import torch

                torch.set_num_threads(args.threads)
            if args.recipe:
                probe_recipe(args.recipe, args.cifar10 or args.imagenette, docs, args.steps, args.device)
                return 0
            if not args.cifar10:
                raise ExperimentError("probe needs --cifar10 ROOT")
            probe(args.scale, args.cifar10, args.seeds, docs, args.steps, args.device, args.fit_images, args.rows)
            return 0
        tables = SCALES[args.scale].tables
        names = list(tables) if args.what == "all" else [args.what] if args.what in TABLES else []
        tasks = []
        for name in names:
            root = getattr(args, TABLES[name].dataset)
            if not root:
                raise ExperimentError(f"{name} needs --{TABLES[name].dataset} ROOT")
            tasks += plan_table(name, root, args.seeds, out, docs, args.epochs, args.rows, args.smoke, args.device,
                                args.scale)
        if tasks:
            execute(tasks, args.jobs, args.threads, quiet=args.smoke)
        if args.what in ("layers", "all"):
            if not args.cifar10:
                raise ExperimentError("layers needs --cifar10 ROOT")
            run_layers(args.cifar10, out, docs, args.fit_images, args.device, args.seeds, args.scale)
        for path in report(docs, names or None, args.scale):
            print(f"wrote {path}")
        return 0
    except (ExperimentError, TrainError, TrainingDiverged) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        return 130


# -- cost probe --------------------------------------------------------------------------------


def _first_step(tr) -> tuple[float, object]:
    """Seconds of the first training step of epoch 0 (which compiles) and the loader's iterator."""
    from core.train import _sync, train_step

    tr.data.train.set_epoch(0)
    it = iter(tr.data.train)
    tr.model.train()
    t0 = time.perf_counter()
    train_step(tr, *next(it), 0.0)
    _sync(tr.dev)
    return time.perf_counter() - t0, it


def _probe_steps(tr, steps: int, batch_size: int, warm: int = 2) -> dict:
    """The first step, then ``warm`` untimed steps, then ``steps`` timed ones: wall and CPU seconds."""
    import torch

    from core.train import _sync, train_step

    first, it = _first_step(tr)
    for _, (x, y) in zip(range(warm), it):
        train_step(tr, x, y, 0.0)
    _sync(tr.dev)
    t0, c0 = time.perf_counter(), time.process_time()
    n = 0
    for _, (x, y) in zip(range(steps), it):
        train_step(tr, x, y, 0.0)
        n += 1
    _sync(tr.dev)
    if n == 0:
        raise ExperimentError(f"too few training images to time a step: the first step and {warm} warm-up "
                              f"steps used them all (batch {batch_size})")
    res = {"step_s": (time.perf_counter() - t0) / n}
    # CPU seconds of this process per step, over its threads: on a machine shared with other work,
    # cpu_step_s / threads is the step time the same threads would take with the cores to themselves
    # (a lower bound: it assumes perfect scaling over the threads)
    res["cpu_step_s"] = (time.process_time() - c0) / n
    res["img_s"] = batch_size / res["step_s"]
    res["img_s_idle_est"] = batch_size * torch.get_num_threads() / max(1e-9, res["cpu_step_s"])
    res["compile_train_s"] = max(0.0, first - res["step_s"])
    return res


def _probe_eval(tr, cfg: dict, tmp: Path) -> dict:
    """One pass over the test split after a first (compiling) one, a slice of the final evaluation
    (fp32, with shifts) scaled to the whole split, and one checkpoint save."""
    import itertools

    import torch

    from core.evaluate import run_evaluation
    from core.train import eval_epoch, rounded_copy

    t0 = time.perf_counter()
    eval_epoch(tr.evm, tr.data.test, tr.amp)
    t_first_eval = time.perf_counter() - t0
    t0 = time.perf_counter()
    eval_epoch(tr.evm, tr.data.test, tr.amp)
    res = {"eval_s": time.perf_counter() - t0}
    res["compile_eval_s"] = max(0.0, t_first_eval - res["eval_s"])
    m = rounded_copy(tr.model, cfg["export_half"])
    k = min(2, tr.data.n_final_batches)
    t0 = time.perf_counter()
    run_evaluation(m, itertools.islice(tr.data.final_batches(), k), device=tr.dev,
                   shifts=tuple(cfg["final_shifts"]), seed=0)
    res["final_eval_s"] = (time.perf_counter() - t0) * tr.data.n_final_batches / k
    t0 = time.perf_counter()
    torch.save({"model": tr.model.state_dict(), "optimizer": tr.opt.state_dict()}, tmp / "c.pt")
    res["checkpoint_s"] = time.perf_counter() - t0
    return res


def _probe_layers(tr, cfg: dict, fit_images: int, n_train: int) -> float:
    """Estimated seconds of the per-block separation of ``layers`` (fit + test images), from 250."""
    from core import data as D
    from core.separation import separation_by_block

    test_ds = D.open_dataset(cfg["dataset"], cfg["data"], cfg["test_split"])
    xb, yb = next(iter(D.tensor_batches(*D.decode(test_ds, cfg["store_size"], cfg["limit_test"]), 250)))
    batch = [(D.normalize_uint8(xb.to(tr.dev)), yb)]
    t0 = time.perf_counter()
    separation_by_block(tr.model, batch, batch, num_classes=10, device=tr.dev)
    per_image = (time.perf_counter() - t0) / (2 * len(yb))
    return per_image * (min(fit_images, n_train) + (cfg["limit_test"] or 10_000))


def _probe_estimate(res: dict, epochs: int, spe: int) -> dict:
    """Wall seconds of the whole run (cold and warm compile, as measured and on idle cores)."""
    import os

    import torch

    res["load_avg_1min"] = os.getloadavg()[0]
    per_epoch = spe * res["step_s"] + res["eval_s"] + res["checkpoint_s"]
    body = epochs * per_epoch + res["final_eval_s"]
    res["run_s_cold"] = body + res["compile_train_s"] + res["compile_eval_s"]
    res["run_s_warm"] = body + res["recompile_train_s"] + res["recompile_eval_s"]
    # the share of the cores this process had while stepping (1: the machine to itself); the idle
    # estimates divide the measured times by it (every piece, compilation included: an approximation)
    res["cpu_share"] = min(1.0, res["cpu_step_s"] / (torch.get_num_threads() * res["step_s"]))
    res["run_s_cold_idle_est"] = res["run_s_cold"] * res["cpu_share"]
    res["run_s_warm_idle_est"] = res["run_s_warm"] * res["cpu_share"]
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in res.items()}


def probe_config(cfg: dict, steps: int, device: str | None = None, fit_images: int | None = None) -> dict:
    """Seconds of the pieces of one run of ``cfg``, measured on ``steps`` real training steps.

    Builds the run as ``core.train`` does (same setup, same ``train_step``, same evaluation), on a
    training subset just large enough for the steps. Measures: the first step (which compiles),
    the steady step, one pass over the test split (after a first, compiling one), a slice of the
    final evaluation (fp32, with shifts), and the first step again after a Dynamo reset (the
    recompilation a later seed pays: inductor's FX graph cache is warm by then). With
    ``fit_images``, also the per-block separation of ``layers`` on a slice. Returns the numbers and
    the estimated wall seconds of the whole run (cold and warm compile)."""
    import tempfile

    from core import data as D
    from core.recipes import make_config
    from core.train import Run, eval_epoch, setup

    n_train = cfg["limit_train"] or len(D.open_dataset(cfg["dataset"], cfg["data"], cfg["train_split"]))
    spe = n_train // cfg["batch_size"]
    pcfg = make_config(dict(cfg, limit_train=min(n_train, (steps + 4) * cfg["batch_size"]), epochs=1,
                            checkpoint_every_s=None))
    res = {"model": cfg["model"], "nonlinearity": cfg["nonlinearity"], "build": cfg["build"],
           "batch_size": cfg["batch_size"], "steps_per_epoch": spe, "epochs": cfg["epochs"],
           "compile": cfg["compile"], "bf16": cfg["bf16"], "timed_steps": steps}
    with tempfile.TemporaryDirectory() as tmp:
        _reset_compiler()
        t0 = time.perf_counter()
        tr = setup(Run(pcfg, Path(tmp)), device=device, progress=False, verbose=False)
        res["setup_s"] = time.perf_counter() - t0  # data decoding (cached per process) and compile wrapping
        res.update(_probe_steps(tr, steps, cfg["batch_size"]))
        res.update(_probe_eval(tr, cfg, Path(tmp)))
        if fit_images and hasattr(tr.model, "block_info"):
            res["layers_s"] = _probe_layers(tr, cfg, fit_images, n_train)
        if cfg["compile"]:
            _reset_compiler()
            tr2 = setup(Run(pcfg, Path(tmp) / "again"), device=device, progress=False, verbose=False)
            first2, _ = _first_step(tr2)
            res["recompile_train_s"] = max(0.0, first2 - res["step_s"])
            t0 = time.perf_counter()
            eval_epoch(tr2.evm, tr2.data.test, tr2.amp)
            res["recompile_eval_s"] = max(0.0, time.perf_counter() - t0 - res["eval_s"])
        else:
            res["recompile_train_s"], res["recompile_eval_s"] = res["compile_train_s"], res["compile_eval_s"]
    return _probe_estimate(res, cfg["epochs"], spe)


def _probe_plan(scale: str, data: str, steps: int, device: str | None, fit_images: int,
                rows: list[str] | None) -> tuple[dict, dict]:
    """``probe_config`` of every distinct configuration of the scale's tables (shared rows once), and
    the plan: for each table, the keys of its rows (only ``rows``, by label or slug, when given)."""
    configs, plan = {}, {}
    for name in SCALES[scale].tables:
        for row in TABLES[name].rows:
            hname, hrow = home(name, row)
            key = f"{hname}/{slug(hrow.label)}"
            if rows is not None and not ({row.label, slug(row.label), hrow.label, slug(hrow.label)} & set(rows)):
                continue
            plan.setdefault(name, []).append(key)
            if key in configs:
                continue
            cfg = run_config(TABLES[hname], hrow, 0, data, None, False, device, scale)
            layers_row = hname == LAYERS_SOURCE[0] and hrow.label in LAYERS_SOURCE[1]
            print(f"[probe] {key}: {cfg['model']} {cfg['nonlinearity'] or ''} {cfg['build']}", flush=True)
            c = configs[key] = probe_config(cfg, steps, device, fit_images if layers_row else None)
            print(f"[probe] {key}: {c['img_s']:.0f} img/s ({1000 * c['step_s']:.0f} ms/step), compile "
                  f"{c['compile_train_s'] + c['compile_eval_s']:.0f} s cold / "
                  f"{c['recompile_train_s'] + c['recompile_eval_s']:.0f} s warm, eval {c['eval_s']:.1f} s, "
                  f"final {c['final_eval_s']:.1f} s -> run {c['run_s_cold']:.0f} s cold, {c['run_s_warm']:.0f} s "
                  f"warm", flush=True)
    return configs, plan


def _probe_totals(configs: dict, plan: dict, n_seeds: int, suffix: str) -> dict:
    """Seconds per table with ``n_seeds`` seeds (the first compiles cold, the others warm; a shared row
    counted once), plus ``layers``; ``suffix`` "" as measured, "_idle_est" on idle cores."""
    per_table, counted = {}, set()
    for name, keys in plan.items():
        t = 0.0
        for key in keys:
            if key not in counted:
                counted.add(key)
                c = configs[key]
                t += c[f"run_s_cold{suffix}"] + (n_seeds - 1) * c[f"run_s_warm{suffix}"]
        per_table[name] = t
    layer_cfgs = [configs[k] for k in (f"{LAYERS_SOURCE[0]}/{slug(lab)}" for lab in LAYERS_SOURCE[1])
                  if k in configs]
    per_table["layers"] = n_seeds * sum(c.get("layers_s", 0.0) * (c["cpu_share"] if suffix else 1)
                                        for c in layer_cfgs)
    return per_table


def probe(scale: str, data: str, seeds: list[int], docs: Path, steps: int = 30, device: str | None = None,
          fit_images: int = 10_000, rows: list[str] | None = None) -> dict:
    """Time every distinct configuration of the scale's tables (``probe_config``) and add up the cost
    of all their rows with ``seeds`` (``_probe_totals``), plus ``layers``. Prints a table and writes
    <docs>/probe.json. With ``rows`` (labels or slugs), only those rows are timed and added up
    (probe_rows.json)."""
    import os

    import torch

    from core.cli import write_atomic
    from core.provenance import commit, cpu_name

    load0 = os.getloadavg()
    t_start = time.time()
    configs, plan = _probe_plan(scale, data, steps, device, fit_images, rows)
    n = len(seeds)
    per_table, idle = _probe_totals(configs, plan, n, ""), _probe_totals(configs, plan, n, "_idle_est")
    total = sum(per_table.values())
    # with --jobs J worker processes of these threads each, the training runs share out (a greedy queue,
    # longest first: about total / J) and layers follows in one process
    threads, cores = torch.get_num_threads(), os.cpu_count() or 1
    jobs = max(1, cores // threads)
    wall_idle = sum(v for k, v in idle.items() if k != "layers") / jobs + idle["layers"] * (threads / cores)
    result = {"scale": scale, "summary": SCALES[scale].summary, "seeds": seeds, "timed_steps": steps,
              "configs": configs, "estimated_s": {k: round(v) for k, v in per_table.items()},
              "estimated_total_s": round(total), "estimated_idle_s": {k: round(v) for k, v in idle.items()},
              "estimated_idle_total_s": round(sum(idle.values())),
              "estimated_idle_wall_s": {"jobs": jobs, "threads_per_job": threads, "wall_s": round(wall_idle),
                                        "note": "training runs shared out over the jobs; layers in one process on "
                                                "every core (assumed to scale linearly)"},
              "probe_wall_s": round(time.time() - t_start), "threads": threads,
              "cpu": cpu_name(), "load_avg_before": [round(x, 2) for x in load0],
              "load_avg_after": [round(x, 2) for x in os.getloadavg()], "torch": torch.__version__,
              "commit": commit(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "command": command_line(),
              "note": "an estimate from a few dozen steps per configuration; shared rows counted once; "
                      "data decoding (seconds, once per process) not included"}
    print(f"[probe] estimated, {n} seed(s), as measured: " +
          ", ".join(f"{k} {v / 60:.0f} min" for k, v in per_table.items()) +
          f"; total {total / 3600:.2f} h (load average {load0[0]:.2f} -> {os.getloadavg()[0]:.2f}, "
          f"{threads} threads)", flush=True)
    print("[probe] on idle cores (measured times x this process's CPU share): " +
          ", ".join(f"{k} {v / 60:.0f} min" for k, v in idle.items()) +
          f"; total {sum(idle.values()) / 3600:.2f} h; with --jobs {jobs} --threads {threads}: "
          f"{wall_idle / 3600:.2f} h of wall time", flush=True)
    docs.mkdir(parents=True, exist_ok=True)
    name = "probe.json" if rows is None else "probe_rows.json"
    write_atomic(docs / name, json.dumps(result, indent=2) + "\n")
    print(f"wrote {docs / name}")
    return result


def probe_recipe(recipe: str, data: str | None, docs: Path, steps: int = 30, device: str | None = None) -> dict:
    """``probe_config`` for one training recipe of ``core.recipes`` (its data root given); appends a
    line to <docs>/probe_recipes.jsonl."""
    import os

    import torch

    from core.provenance import append_jsonl, commit
    from core.recipes import RecipeError, make_config

    if not data:
        raise ExperimentError("probe --recipe needs the recipe's data root: --cifar10 ROOT or --imagenette ROOT")
    try:
        cfg = make_config(recipe, data=data)
    except RecipeError as e:
        raise ExperimentError(str(e)) from None
    load0 = os.getloadavg()
    res = probe_config(cfg, steps, device)
    line = {"recipe": recipe, **res, "threads": torch.get_num_threads(), "load_avg_before": round(load0[0], 2),
            "torch": torch.__version__, "commit": commit(), "command": command_line(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    print(f"[probe] {recipe}: {res['img_s']:.1f} img/s ({torch.get_num_threads()} threads, CPU share "
          f"{res['cpu_share']:.2f}, load {load0[0]:.2f}); {res['steps_per_epoch']} steps/epoch; run of "
          f"{cfg['epochs']} epochs {res['run_s_cold'] / 3600:.2f} h as measured, "
          f"{res['run_s_cold_idle_est'] / 3600:.2f} h on idle cores", flush=True)
    append_jsonl(docs / "probe_recipes.jsonl", line)
    return line


if __name__ == "__main__":
    sys.exit(main())
