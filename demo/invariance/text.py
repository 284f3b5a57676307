"""The texts of the invariance view: the grid, one line per model, the summary under the map, the curve's
caption and the animation's, each saying what its plot shows for this image."""

from __future__ import annotations

from core.analysis.invariance import StabilityMap
from demo.models.catalog import PAIRS
from demo.models.store import card_accuracy


def fmt(v: float) -> str:
    return f"{v:g}".replace("-", "−")


def signed(v: float) -> str:
    return f"{v:+.2f}".replace("-", "−")


def grid_text(sm: StabilityMap) -> str:
    """The grid as the caption states it (tests/test_invariance.py checks it against the map)."""
    o = sm.offsets
    mode = "circular Fourier shift" if sm.mode == "circular" else "zero-padded shift"
    return (f"{sm.steps} × {sm.steps} = {sm.steps ** 2} shifts: dx and dy each in {{{fmt(o[0])}, {fmt(o[1])}, …, "
            f"{fmt(o[-1])}}} px (step {fmt(sm.step)} px, sub-pixel), {mode}")


def accuracy_text(dm) -> str:
    if not dm.trained:
        return "untrained: chance-level accuracy"
    return card_accuracy(dm.card or {}) or "accuracy not recorded in its card"


def model_line(dm, sm: StabilityMap) -> str:
    lo, hi = sm.prob_range
    name = dm.classes[sm.reference_class]
    return (f"**{dm.label}** ({accuracy_text(dm)}): top class **{name}** kept at {int(sm.kept.sum())} of "
            f"{sm.kept.size} shifts (**{100 * sm.stable_fraction:.1f}%**); its probability "
            f"{lo:.2f}–{hi:.2f} over the grid ({sm.reference_prob:.2f} unshifted).")


def summary(pairs: list[tuple]) -> str:
    """The summary under the map: the grid, one line per model, and the accuracies' warning."""
    sizes = ", ".join(f"{dm.size} px" for dm, _ in pairs)
    lines = [f"**Grid**: {grid_text(pairs[0][1])}, in each model's input pixels ({sizes})."]
    lines += [f"- {model_line(dm, sm)}" for dm, sm in pairs]
    if len(pairs) > 1:
        accs = " and ".join(f"{dm.label.split(' · ')[0]} {accuracy_text(dm)}" for dm, _ in pairs)
        lines.append(f"\nTest accuracies from the model cards: {accs}. A gap in accuracy is not a gap in "
                     "invariance: compare the fractions of shifts kept and the ranges of probability.")
    else:
        base = PAIRS.get(pairs[0][0].key)
        lines.append(f"\nNo ResNet-18 baseline trained with the same recipe is shipped yet: when "
                     f"`pretrained/{base}` is, its map appears beside this one.")
    return "\n".join(lines)


def block_labels(dm, sm: StabilityMap) -> list[str]:
    if dm.is_scattering:
        return [f"block {j} (×{s})" for j, s in enumerate(sm.block_scales)]
    return [("stem" if j == 0 else f"stage {j}") + f" (×{s})" for j, s in enumerate(sm.block_scales)]


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------
def curve_caption(pairs: list[tuple]) -> str:
    sm = pairs[0][1]
    text = (f"Mean over the same grid ({grid_text(sm)}, the shift 0 left out). Blue: LScat+skip, per block the "
            f"relative change of the wavelet moduli |x∗ψ| over all channels and orientations (compare_blocks' "
            f"modulus error). ")
    if len(pairs) > 1:
        text += ("Green: ResNet-18, per stage the relative change of its output, without shifting back "
                 "(core.analysis.explain.feature_change); the two measures differ, their trends with depth compare. ")
    return text + "Lower = more invariant at that depth."




def animation_caption(label: str, j: int, info, ch: int, kk: int, axis: str, max_shift: float, n: int,
                       boundary: str, last: dict) -> str:
    return (f"{label}, block {j} (one block pixel = {info.scale} input px at its input, maps "
            f"{info.out_size[0]}×{info.out_size[1]}), channel {ch}, orientation θ{kk}: {axis} from 0 to "
            f"{fmt(max_shift)} px in {n} frames ({boundary}). The phase turns by −ξ·τ = "
            f"{signed(last['predicted_phase'])} rad (measured {signed(last['measured_phase'])}); the moduli "
            f"change by {100 * last['modulus_change']:.0f}%, "
            f"{'less' if last['modulus_change'] < last['coefficient_change'] else 'no less'} than the complex "
            f"coefficients ({100 * last['coefficient_change']:.0f}%).")


