"""Measured against predicted phase shifts over real images: why the demo's phase plot is not on the diagonal.

    .venv/bin/python bench/phase_slope.py --data .data/cifar10-jpeg [--images 20] [--tau 0.25] \
        [--weights lscat_skip_cifar10_small] [--out docs/bench/phase_slope.jsonl]

For each of --images test images (the first of each class in turn), translates by tau = (0, tau)
input pixels (circular Fourier shift; the wavelets run on the torus, as in the demo's circular
mode) and collects, per block and orientation, the measured phase shift angle(sum ws conj(w)), the
prediction -xi . tau_block and the local-frequency prediction -omega_bar . tau_block
(core.analysis.spectral_moments). Prints per block the least-squares slope through the origin of
measured against each prediction (1 = on the diagonal) and the median |xi| / |omega_bar|.
Writes one JSON line with the machine, torch version, date and commit.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from core import weights as pretrained
from core.analysis.phases import compare_blocks, wavelet_padding
from core.analysis.shifts import translate
from core.data import normalize, open_dataset, to_tensor
from core.provenance import append_jsonl, load_average, measured_on

ROOT = Path(__file__).resolve().parents[1]


def _fit(p: torch.Tensor, meas: torch.Tensor) -> float:
    """Least-squares slope through the origin of meas against p."""
    return float((p * meas).sum() / (p * p).sum().clamp_min(1e-30))


def slopes(rows: list[list[dict]]) -> list[dict]:
    out = []
    for j in range(len(rows[0])):
        meas = torch.tensor([m for r in rows for m in r[j]["measured_phase"]], dtype=torch.float64)
        xi = torch.tensor([m for r in rows for m in r[j]["predicted_phase"]], dtype=torch.float64)
        loc = torch.tensor([m for r in rows for m in r[j]["predicted_phase_local"]], dtype=torch.float64)
        out.append({"block": j, "slope_vs_xi": round(_fit(xi, meas), 3), "slope_vs_local": round(_fit(loc, meas), 3),
                    "ratio_local_to_xi": round(float((loc.abs() / xi.abs().clamp_min(1e-9)).median()), 3)})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="CIFAR-10 root (ImageFolder train/ test/, or torchvision's)")
    p.add_argument("--images", type=int, default=20)
    p.add_argument("--tau", type=float, default=0.25)
    p.add_argument("--weights", default="lscat_skip_cifar10_small")
    p.add_argument("--out", help="append the JSON line to this file")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    model, card = pretrained.load(args.weights)
    ds = open_dataset("cifar10", args.data, "test")
    targets = getattr(ds, "targets", None) or [t for _, t in ds.samples]
    by_class = [[i for i, t in enumerate(targets) if t == c] for c in range(10)]
    picks = [by_class[n % 10][n // 10] for n in range(args.images)]  # classes in turn
    tau = (0.0, args.tau)
    head = measured_on(paths=("core", "bench"))
    rows = []
    with wavelet_padding(model, "circular"), torch.inference_mode():
        for i in picks:
            x = normalize(to_tensor(ds[i][0]))[None]
            _, a = model.forward_intermediates(x, keys=("wavelet", "modulus", "input"))
            _, b = model.forward_intermediates(translate(x, tau, "circular"), keys=("wavelet",))
            rows.append(compare_blocks(a, b, tau))
    result = {"what": "phase slope", **head, "weights": args.weights, "images": len(picks), "tau": tau,
              "mode": "circular", "blocks": slopes(rows), "load_after": load_average()}
    for b in result["blocks"]:
        print(f"block {b['block']}: measured/(-xi.tau) {b['slope_vs_xi']:.3f}   measured/(-omega_bar.tau) "
              f"{b['slope_vs_local']:.3f}   |omega_bar|/|xi| {b['ratio_local_to_xi']:.3f}")
    print(json.dumps(result))
    append_jsonl(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
