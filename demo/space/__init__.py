"""Hosting on Hugging Face Spaces: build the folder a Space runs, and upload it as one commit.

    python -m demo.space build DIR [--hardware zero-a10g|cpu-basic|cpu-upgrade]
    python -m demo.space push DIR OWNER/NAME [--hardware ...] [--private]

``build`` (demo.space.build) writes app.py, core/, demo/, the weights the app serves, the Space's
README (front matter), requirements and .gitattributes; ``push`` (demo.space.push) creates the Space
if need be and uploads the folder with huggingface_hub. docs/HOSTING.md says what it costs and what
bench/rehearse_space.py measured. This package is not part of the bundle: the Space does not need it.
"""
