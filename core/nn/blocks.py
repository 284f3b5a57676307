"""The rest of a learned-scattering block and the head (SPEC §3).

A block is  W -> rho -> Std -> P -> N.  W is ``core.nn.wavelet.WaveletTransform``, rho is
``core.nn.nonlinearities.ComplexNonlinearity``; this file holds Std, P, N, the block and the head.

Between rho and P the tensor is *mixed*: ``n_complex`` complex channels in real view (2 adjacent
real channels each, (re, im)) followed by ``n_real`` real channels (the moduli). P treats a real
channel as a complex one with zero imaginary part, without spending work on that zero.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.nn.distributed import channel_moments
from core.nn.filters import FilterSet
from core.nn.nonlinearities import ComplexNonlinearity
from core.nn.wavelet import WaveletTransform, full_precision


class ComplexStandardization(nn.Module):
    """Std: per-channel complex standardization, no affine (SPEC §3).

    y = (x - mu) / sqrt(E|x - mu|^2 + eps), with mu and the variance taken over (batch, H, W)
    per complex channel (a real channel is a complex one with zero imaginary part). Running
    statistics (momentum 0.1, unbiased variance) are used in eval mode. Under DDP the batch
    statistics are summed over all ranks, so every GPU standardizes with the global batch. The
    variance is computed around a shift, in one pass and one all-reduce, without the cancellation of
    E[x^2] - E[x]^2 (``core.nn.distributed.channel_moments``): accurate at any |mean| / std.
    """

    def __init__(self, n_complex: int, n_real: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        self.n_complex, self.n_real, self.eps, self.momentum = n_complex, n_real, eps, momentum
        n = 2 * n_complex + n_real
        self.register_buffer("running_mean", torch.zeros(n))  # per real channel
        self.register_buffer("running_var", torch.ones(n_complex + n_real))  # per complex channel

    def extra_repr(self) -> str:
        return f"complex={self.n_complex}, real={self.n_real}, eps={self.eps}, momentum={self.momentum}"

    def _per_real_channel(self, var: torch.Tensor) -> torch.Tensor:
        """Complex-channel variances -> one value per real channel (re and im share theirs)."""
        c = self.n_complex
        return torch.cat([var[:c].repeat_interleave(2), var[c:]])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.n_complex
        if self.training:
            mean, second, count = channel_moments(full_precision(x))  # per real channel, over all ranks
            var = torch.cat([second[:2 * c].view(c, 2).sum(1), second[2 * c:]])
            with torch.no_grad():
                m = self.momentum
                self.running_mean.lerp_(mean, m)
                self.running_var.lerp_(var * count / (count - 1).clamp_min(1), m)
        else:
            mean, var = self.running_mean, self.running_var
        scale = torch.rsqrt(self._per_real_channel(var) + self.eps)
        return ((x - mean.to(x.dtype)[:, None, None]) * scale.to(x.dtype)[:, None, None])

    def running_scale(self) -> torch.Tensor:
        """1 / sqrt(running variance + eps), per real channel: eval mode is x -> (x - mean) * this."""
        return torch.rsqrt(self._per_real_channel(self.running_var) + self.eps)


def orthonormal_complex(rows: int, cols: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Complex Gaussian matrix made semi-unitary: orthonormal rows if rows <= cols, else columns.

    This is U V^H of the SVD g = U S V^H, computed as (g g^H)^(-1/2) g (or g (g^H g)^(-1/2)) from the
    eigendecomposition of the small Gram matrix: the same matrix, several times faster to build."""
    g = torch.complex(torch.randn(rows, cols, generator=generator, dtype=torch.float64),
                      torch.randn(rows, cols, generator=generator, dtype=torch.float64))
    wide = rows <= cols
    gram = g @ g.conj().T if wide else g.conj().T @ g
    lam, q = torch.linalg.eigh(gram)
    inv_sqrt = (q * lam.rsqrt()) @ q.conj().T
    return (inv_sqrt @ g if wide else g @ inv_sqrt).to(torch.complex64)


class ComplexLinear(nn.Module):
    """P: bias-free complex 1x1 convolution on a mixed tensor (SPEC §3).

    ``weight`` holds the complex matrix as (out, in, 2) = (re, im); as a real matrix acting on
    (re, im) pairs it is [[Wr, -Wi], [Wi, Wr]], and [[Wr], [Wi]] on a real input channel.
    The output is ``out_channels`` complex channels in real view.
    """

    def __init__(self, n_complex: int, n_real: int, out_channels: int, learn: bool = True):
        super().__init__()
        self.n_complex, self.n_real, self.out_channels = n_complex, n_real, out_channels
        w = orthonormal_complex(out_channels, n_complex + n_real)
        self.weight = nn.Parameter(torch.view_as_real(w).contiguous(), requires_grad=learn)

    def extra_repr(self) -> str:
        learned = "" if self.weight.requires_grad else ", fixed"
        return f"in=({self.n_complex} complex + {self.n_real} real), out={self.out_channels} complex{learned}"

    def complex_matrix(self) -> torch.Tensor:
        return torch.view_as_complex(self.weight.float().contiguous())

    def real_matrix(self) -> torch.Tensor:
        """(2 out, 2 n_complex + n_real) real matrix acting on the mixed real-view input."""
        c = self.n_complex
        wr, wi = self.weight[..., 0], self.weight[..., 1]
        to_re = torch.cat([torch.stack([wr[:, :c], -wi[:, :c]], -1).flatten(1), wr[:, c:]], 1)
        to_im = torch.cat([torch.stack([wi[:, :c], wr[:, :c]], -1).flatten(1), wi[:, c:]], 1)
        return torch.stack([to_re, to_im], 1).flatten(0, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.real_matrix()[:, :, None, None].to(x.dtype))


class PixelNorm(nn.Module):
    """N: divide each pixel's channel vector by its complex L2 norm (plus eps, which the reference lacks)."""

    def __init__(self, eps: float = 1e-6):
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm_sq = full_precision(x).square().sum(dim=1, keepdim=True)
        return x * torch.rsqrt(norm_sq + self.eps).to(x.dtype)


class ScatteringBlock(nn.Module):
    """One block W -> rho -> Std -> P -> N (SPEC §3).

    LScat (``skip=False``): P sees (x*phi, rho(x*psi)), (1 + L) C channels.
    LScat+skip (``skip=True``): P sees (x*phi, x*psi, rho(x*phi), rho(x*psi)), 2 (1 + L) C channels.
    Input: (B, C, H, W) real if not ``complex_input`` else (B, 2C, H, W) real view.
    Output: (B, 2 out_channels, H', W') real view of complex channels.
    """

    def __init__(self, in_channels: int, out_channels: int, filters: FilterSet, *, complex_input: bool,
                 skip: bool, nonlinearity: str = "mod", learn_projection: bool = True, impl: str = "auto"):
        super().__init__()
        self.skip = skip
        self.wavelet = WaveletTransform(in_channels, filters, complex_input, impl)
        L = filters.L
        n_rho = in_channels * (1 + L if skip else L)
        self.rho = ComplexNonlinearity(nonlinearity, (in_channels, 1 + L if skip else L))
        n_linear = in_channels * (1 + L if skip else 1)
        n_complex = n_linear + (0 if self.rho.collapses_phase else n_rho)
        n_real = n_rho if self.rho.collapses_phase else 0
        self.std = ComplexStandardization(n_complex, n_real)
        self.proj = ComplexLinear(n_complex, n_real, out_channels, learn=learn_projection)
        self.norm = PixelNorm()
        self._folded: tuple | None = None  # inference cache of Std folded into P

    def _features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns (wavelet coefficients, rho output, block output)."""
        w = self.wavelet(x)  # (B, C, 1 + L, 2, H, W)
        B, H, W = w.shape[0], w.shape[-2], w.shape[-1]
        if self.skip:
            linear, rho = w.reshape(B, -1, H, W), self.rho(w)
        else:
            linear, rho = w[:, :, 0].reshape(B, -1, H, W), self.rho(w[:, :, 1:])
        z = torch.cat([linear, rho.reshape(B, -1, H, W)], dim=1)
        return w, rho, self.norm(self._standardize_project(z))

    def _standardize_project(self, z: torch.Tensor) -> torch.Tensor:
        """P(Std(z)). At inference (eval mode, no autograd) Std is affine and is folded into P, as
        BatchNorm is folded into a convolution: one 1x1 conv with weight P diag(s) and bias
        -P diag(s) mean, rebuilt only when the weights or the running statistics change."""
        if self.training or torch.is_grad_enabled() or torch.compiler.is_compiling():
            return self.proj(self.std(z))
        p, std = self.proj.weight, self.std
        if any(t.is_inference() for t in (p, std.running_mean, std.running_var)):
            # Weights created under torch.inference_mode (e.g. a model loaded inside it) have no
            # version counter to key a cache on: fold them afresh (a small matrix product) every call.
            return F.conv2d(z, *self._fold(z.dtype))
        key = (p._version, p.data_ptr(), std.running_mean._version, std.running_var._version,
               std.running_mean.data_ptr(), z.dtype, z.device)
        if self._folded is None or self._folded[0] != key:
            self._folded = (key, *self._fold(z.dtype))
        return F.conv2d(z, self._folded[1], self._folded[2])

    def _fold(self, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """(weight, bias) of the 1x1 conv equal to P(Std(.)) in eval mode, computed in float64."""
        std = self.std
        w = self.proj.real_matrix().double() * std.running_scale().double()[None, :]
        b = -(w @ std.running_mean.double())
        return w.to(dtype)[:, :, None, None].contiguous(), b.to(dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._features(x)[2]


class Head(nn.Module):
    """Classifier: (re, im) as real channels -> BatchNorm2d (affine) -> flatten -> Linear (SPEC §3).

    The Linear layer is sized for a ``spatial`` x ``spatial`` final map (the map that the model's
    ``input_size`` produces). An input of another size gives another map; it is then average-pooled
    to ``spatial`` x ``spatial`` (adaptive pooling), so a model runs on any input size.
    """

    def __init__(self, channels: int, spatial: int, num_classes: int):
        super().__init__()
        self.spatial = spatial
        self.bn = nn.BatchNorm2d(2 * channels)
        self.fc = nn.Linear(2 * channels * spatial * spatial, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(x)
        if x.shape[-2:] != (self.spatial, self.spatial):
            x = F.adaptive_avg_pool2d(x, self.spatial)
        return self.fc(x.flatten(1))
