"""DDP helpers: process group from torchrun's environment, per-channel batch moments over all ranks
(``channel_moments``, numerically robust, one all-reduce), and a BatchNorm2d whose batch statistics
are summed over all ranks (torch's SyncBatchNorm refuses CPU tensors, so it cannot be tested on gloo).

The learned-scattering Std layers (core/layers.py) already all-reduce their batch sums; with
:func:`sync_batchnorm` the head's BatchNorm2d (and every BatchNorm2d of a ResNet) does the same, so
N ranks with B/N images each compute exactly the statistics of one process with B images.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch import nn


def is_dist() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank_world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def init_from_env() -> bool:
    """Initialize the default process group when launched by torchrun (WORLD_SIZE > 1); NCCL on CUDA,
    gloo otherwise. Returns True if this call initialized it."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return False
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend)
    return True


def all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    """Differentiable sum over ranks (the gradient is summed over ranks too); identity in a single process.

    Uses the functional collectives where they have autograd (newer torch; they also work under
    torch.compile), else the older torch.distributed.nn.functional.all_reduce."""
    if not is_dist():
        return t
    import torch.distributed._functional_collectives as fc

    if hasattr(fc, "all_reduce_backward"):
        return fc.all_reduce(t, "sum", dist.group.WORLD)
    from torch.distributed.nn.functional import all_reduce

    return all_reduce(t)


def channel_moments(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(mean, biased variance, count) per channel of x (B, C, H, W) over (B, H, W) and over all DDP
    ranks, differentiable, with one all-reduce. x's dtype is kept (float32, or float64).

    One pass, without the cancellation of E[x^2] - E[x]^2 (which loses every digit of the variance
    in float32 once |mean| / std reaches ~1e3): each rank sums d = x - s and d^2 around a shift s,
    the mean of its first image per channel (detached: the variance does not depend on s), so its
    local mean is s + sum(d)/n and its centred sum of squares sum(d^2) - sum(d)^2/n. Across ranks
    the (n m, n m^2, centred sum) triples are summed in float64, where n m^2 - n mean^2 keeps its
    digits (Chan et al.'s parallel variance written as sums, so that one all-reduce suffices)."""
    n_local = x.numel() // x.shape[1]
    shift = x[0].mean(dim=(1, 2)).detach()
    d = x - shift[:, None, None]
    s1, s2 = d.sum(dim=(0, 2, 3)), d.square().sum(dim=(0, 2, 3))
    mean = shift + s1 / n_local
    m2 = s2 - s1 * (s1 / n_local)
    if not is_dist():
        return mean, (m2 / n_local).clamp_min(0), torch.tensor(float(n_local), dtype=x.dtype, device=x.device)
    c, m64 = x.shape[1], mean.double()
    sums = all_reduce_sum(torch.cat([n_local * m64, n_local * m64.square(), m2.double(),
                                     torch.tensor([float(n_local)], dtype=torch.float64, device=x.device)]))
    n = sums[-1]
    mean_all = sums[:c] / n
    m2_all = sums[2 * c:3 * c] + (sums[c:2 * c] - n * mean_all.square())
    return mean_all.to(x.dtype), (m2_all / n).clamp_min(0).to(x.dtype), n.to(x.dtype)


class DistBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d with batch statistics over all ranks (same state_dict keys as BatchNorm2d)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and is_dist()):
            return super().forward(x)
        xf = x.float()
        mean, var, n = channel_moments(xf)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.lerp_(mean, m)
                self.running_var.lerp_(var * n / (n - 1).clamp_min(1), m)
        y = (xf - mean[:, None, None]) * torch.rsqrt(var + self.eps)[:, None, None]
        if self.affine:
            y = y * self.weight[:, None, None] + self.bias[:, None, None]
        return y.to(x.dtype)


def sync_batchnorm(module: nn.Module) -> nn.Module:
    """Replace every nn.BatchNorm2d in ``module`` by a DistBatchNorm2d holding the same state."""
    for name, child in module.named_children():
        if type(child) is nn.BatchNorm2d:
            new = DistBatchNorm2d(child.num_features, child.eps, child.momentum, child.affine,
                                  child.track_running_stats, device=child.running_mean.device
                                  if child.running_mean is not None else None)
            new.load_state_dict(child.state_dict())
            setattr(module, name, new)
        else:
            sync_batchnorm(child)
    return module
