"""The tables' reports: the paper's errors beside ours (mean +- std over seeds), as Markdown, HTML and PNG.
"""

from __future__ import annotations

import json
from pathlib import Path

from core.experiments.layers import layers_report
from core.experiments.summary import error_ratio, mean_std, pm, write_figure
from core.experiments.tables import DOCS, ROOT, SCALES, TABLES, ExperimentError, home, slug


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
        lines += [f"No run has finished yet: see `python -m core experiments list{scale_opt}` for the commands.", ""]
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
            out.append(f"  python -m core experiments {name}{opt_scale} {opt} ROOT --rows {slug(row.label)} "
                       f"--seeds {seeds_txt}{same}")
    out.append(f"layers: class-mean separation by block (needs table2's mod and cst, seeds {seeds_txt})")
    out.append(f"  python -m core experiments layers{opt_scale} --cifar10 ROOT --seeds {seeds_txt}")
    if scale != "full":
        out.append(f"everything at this scale, then the report ({sc.cost}):")
        out.append(f"  python -m core experiments all{opt_scale} --cifar10 ROOT --seeds {seeds_txt}")
    others = [n for n in SCALES if n != scale]
    out.append(f"other scales: {', '.join(others)} (list --scale NAME)")
    return "\n".join(out)


def scales_help() -> str:
    lines = ["scales (--scale):"]
    for name, sc in SCALES.items():
        lines.append(f"  {name:7s} {sc.summary}; tables {', '.join(sc.tables)}")
        lines.append(f"          estimated cost: {sc.cost}")
    return "\n".join(lines)
