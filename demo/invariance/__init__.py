"""The invariance view: the prediction-stability map over a grid of sub-pixel shifts, LScat+skip beside
its ResNet-18 baseline when one is shipped (`maps`), where (at which depth) each builds its invariance
(`figures`, `text`), and the translation played as an animated GIF (`animation`). The measurements are
core.analysis.invariance; the endpoints that serve them are demo.handlers.invariance."""
