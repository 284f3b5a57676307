"""The demo's network error curve, trained against untrained: does invariance improve with depth?

    .venv/bin/python bench/error_curve.py [--weights lscat_skip_cifar10_small] [--modes circular zero]

For each shipped example photo (demo/examples), each shift tau and each boundary mode, runs the
pretrained model ``--weights`` and the same architecture with its untrained initialization
(``core.weights.build_untrained``) on the image and on its translate, and measures per block,
with ``core.analysis.compare_blocks``, the relative error of the wavelet coefficients against the
phase-shift prediction e^{-i xi.tau}(x*psi) ("linear") and of their moduli ("modulus"), over all
orientations and channels. Prints the median over the images, per block, as a table, then one JSON
line per (weights, mode, tau) with the environment, for docs/bench/error_curve.jsonl.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from core.models.registry import kind

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default="lscat_skip_cifar10_small", help="a pretrained entry (default: %(default)s)")
    ap.add_argument("--modes", nargs="+", default=["circular", "zero"], choices=["circular", "zero"])
    ap.add_argument("--taus", nargs="+", default=["0.5,0", "1,1", "2,0"], help="dy,dx pairs in input pixels")
    ap.add_argument("--out", help="append the JSON lines to this file")
    args = ap.parse_args()

    import torch

    from core import weights as pretrained
    from core.analysis.phases import compare_blocks, wavelet_padding
    from core.analysis.shifts import translate
    from core.data import center_square, normalize, to_tensor
    from core.provenance import append_jsonl, measured_on
    from demo.images import EXAMPLES, example_path, load_image

    try:
        taus = [tuple(float(v) for v in t.split(",")) for t in args.taus]
        assert all(len(t) == 2 for t in taus)
    except (ValueError, AssertionError):
        ap.error("--taus takes dy,dx pairs such as 0.5,0")
    try:
        trained, card = pretrained.load(args.weights)
    except pretrained.PretrainedError as e:
        ap.error(str(e))
    if kind(trained) != "scattering":
        ap.error(f"{args.weights} is not a scattering network")
    torch.set_num_threads(1)
    size = pretrained.ENTRIES[args.weights].input_size
    images = [normalize(to_tensor(center_square(load_image(example_path(f), target=size)[0], size)))[None]
              for f, _ in EXAMPLES]
    models = {"trained": trained.requires_grad_(False), "untrained": pretrained.build_untrained(args.weights)}
    env = {**measured_on(paths=("core", "bench")), "weights": args.weights, "weights_top1": card.get("top1"),
           "images": [f for f, _ in EXAMPLES]}
    lines = []
    for mode in args.modes:
        for tau in taus:
            for which, model in models.items():
                lin, mod = [], []
                padding = "circular" if mode == "circular" else "reflect"
                for x in images:
                    with torch.inference_mode(), wavelet_padding(model, padding):
                        _, a = model.forward_intermediates(x, keys=("wavelet", "modulus", "input"))
                        _, b = model.forward_intermediates(translate(x, tau, mode), keys=("wavelet",))
                    rep = compare_blocks(a, b, tau)
                    lin.append([r["linear_error_all"] for r in rep])
                    mod.append([r["modulus_error_all"] for r in rep])
                med = lambda rows: [round(statistics.median(col), 3) for col in zip(*rows)]
                line = {**env, "model": which, "mode": mode, "tau": tau, "linear_error_median": med(lin),
                        "modulus_error_median": med(mod)}
                lines.append(line)
                row = lambda key, line=line: " ".join(f"{v:.3f}" for v in line[key])
                print(f"{mode:8s} tau={tau} {which:9s} linear  " + row("linear_error_median"))
                print(f"{'':8s} {'':{len(str(tau)) + 4}s} {which:9s} modulus " + row("modulus_error_median"))
    for line in lines:
        print(json.dumps(line))
        append_jsonl(args.out, line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
