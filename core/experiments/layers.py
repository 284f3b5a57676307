"""The per-layer experiment: class-mean separation block by block, ``mod`` against ``cst``.
"""

from __future__ import annotations

import json
from pathlib import Path

from core.experiments.summary import mean_std, pm, write_figure
from core.experiments.tables import LAYERS_SOURCE, SCALES, TABLES, ExperimentError, run_dir


def run_layers(data: str, out: Path, docs: Path, fit_images: int = 10_000, device: str | None = None,
               seeds: list[int] | tuple[int, ...] = (0,), scale: str = "full") -> Path:
    """Separation by block for the mod and cst LScat+skip runs of table 2, for each of ``seeds``."""
    from core import data as D
    from core.analysis.separation import separation_by_block
    from core.files import write_atomic
    from core.runtime import pick_device
    from core.training.errors import TrainError
    from core.training.model import load_trained

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
                raise ExperimentError(f"{run / 'final.json'} is missing: run `python -m core experiments {src}"
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
