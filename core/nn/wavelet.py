"""The wavelet transform W of one block (SPEC §2): x -> (x * phi, x * psi_theta), depthwise.

Complex tensors travel as real tensors in *real view*: each complex channel is two adjacent real
channels (re, im). The transform's output has shape (B, C, 1 + L, 2, H', W'): for every input
channel c, index 0 of the third axis is x * phi and index 1 + k is x * psi_k; the fourth axis is
(re, im). :func:`as_complex` turns it into a torch complex tensor for analysis.

The definition (SPEC §2, the reference code): reflect-pad the input by 2 pixels per side, convolve
circularly on that padded grid with the periodized filters, keep every ``stride``-th pixel, crop
the padding. Output pixel u samples input pixel stride * u. Two exact-enough implementations:

* ``"spatial"``: one small convolution on a gathered (reflect + wrap) copy of the input, with the
  windowed filters of ``core.nn.filters`` and the complex arithmetic folded into the conv weights.
  Computes only the kept pixels. Error against the definition: the filters' l1 tail beyond the
  window, at most ``core.nn.filters.TAIL_TOL`` = 1e-3 (checked in tests/test_wavelet.py).
* ``"fft"``: the definition itself, by FFT on the padded grid (float32 even under autocast).

``"auto"`` takes the spatial path when the window is at most ``AUTO_MAX_KERNEL`` wide (every
CIFAR filter set, 7x7) and the FFT path otherwise (the elongated L = 8 ImageNet filters need 11x11
and 15x15 windows). bench/bench_speed.py measures both.

``padding="circular"`` (for analysis, not the reference) skips the reflect padding and convolves
on the torus of the image grid itself, so that circular shifts of the input are exactly shifts
of the output (for shifts that are multiples of the stride).

Odd sizes (a deliberate deviation, SPEC §4 says "decide"): the padding is 2 pixels on every side
for every size, and subsampling keeps floor(N/2) pixels (input pixels 0, 2, ..., 2 floor(N/2) - 2).
Even sizes are exactly the reference. The reference instead pads odd sizes asymmetrically and
crops 7 -> 6 in a block that should keep the size; here such blocks keep it (7 -> 7 -> 3).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.nn.filters import FilterSet, periodized, window_bank

PAD = 2  # reflect padding per side, as in the reference
AUTO_MAX_KERNEL = 7


def output_size(n: int, stride: int) -> int:
    """Spatial size after a block: n if stride 1, floor(n/2) if stride 2."""
    return n if stride == 1 else n // 2


def _mirror(i: np.ndarray, n: int) -> np.ndarray:
    """Reflect-without-edge-repeat index map (numpy/torch 'reflect'), valid for any offset."""
    if n == 1:
        return np.zeros_like(i)
    period = 2 * (n - 1)
    i = np.mod(i, period)
    return np.where(i < n, i, period - i)


def padded_index(n: int, padding: str = "reflect") -> np.ndarray:
    """Source index of every pixel of the padded grid: reflect-padded by PAD per side (size
    n + 2 PAD), or the image grid itself for ``padding="circular"`` (the torus)."""
    if padding == "circular":
        return np.arange(n)
    return _mirror(np.arange(-PAD, n + PAD), n)


def pad_width(padding: str) -> int:
    return 0 if padding == "circular" else PAD


def full_precision(x: torch.Tensor) -> torch.Tensor:
    """float32 at least: bf16/fp16 are promoted, float64 stays (statistics, FFTs, analysis)."""
    return x if x.dtype == torch.float64 else x.float()


def as_complex(w: torch.Tensor) -> torch.Tensor:
    """Real view (..., 2, H, W) -> complex (..., H, W) (complex64, or complex128 from float64)."""
    w = full_precision(w).movedim(-3, -1).contiguous()
    return torch.view_as_complex(w)


def from_complex(z: torch.Tensor) -> torch.Tensor:
    """Complex (..., H, W) -> real view (..., 2, H, W)."""
    return torch.view_as_real(z).movedim(-1, -3)


class WaveletTransform(nn.Module):
    """x -> (x * phi, x * psi_1..L), per channel, subsampled by the filter set's stride.

    Args:
        channels: number of input channels C (complex channels when ``complex_input``).
        filters: a :class:`core.nn.filters.FilterSet`.
        complex_input: input is real view (B, 2C, H, W) if True, real (B, C, H, W) if False.
        impl: "auto", "spatial" or "fft".
        padding: "reflect" (the reference, default) or "circular" (the torus; for analysis).

    Returns (B, C, 1 + L, 2, H', W'), see the module docstring.
    """

    def __init__(self, channels: int, filters: FilterSet, complex_input: bool, impl: str = "auto",
                 padding: str = "reflect"):
        super().__init__()
        if impl not in ("auto", "spatial", "fft"):
            raise ValueError(f"impl must be 'auto', 'spatial' or 'fft', got {impl!r}")
        if padding not in ("reflect", "circular"):
            raise ValueError(f"padding must be 'reflect' or 'circular', got {padding!r}")
        self.padding = padding
        self.channels, self.filters, self.complex_input = channels, filters, complex_input
        self.L, self.stride, self.radius = filters.L, filters.stride, filters.radius
        if impl == "auto":
            impl = "spatial" if 2 * self.radius + 1 <= AUTO_MAX_KERNEL else "fft"
        self.impl = impl
        phi, psi = window_bank(filters)
        # Spatial weights: a conv from the (re, im) of one channel to 2 (1 + L) real outputs,
        # with the complex products folded in. F.conv2d correlates, so the kernels are flipped.
        phi_t = torch.from_numpy(phi[::-1, ::-1].copy())
        psi_t = torch.from_numpy(psi[:, ::-1, ::-1].copy())
        zero = torch.zeros_like(phi_t)
        rows = [torch.stack([phi_t, zero]), torch.stack([zero, phi_t])]
        for k in range(self.L):
            pr, pi = psi_t[k].real, psi_t[k].imag
            rows += [torch.stack([pr, -pi]), torch.stack([pi, pr])]
        weight = torch.stack(rows)  # (2 (1 + L), 2, K, K)
        if not complex_input:
            weight = weight[:, :1]  # imaginary input part is zero
        self.register_buffer("weight", weight.float(), persistent=False)
        self._index_cache: dict = {}
        self._fft_cache: dict = {}

    def extra_repr(self) -> str:
        kind = "complex" if self.complex_input else "real"
        k = 2 * self.radius + 1
        return (f"channels={self.channels} ({kind}), filters={self.filters.name}, L={self.L}, "
                f"stride={self.stride}, impl={self.impl}, kernel={k}x{k}, padding={self.padding}")

    @property
    def out_channels(self) -> int:
        return self.channels * (1 + self.L)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        per = 2 if self.complex_input else 1
        if x.dim() != 4 or x.shape[1] != per * self.channels:
            raise ValueError(f"{type(self).__name__} expects (B, {per * self.channels}, H, W), got {tuple(x.shape)}")
        if self.impl == "spatial":
            return self._spatial(x)
        return self._fft(x)

    # -- spatial path ---------------------------------------------------------------------
    def _gather_index(self, n: int, device) -> torch.Tensor:
        """Input rows feeding the kept outputs: reflect-pad then wrap around the padded grid."""
        key = (n, str(device), self.padding)
        if key not in self._index_cache:
            src = padded_index(n, self.padding)
            m, pad = len(src), pad_width(self.padding)
            n_out = output_size(n, self.stride)
            p = np.arange(pad - self.radius, pad + (n_out - 1) * self.stride + self.radius + 1)
            self._index_cache[key] = torch.from_numpy(src[np.mod(p, m)]).to(device)
        return self._index_cache[key]

    def _spatial(self, x: torch.Tensor) -> torch.Tensor:
        B, _, H, W = x.shape
        per = 2 if self.complex_input else 1
        ri, ci = self._gather_index(H, x.device), self._gather_index(W, x.device)
        x = x.reshape(B * self.channels, per, H, W)[:, :, ri[:, None], ci[None, :]]  # one gather pass
        y = F.conv2d(x, self.weight.to(x.dtype), stride=self.stride)
        return y.view(B, self.channels, 1 + self.L, 2, y.shape[-2], y.shape[-1])

    # -- FFT path (the definition) ----------------------------------------------------------
    def _fourier_filters(self, m: int, n: int, device, dtype: torch.dtype, scale: float = 1.0) -> torch.Tensor:
        """``scale`` times the (1 + L, m, n) filter spectra on an m x n grid, computed in float64 once
        and cached per grid, device, complex dtype and scale (no conversion per call)."""
        key = (m, n, str(device), dtype, scale)
        if key not in self._fft_cache:
            bank = [periodized(self.filters.phi, m, n, morlet=False)]
            bank += [periodized(f, m, n, morlet=True) for f in self.filters.psi]
            hat = np.fft.fft2(np.stack(bank)) * scale
            self._fft_cache[key] = torch.from_numpy(hat).to(device=device, dtype=dtype)
        return self._fft_cache[key]

    def _fft_index(self, n: int, device) -> torch.Tensor:
        key = (n, str(device), self.padding, "fft")
        if key not in self._index_cache:
            self._index_cache[key] = torch.from_numpy(padded_index(n, self.padding)).to(device)
        return self._index_cache[key]

    def _fft(self, x: torch.Tensor) -> torch.Tensor:
        B, _, H, W = x.shape
        pad = pad_width(self.padding)
        x = full_precision(x)
        if pad:  # the circular grid is the image itself: no gather
            ri, ci = self._fft_index(H, x.device), self._fft_index(W, x.device)
            x = x[:, :, ri[:, None], ci[None, :]]
        if self.complex_input:
            x = as_complex(x.view(B, self.channels, 2, x.shape[-2], x.shape[-1]))
        m, n = x.shape[-2:]
        spec = torch.fft.fft2(x)[:, :, None]
        ho, wo = output_size(H, self.stride), output_size(W, self.stride)
        s = self.stride
        aliased = s == 2 and m % 2 == 0 and n % 2 == 0
        # (B, C, 1+L, m, n); the aliased path's 1/4 is folded into the cached filters
        spec = spec * self._fourier_filters(m, n, x.device, spec.dtype, 0.25 if aliased else 1.0)
        if aliased:
            # Subsampling in space = averaging the four aliased quarters of the spectrum
            # (rows first, then columns: two half-size sums instead of three quarter-size ones).
            h2, w2 = m // 2, n // 2
            spec = spec[..., :h2, :] + spec[..., h2:, :]
            spec = spec[..., :w2] + spec[..., w2:]
            y = torch.fft.ifft2(spec)[..., pad // 2: pad // 2 + ho, pad // 2: pad // 2 + wo]
        else:
            y = torch.fft.ifft2(spec)[..., pad: pad + (ho - 1) * s + 1: s, pad: pad + (wo - 1) * s + 1: s]
        return from_complex(y).contiguous()
