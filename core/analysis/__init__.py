"""Measurements on images and networks: translations (shifts), wavelet phases (phases), stability
maps (invariance), class-mean separation (separation) and the demo's explanations (explain)."""
