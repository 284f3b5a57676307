"""Running a table: the tasks, in worker processes when ``--jobs`` > 1, each a resumable training run.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from core.experiments.tables import SCALES, TABLES, ExperimentError, home, run_config, run_dir, slug
from core.runtime import usable_cpus


def command_line() -> str:
    return " ".join(["python -m core experiments"] + sys.argv[1:])


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

        threads = threads or max(1, usable_cpus() // jobs)
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
    from core.training.loop import train

    done = (t.dir / "final.json").is_file()
    if done:  # skipped: its result as stored (train() would start again where the checkpoint is gone)
        return json.loads((t.dir / "final.json").read_text())
    if t.cfg["compile"]:
        reset_compiler()
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


def reset_compiler() -> None:
    """A fresh Dynamo cache before each compiled run: a process that trains many models (rows x seeds,
    train and eval graphs) would otherwise reach Dynamo's recompile limit and silently fall back to
    eager. Inductor's FX graph cache (on disk) survives, so a graph compiled before costs a trace only."""
    import torch

    torch._dynamo.reset()
