import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# One intra-op thread: these tests use small tensors, for which thread start-up dominates.
torch.set_num_threads(1)


@pytest.fixture
def smooth_image():
    """A smooth random 64x64 image: Gaussian noise with a 1/f^1.5 amplitude spectrum (float64)."""
    from core.analysis.shifts import frequency_grid

    g = torch.Generator().manual_seed(0)
    wy, wx = frequency_grid(64, 64)
    amp = 1 / ((wy**2 + wx**2).sqrt() + 0.05) ** 1.5
    noise = torch.complex(torch.randn(64, 64, generator=g, dtype=torch.float64),
                          torch.randn(64, 64, generator=g, dtype=torch.float64))
    return torch.fft.ifft2(noise * amp).real


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through playwright, launched with the browser benchmark's flags (one per
    test module). Skipped only when chromium is absent and PHASE_COLLAPSE_REQUIRE_BROWSER is unset;
    with it set (.ci/run sets it whenever it could install chromium), a missing browser fails."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        if os.environ.get("PHASE_COLLAPSE_REQUIRE_BROWSER"):
            pytest.fail("PHASE_COLLAPSE_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    from bench import bench_browser

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium), args=bench_browser.ARGS)
        yield b
        b.close()
