import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# One intra-op thread: these tests use small tensors, for which thread start-up dominates.
torch.set_num_threads(1)


@pytest.fixture
def smooth_image():
    """A smooth random 64x64 image: Gaussian noise with a 1/f^1.5 amplitude spectrum (float64)."""
    from core.analysis import frequency_grid

    g = torch.Generator().manual_seed(0)
    wy, wx = frequency_grid(64, 64)
    amp = 1 / ((wy**2 + wx**2).sqrt() + 0.05) ** 1.5
    noise = torch.complex(torch.randn(64, 64, generator=g, dtype=torch.float64),
                          torch.randn(64, 64, generator=g, dtype=torch.float64))
    return torch.fft.ifft2(noise * amp).real
