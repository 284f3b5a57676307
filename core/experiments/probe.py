"""The cost probe: time a few steps of each configuration and estimate what a scale costs.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from core.experiments.runner import command_line, reset_compiler
from core.experiments.tables import LAYERS_SOURCE, SCALES, TABLES, ExperimentError, home, run_config, slug
from core.models.registry import kind
from core.runtime import usable_cpus


def _first_step(tr) -> tuple[float, object]:
    """Seconds of the first training step of epoch 0 (which compiles) and the loader's iterator."""
    from core.training.loop import train_step
    from core.training.state import sync

    tr.data.train.set_epoch(0)
    it = iter(tr.data.train)
    tr.model.train()
    t0 = time.perf_counter()
    train_step(tr, *next(it), 0.0)
    sync(tr.dev)
    return time.perf_counter() - t0, it


def _probe_steps(tr, steps: int, batch_size: int, warm: int = 2) -> dict:
    """The first step, then ``warm`` untimed steps, then ``steps`` timed ones: wall and CPU seconds."""
    import torch

    from core.training.loop import train_step
    from core.training.state import sync

    first, it = _first_step(tr)
    for _, (x, y) in zip(range(warm), it):
        train_step(tr, x, y, 0.0)
    sync(tr.dev)
    t0, c0 = time.perf_counter(), time.process_time()
    n = 0
    for _, (x, y) in zip(range(steps), it):
        train_step(tr, x, y, 0.0)
        n += 1
    sync(tr.dev)
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

    from core.training.evaluate import eval_epoch, run_evaluation
    from core.training.export import rounded_copy

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
    from core.analysis.separation import separation_by_block

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

    Builds the run as ``core.training`` does (same setup, same ``train_step``, same evaluation), on a
    training subset just large enough for the steps. Measures: the first step (which compiles),
    the steady step, one pass over the test split (after a first, compiling one), a slice of the
    final evaluation (fp32, with shifts), and the first step again after a Dynamo reset (the
    recompilation a later seed pays: inductor's FX graph cache is warm by then). With
    ``fit_images``, also the per-block separation of ``layers`` on a slice. Returns the numbers and
    the estimated wall seconds of the whole run (cold and warm compile)."""
    import tempfile

    from core import data as D
    from core.training.checkpoint import Run
    from core.training.evaluate import eval_epoch
    from core.training.recipes import make_config
    from core.training.setup import setup

    n_train = cfg["limit_train"] or len(D.open_dataset(cfg["dataset"], cfg["data"], cfg["train_split"]))
    spe = n_train // cfg["batch_size"]
    pcfg = make_config(dict(cfg, limit_train=min(n_train, (steps + 4) * cfg["batch_size"]), epochs=1,
                            checkpoint_every_s=None))
    res = {"model": cfg["model"], "nonlinearity": cfg["nonlinearity"], "build": cfg["build"],
           "batch_size": cfg["batch_size"], "steps_per_epoch": spe, "epochs": cfg["epochs"],
           "compile": cfg["compile"], "bf16": cfg["bf16"], "timed_steps": steps}
    with tempfile.TemporaryDirectory() as tmp:
        reset_compiler()
        t0 = time.perf_counter()
        tr = setup(Run(pcfg, Path(tmp)), device=device, progress=False, verbose=False)
        res["setup_s"] = time.perf_counter() - t0  # data decoding (cached per process) and compile wrapping
        res.update(_probe_steps(tr, steps, cfg["batch_size"]))
        res.update(_probe_eval(tr, cfg, Path(tmp)))
        if fit_images and kind(tr.model) == "scattering":
            res["layers_s"] = _probe_layers(tr, cfg, fit_images, n_train)
        if cfg["compile"]:
            reset_compiler()
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

    from core.files import write_atomic
    from core.provenance import commit, cpu_name

    load0 = os.getloadavg()
    t_start = time.time()
    configs, plan = _probe_plan(scale, data, steps, device, fit_images, rows)
    n = len(seeds)
    per_table, idle = _probe_totals(configs, plan, n, ""), _probe_totals(configs, plan, n, "_idle_est")
    total = sum(per_table.values())
    # with --jobs J worker processes of these threads each, the training runs share out (a greedy queue,
    # longest first: about total / J) and layers follows in one process
    threads, cores = torch.get_num_threads(), usable_cpus()
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
    """``probe_config`` for one training recipe of ``core.training.recipes`` (its data root given); appends a
    line to <docs>/probe_recipes.jsonl."""
    import os

    import torch

    from core.provenance import append_jsonl, commit
    from core.training.recipes import RecipeError, make_config

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
