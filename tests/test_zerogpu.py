"""ZeroGPU: demo.compute.gpu under a stand-in for Hugging Face's ``spaces`` package that does to a call what
ZeroGPU does (the ``spaces`` source, zero/wrappers.py): the duration asked is resolved from the call's
arguments, the arguments and the result are pickled, and the task runs in a process forked from the
server, so that nothing it caches comes back. Without ``spaces`` or ``SPACES_ZERO_GPU`` nothing is wrapped."""

from __future__ import annotations

import multiprocessing
import pickle
import sys
import types

import pytest
from _demo_support import CAT

from demo.compute import gpu
from demo.models.store import ModelStore
from demo.ui.app import App

CALLS: list[tuple[str, float]] = []


def fake_gpu(duration=None):
    def wrap(fn):
        def call(*args, **kwargs):
            asked = duration(*args, **kwargs) if callable(duration) else duration
            CALLS.append((fn.__name__, asked))
            payload = pickle.dumps((args, kwargs))  # ZeroGPU's arg_queue: a PicklingError here fails the call
            ctx = multiprocessing.get_context("fork")
            receive, send = ctx.Pipe(duplex=False)

            def worker():
                a, k = pickle.loads(payload)
                try:
                    send.send_bytes(pickle.dumps(("ok", fn(*a, **k))))
                except BaseException as e:  # noqa: BLE001 (reported to the caller, as ZeroGPU does)
                    send.send_bytes(pickle.dumps(("error", repr(e))))

            p = ctx.Process(target=worker)
            p.start()
            status, value = pickle.loads(receive.recv_bytes())
            p.join()
            if status != "ok":
                raise RuntimeError(f"ZeroGPU worker error: {value}")
            return value

        return call

    return wrap


@pytest.fixture()
def zerogpu(monkeypatch):
    """The stand-in installed as `spaces`, with SPACES_ZERO_GPU set; the decorations made afresh."""
    spaces = types.ModuleType("spaces")
    config = types.ModuleType("spaces.config")
    config.Config = types.SimpleNamespace(zero_gpu=True)
    spaces.GPU = fake_gpu
    spaces.config = config
    monkeypatch.setitem(sys.modules, "spaces", spaces)
    monkeypatch.setitem(sys.modules, "spaces.config", config)
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    monkeypatch.setattr(gpu, "_DECORATED", {})
    CALLS.clear()
    yield CALLS


def test_nothing_is_wrapped_without_zerogpu(monkeypatch):
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    assert not gpu.zero_gpu() and gpu.on_gpu(gpu.forward_pass, 20) is gpu.forward_pass
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")  # the variable alone, without the package (local installs)
    monkeypatch.setitem(sys.modules, "spaces.config", None)  # import fails
    assert not gpu.zero_gpu()


def test_the_store_crosses_to_a_worker_as_a_reference():
    store = ModelStore()
    assert pickle.loads(pickle.dumps(store)) is store
    assert len(pickle.dumps(store)) < 200  # no weights, no locks


def test_map_seconds_grow_with_the_grid():
    assert gpu.map_seconds(9) < gpu.map_seconds(17 * 17) < gpu.map_seconds(33 * 33) <= 150


def run_every_endpoint(app: App, tmp_path) -> dict:
    """The numbers of analyze, shift, stability, invariance_curve and animation for the cat photo."""
    out = {}
    out["analyze"] = app.analysis.analyze(str(CAT), 0.5, 0.25, "circular", "lscat_skip_cifar10", 2, 0)[7]
    out["shift"] = app.analysis.shift(str(CAT), 1.5, 0.0, "zero", "lscat_skip_cifar10", 0, 1)[7]
    out["stability"] = app.invariance.stability(str(CAT), "circular", "lscat_skip_cifar10", 1.0, 3, None)[2]
    out["curve"] = app.invariance.invariance_curve(str(CAT), "circular", "lscat_skip_cifar10", 1.0, 3, None)[2]
    gif, _, caption = app.invariance.animation(str(CAT), "circular", "lscat_skip_cifar10", 2, 1, 0, 2.0)
    out["animation"] = caption
    return out


def close(a, b, tol=1e-4) -> bool:
    """Equal up to float rounding (one CPU thread in the worker sums in another order); timings skipped."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k], tol) for k in a if k != "seconds")
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b))
    if isinstance(a, float):
        return abs(a - b) <= tol * max(1.0, abs(a))
    return a == b


def test_every_endpoint_runs_through_zerogpu_workers_with_the_local_results(zerogpu, tmp_path, monkeypatch):
    monkeypatch.setenv("SPACES_ZERO_GPU", "false")
    local = run_every_endpoint(App(), tmp_path)
    assert zerogpu == []
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    remote = run_every_endpoint(App(), tmp_path)
    assert close(local, remote)
    names = [name for name, _ in zerogpu]
    # analyze: original + translate; shift: both again (a new boundary); the map: the shipped ResNet-18's
    # original, then one map per model of the pair (the curve reuses them); the GIF: the frames only (its
    # model's original is cached)
    assert names.count("forward_pass") == 5 and names.count("stability_pass") == 2
    assert names.count("frames_pass") == 1
    asked = dict(zerogpu)
    assert asked["forward_pass"] == gpu.SECONDS["forward"] and asked["frames_pass"] == gpu.SECONDS["frames"]
    assert asked["stability_pass"] == gpu.map_seconds(9)


def test_hosting_doc_states_the_durations_the_code_asks():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "HOSTING.md").read_text()
    assert f"| forward (page update, `analyze`, `shift`) | {gpu.SECONDS['forward']} |" in doc
    assert f"| GIF frames (`animation`) | {gpu.SECONDS['frames']} |" in doc
    assert (f"{gpu.MAP_SECONDS_BASE} + {gpu.MAP_SECONDS_PER_100} per 100 shifts: {gpu.map_seconds(17 * 17)} s for "
            f"17 x 17, {gpu.map_seconds(33 * 33)} s for 33 x 33") in doc
