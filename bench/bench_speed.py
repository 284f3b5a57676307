"""Speed benchmark: training-step throughput and the phase-collapse operator against kymatio.

    python bench/bench_speed.py                      # CPU, fp32: the numbers in README.md
    python bench/bench_speed.py --device cuda --amp bf16 --channels-last --compile --imagenet

What is timed (img/s, after warm-up, wall clock with device synchronization):
  * train step: forward + cross-entropy + backward + SGD(momentum 0.9) step on random inputs that
    already sit on the device (no data loading, like the authors' measurement in SPEC §7), for
    lscat_skip_cifar10 and resnet18_cifar10 at the same batch size, and with --imagenet also
    lscat_skip_imagenet at 224 px;
  * operator: the phase-collapse operator rho W of one block, x -> (x * phi(2u), |x * psi_theta(2u)|)
    with the standard J=1, L=8 filters (core.nn.wavelet + core.nn.nonlinearities.modulus), forward only,
    against kymatio's Scattering2D(J=1, L=8, max_order=1) on the same input. Both give 9 maps per
    channel at half resolution; kymatio additionally low-passes |x * psi| (its definition of S1).

Each result is printed as a table row and appended as one JSON line to --out.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from core.models import build_model
from core.nn.filters import standard
from core.nn.nonlinearities import modulus
from core.nn.wavelet import WaveletTransform
from core.provenance import append_jsonl, cpu_name, measured_on
from core.runtime import usable_cpus


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timeit(fn, device, warmup: int, iters: int) -> float:
    """Seconds per call (median of ``iters`` timed calls after ``warmup`` untimed ones)."""
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def header(args) -> dict:
    """Where and when (core.provenance.measured_on) and how: device, precision, layout, compilation."""
    dev = torch.device(args.device)
    return {**measured_on(paths=("core", "bench")),
            "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"CPU ({cpu_name()})",
            "amp": args.amp, "channels_last": args.channels_last, "compile": args.compile}


def train_step_throughput(name: str, size: int, batch: int, args, **build) -> float:
    dev = torch.device(args.device)
    model = build_model(name, **build).to(dev)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt).train()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9, weight_decay=1e-4)
    step_model = torch.compile(model) if args.compile else model
    x = torch.randn(batch, 3, size, size, device=dev).to(memory_format=fmt)
    y = torch.randint(0, model.num_classes, (batch,), device=dev)
    amp = torch.autocast(dev.type, dtype=torch.bfloat16, enabled=args.amp == "bf16")

    def step():
        with amp:
            loss = F.cross_entropy(step_model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return batch / timeit(step, dev, args.warmup, args.iters)


def operator_throughput(size: int, batch: int, args, impl: str) -> tuple[float, float]:
    """(ours, kymatio) images/s of the J=1, L=8 operator on (batch, 3, size, size)."""
    from kymatio.scattering2d.frontend.torch_frontend import ScatteringTorch2D

    dev = torch.device(args.device)
    x = torch.randn(batch, 3, size, size, device=dev)
    op = WaveletTransform(3, standard(8), complex_input=False, impl=impl).to(dev)
    amp = torch.autocast(dev.type, dtype=torch.bfloat16, enabled=args.amp == "bf16" and impl == "spatial")

    def ours():
        with torch.no_grad(), amp:
            w = op(x)
            return w[:, :, 0], modulus(w[:, :, 1:])

    ours_fn = torch.compile(ours) if args.compile else ours
    kym = ScatteringTorch2D(J=1, shape=(size, size), L=8, max_order=1).to(dev)

    def theirs():
        with torch.no_grad():
            return kym(x)

    return (batch / timeit(ours_fn, dev, args.warmup, args.iters),
            batch / timeit(theirs, dev, args.warmup, args.iters))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                   help="cpu or cuda (default: %(default)s)")
    p.add_argument("--amp", choices=["none", "bf16"], default="none", help="autocast dtype (default: %(default)s)")
    p.add_argument("--channels-last", action="store_true", help="channels_last memory format for the models")
    p.add_argument("--compile", action="store_true", help="torch.compile the model / operator")
    p.add_argument("--batch", type=int, default=None, help="CIFAR training batch (default: 64 on CPU, 512 on GPU)")
    p.add_argument("--imagenet", action="store_true", help="also time lscat_skip_imagenet at 224 px")
    p.add_argument("--imagenet-batch", type=int, default=64, help="batch for the 224 px model (default: %(default)s)")
    p.add_argument("--warmup", type=int, default=2, help="untimed iterations (default: %(default)s)")
    p.add_argument("--iters", type=int, default=5, help="timed iterations, median reported (default: %(default)s)")
    p.add_argument("--skip", nargs="*", default=[], choices=["train", "operator"], help="parts to skip")
    p.add_argument("--out", type=Path, default=None, help="append JSON lines here")
    args = p.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda requested but no CUDA device is available")
    if args.device == "cpu":
        torch.set_num_threads(usable_cpus())
    batch = args.batch or (512 if args.device == "cuda" else 64)
    head = header(args)
    print("# " + ", ".join(f"{k}={v}" for k, v in head.items()), flush=True)
    rows = []

    def emit(kind, name, value, **extra):
        key, unit = ("ratio", "x") if kind == "ratio" else ("img_per_s", "img/s")
        row = {**head, "kind": kind, "name": name, key: round(value, 2), **extra}
        rows.append(row)
        print(f"| {kind:9s} | {name:45s} | {value:10.2f} {unit:5s} | {json.dumps(extra)}", flush=True)
        append_jsonl(args.out, row)

    if "train" not in args.skip:
        ls = train_step_throughput("lscat_skip_cifar10", 32, batch, args)
        emit("train", "lscat_skip_cifar10 (32 px)", ls, batch=batch)
        rn = train_step_throughput("resnet18_cifar10", 32, batch, args)
        emit("train", "resnet18_cifar10 (32 px)", rn, batch=batch)
        emit("ratio", "lscat_skip_cifar10 / resnet18_cifar10", ls / rn)
        if args.device == "cuda":  # SPEC §7: the authors' code, fp32, one H200
            emit("ratio", "lscat_skip_cifar10 / authors' H200 (2,485)", ls / 2485)
        if args.imagenet:
            im = train_step_throughput("lscat_skip_imagenet", 224, args.imagenet_batch, args)
            emit("train", "lscat_skip_imagenet (224 px)", im, batch=args.imagenet_batch)
            if args.device == "cuda":
                emit("ratio", "lscat_skip_imagenet / authors' H200 (174)", im / 174)
    if "operator" not in args.skip:
        for size, b in ((32, 256), (224, 16)):
            for impl in ("spatial", "fft"):
                ours, theirs = operator_throughput(size, b, args, impl)
                emit("operator", f"rho W J=1 L=8, {size} px, impl={impl}", ours, batch=b)
                emit("operator", f"kymatio Scattering2D J=1 L=8, {size} px", theirs, batch=b)
                emit("ratio", f"ours ({impl}) / kymatio, {size} px", ours / theirs)


if __name__ == "__main__":
    main()
