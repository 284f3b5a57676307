"""Training: ``python -m core train --recipe NAME --data ROOT``, and the Python API ``train(config, out_dir)``.

    python -m core train --recipe cifar10_lscat_skip --data ../shared/data/cifar10-jpeg --out runs/lscat
    python -m core train --resume --out runs/lscat                 # continue an interrupted run
    torchrun --nproc_per_node=4 -m core train --recipe ... --out ... # DDP, statistics synchronized
    python -m core train --list-recipes

Recipes live in ``core/training/recipes.py`` (one readable dict each); any key can be overridden
(``--epochs``, ``--model``, ``--nonlinearity``, ``--set key=JSON``). ``--budget-s S`` sets the number of
epochs to what fits in S seconds of wall time, measured on a few real steps first.

Python API (for experiment runners)::

    from core.training import make_config, train, load_trained
    cfg = make_config("cifar10_lscat_skip", model="lscat_cifar10", nonlinearity="cst", epochs=15,
                      seed=1, data="../shared/data/cifar10-jpeg")
    final = train(cfg, "runs/lscat_cst_s1")   # -> dict: top1, top5, loss, shift_consistency, epochs, ...
    model, cfg = load_trained("runs/lscat_cst_s1")   # the checkpoint's weights, in eval mode

``train(config, out_dir)`` trains from scratch, or resumes from ``out_dir/checkpoint.pt`` when one
exists (the configuration must then be the same, apart from the ``RESUME_FREE`` keys: ``data``,
``download``, ``workers``, ``device``, ``check_every``, ``checkpoint_every_s``), or returns the stored
final metrics if that run already finished. ``config=None`` resumes whatever ``out_dir`` holds.
``stop_after=N`` ends the call after N epochs (a later call continues). A configuration with
``init_from`` (a pretrained entry or an exported .safetensors file) starts a fresh run from those
weights instead of a random initialization: a second training cycle (the file's sha256 and the
earlier run's card figures go to final.json and the card; a resume continues from the checkpoint).
It raises ``TrainError`` (bad configuration, data or checkpoint) and ``TrainingDiverged``
(non-finite loss or weights; the last good checkpoint is kept).

``train`` reads top to bottom as the steps of a run: ``resolve_run`` (fresh, resumed or finished),
``setup`` (data, model, optimizer, compilation, the checkpoint restored), ``plan`` (the budget probe,
config.json), then ``train_epoch`` / ``end_epoch`` (which saves) for each epoch, and ``finish_run``
(final evaluation, export). Every optimizer step, the budget probe's included, is ``train_step``.

``out_dir`` holds:

    config.json     the full configuration (the recipe with its overrides; ``epochs`` as resolved)
    log.jsonl       one line per epoch: epoch, loss, train_top1, test_top1, test_top5, test_loss,
                    img_s (training images per second of training steps, SPEC §7's unit), lr, epoch_s;
                    with a ``holdout`` in the recipe, holdout_top1, holdout_top5, holdout_loss instead
                    of the test_ keys (the test split is then never opened)
    checkpoint.pt   model, optimizer, history and config; written atomically after every epoch and,
                    within an epoch, at the first finiteness check after ``checkpoint_every_s``
                    seconds (default 600) since the last one, with the position in the epoch and the
                    epoch's running sums; read with torch.load(weights_only=True)
    final.json      final metrics: the last epoch's weights (never the best epoch), evaluated in
                    fp32 after rounding to the exported precision, with shift consistency, on the
                    split ``eval_split`` names (the hold-out, or the test split; ``n_test`` images)

Speed: the data set sits on the device as uint8 and is augmented there (``core.data.GpuLoader``);
bf16 autocast (CUDA, and CPU), channels_last and optional torch.compile; metrics accumulate on the
device and the host synchronizes only every ``check_every`` steps (finiteness check) and at the end
of an epoch.
Determinism: model init, shuffling and augmentation are seeded by ``seed`` (augmentation per epoch),
so a run resumed from any checkpoint, mid-epoch ones included, continues exactly as an
uninterrupted one (bitwise on one process with the gpu loader; tested on CPU).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import torch

from core.files import save_checkpoint, write_atomic
from core.nn.distributed import all_reduce_sum, is_dist
from core.training.budget import probe_epochs
from core.training.checkpoint import CHECKPOINT_FORMAT, resolve_run
from core.training.errors import diverged
from core.training.evaluate import eval_epoch, run_evaluation
from core.training.export import check_export, export_model, rounded_copy
from core.training.setup import setup
from core.training.state import Meter, Trainer, agree, all_finite, compute_loss, params_finite, sync


def train(config: dict | None, out_dir, *, resume: bool = True, stop_after: int | None = None,
          progress: bool = True, verbose: bool = True, device=None, command: str | None = None,
          export: str | None = None, export_dir=None) -> dict:
    """Train (or resume, or return the finished result of) the run in ``out_dir``; see the module docstring.

    ``progress``: tqdm bars; ``verbose``: one printed line per epoch (and the budget probe's).
    ``export``: a ``core.weights.ENTRIES`` name; at the end the final weights and their model card
    are written to ``export_dir`` (default pretrained/). Returns final.json's content (with
    ``"stopped": True`` and no test metrics beyond the log's if ``stop_after`` ended the call early).
    """
    t_start = time.time()
    run = resolve_run(config, out_dir, resume)
    if run.finished is not None:
        return run.finished
    if export:
        check_export(export, run.cfg)
    tr = setup(run, device=device, progress=progress, verbose=verbose, command=command, t_start=t_start)
    plan(tr, fresh=run.state is None)
    epochs_this_call = 0
    while tr.epoch < tr.cfg["epochs"] and (stop_after is None or epochs_this_call < stop_after):
        record = train_epoch(tr)
        end_epoch(tr, record)
        epochs_this_call += 1
    if tr.epoch < tr.cfg["epochs"]:
        return {"stopped": True, "epochs_done": tr.epoch, "epochs": tr.cfg["epochs"], "history": tr.history}
    return finish_run(tr, export, export_dir)


def plan(tr: Trainer, fresh: bool) -> None:
    """The number of epochs (from the budget for a fresh run with ``budget_s``), written to config.json."""
    cfg = tr.cfg
    if fresh and cfg["budget_s"] is not None:
        cfg["epochs"] = probe_epochs(tr, train_step)
        cfg["epochs_from_budget"] = True
    if tr.main:
        tr.out.mkdir(parents=True, exist_ok=True)
        write_atomic(tr.out / "config.json", json.dumps(cfg, indent=2) + "\n")
        if fresh:  # a log from an earlier attempt without checkpoint is stale
            write_atomic(tr.out / "log.jsonl", "")


def train_step(tr: Trainer, x: torch.Tensor, y: torch.Tensor, lr: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimizer step at learning rate ``lr`` (bf16 autocast, gradient clipping as configured);
    returns the detached loss and logits."""
    for g in tr.opt.param_groups:
        g["lr"] = lr
    with torch.autocast(tr.dev.type, dtype=torch.bfloat16, enabled=tr.amp):
        logits = tr.fwd(x)
    loss = compute_loss(logits, y, tr.cfg["label_smoothing"])
    tr.opt.zero_grad(set_to_none=True)
    loss.backward()
    if tr.cfg["grad_clip"]:
        torch.nn.utils.clip_grad_norm_(tr.model.parameters(), tr.cfg["grad_clip"])
    tr.opt.step()
    return loss.detach(), logits.detach()


def train_epoch(tr: Trainer) -> dict:
    """Train what is left of epoch ``tr.epoch`` (all of it unless a mid-epoch checkpoint left it part
    done), evaluate, and return the epoch's log record."""
    from tqdm import tqdm

    tr.data.train.set_epoch(tr.epoch, tr.batch)
    if tr.batch == 0:
        tr.meter, tr.epoch_train_s = Meter.zeros(tr.dev), 0.0
    tr.model.train()
    sync(tr.dev)
    t0 = time.perf_counter()
    bar = tqdm(total=tr.steps_per_epoch, initial=tr.batch, desc=f"epoch {tr.epoch + 1}/{tr.cfg['epochs']}",
               unit="step", leave=False, disable=not (tr.progress and tr.main), mininterval=1.0)
    lr = tr.lr()
    try:
        for x, y in tr.data.train:
            lr = tr.lr()
            loss, logits = train_step(tr, x, y, lr)
            tr.meter.add(loss, logits, y)
            tr.step += 1
            tr.batch += 1
            bar.update()
            if tr.step % tr.cfg["check_every"] == 0:
                check(tr, t0)
                bar.set_postfix(loss=f"{tr.meter.loss_sum.item() / tr.meter.seen:.3f}", lr=f"{lr:.3g}", refresh=False)
    finally:
        bar.close()
    sync(tr.dev)
    return epoch_record(tr, lr, tr.epoch_train_s + time.perf_counter() - t0, t0)


def check(tr: Trainer, t0: float) -> None:
    """The periodic host check: stop on a non-finite loss; write a mid-epoch checkpoint when one is due
    (``checkpoint_every_s`` since the last, and not at the last batch, whose epoch-end checkpoint follows).
    Rank 0 decides, and every rank learns it from the same all-reduce as the finiteness flag."""
    every = tr.cfg["checkpoint_every_s"]
    due = tr.main and every is not None and time.time() - tr.last_save >= every and tr.batch < tr.steps_per_epoch
    ok = tr.meter.finite & (params_finite(tr.model) if due else True)
    ok, save_now = agree(ok, due)
    if not ok:
        raise diverged(tr.epoch, tr.step, tr.ckpt_path)
    if save_now:
        save(tr, epoch_train_s=tr.epoch_train_s + time.perf_counter() - t0)


def epoch_record(tr: Trainer, lr: float, train_s: float, t0: float) -> dict:
    """After an epoch's steps: the finiteness check of loss and weights, the evaluation, the log record."""
    m = tr.meter
    if not all_finite(m.finite & params_finite(tr.model)):
        raise diverged(tr.epoch, tr.step, tr.ckpt_path)
    sums = all_reduce_sum(torch.stack([m.loss_sum, m.correct.float(), torch.tensor(float(m.seen), device=tr.dev)]))
    ev = eval_epoch(tr.evm, tr.data.test, tr.amp, tr.data.eval_prefix)
    if not math.isfinite(ev[f"{tr.data.eval_prefix}_loss"]):
        raise diverged(tr.epoch, tr.step, tr.ckpt_path)
    n_seen = sums[2].item()
    return {"epoch": tr.epoch + 1, "loss": sums[0].item() / n_seen, "train_top1": sums[1].item() / n_seen, **ev,
            "img_s": n_seen / train_s, "lr": lr, "epoch_s": tr.epoch_train_s + time.perf_counter() - t0}


def end_epoch(tr: Trainer, record: dict) -> None:
    """Log the finished epoch, save the checkpoint, print its line."""
    tr.history.append(record)
    tr.epoch, tr.batch = tr.epoch + 1, 0
    save(tr)
    if tr.main:
        write_atomic(tr.out / "log.jsonl", "".join(json.dumps(r) + "\n" for r in tr.history))
        if tr.verbose:
            from tqdm import tqdm

            split = tr.data.eval_prefix
            tqdm.write(f"epoch {tr.epoch}/{tr.cfg['epochs']}  loss {record['loss']:.4f}  "
                       f"train {record['train_top1']:.4f}  {split} {record[f'{split}_top1']:.4f}  "
                       f"{record['img_s']:.0f} img/s  lr {record['lr']:.4g}")
    if is_dist():
        torch.distributed.barrier()


def save(tr: Trainer, epoch_train_s: float = 0.0) -> None:
    """checkpoint.pt, atomically, by rank 0 (every rank calls it: a mid-epoch one gathers the ranks' sums).

    At an epoch end (``tr.batch == 0``): model, optimizer, epoch, step, history, configuration, meta,
    wall time. Mid-epoch also: ``batch`` (the position in the epoch), ``meter`` (every rank's running
    loss / correct / seen sums) and ``epoch_train_s``, from which a resumed run continues bitwise."""
    rows = tr.meter.rows(tr.world) if tr.batch else None
    tr.last_save = time.time()
    if not tr.main:
        return
    state = {"format": CHECKPOINT_FORMAT, "config": json.dumps(tr.cfg), "epoch": tr.epoch, "step": tr.step,
             "batch": tr.batch, "model": tr.model.state_dict(), "optimizer": tr.opt.state_dict(),
             "history": json.dumps(tr.history), "meta": json.dumps(tr.meta),
             "elapsed_s": tr.elapsed_before + time.time() - tr.t_start}
    if tr.batch:
        state.update(meter=rows.cpu(), epoch_train_s=epoch_train_s)
    save_checkpoint(tr.ckpt_path, state)


def finish_run(tr: Trainer, export: str | None, export_dir) -> dict:
    """Rank 0 evaluates the final weights (final.json) and exports them if asked; returns final.json."""
    final_path = tr.out / "final.json"
    final = None
    if tr.main:
        final = finish(tr.cfg, tr.model, tr.data, tr.dev, tr.history, tr.meta,
                       tr.elapsed_before + time.time() - tr.t_start, tr.out, tr.progress)
        if export:
            final["card"] = str(export_model(tr.model, tr.cfg, final, tr.meta, export, export_dir,
                                             tr.data.num_classes))
            write_atomic(final_path, json.dumps(final, indent=2) + "\n")
    if is_dist():
        torch.distributed.barrier()
    return final if final is not None else json.loads(final_path.read_text())


def finish(cfg, model, data, dev, history, meta, elapsed, out: Path, progress: bool) -> dict:
    """Final evaluation (fp32, exported precision, with shift consistency) -> final.json."""
    from core.models import count_parameters

    m = rounded_copy(model, cfg["export_half"])
    res = run_evaluation(m, data.final_batches(), device=dev, shifts=tuple(cfg["final_shifts"]), seed=0,
                         progress=progress, total=data.n_final_batches)
    img_s = [r["img_s"] for r in history]
    steady = sorted(img_s[1:] if len(img_s) > 1 else img_s)
    final = {"top1": res["top1"], "top5": res["top5"], "loss": res["loss"], "n_test": res["n"],
             "eval_split": data.eval_split,
             "shift_consistency": res["shift_consistency"], "last_epoch": history[-1], "epochs": cfg["epochs"],
             "wall_s": round(elapsed, 1), "train_img_s_median": steady[len(steady) // 2],
             "params": count_parameters(model), "weights_precision": "fp16" if cfg["export_half"] else "fp32",
             "config": cfg, "data": meta["data"], "env": meta["env"], "commands": meta["commands"],
             "init_from": meta.get("init_from"),
             "wall_s_note": "data decoding, compilation, budget probe, all epochs with their evaluations, final "
                            "evaluation; summed over resumed calls"}
    write_atomic(out / "final.json", json.dumps(final, indent=2) + "\n")
    return final
