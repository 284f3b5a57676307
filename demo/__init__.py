"""The Gradio demo, in layers (each imports only the ones above it in this list):

* images, inputs/   what a visitor sends: image files decoded under limits; every setting checked once
* models/           the model pairs (listed once) and the store that loads each once
* compute/          the pipeline of an image and its translations, the model adapters, caches, lanes
* draw/             pictures, charts, figures and panels from computed results
* invariance/       the stability maps, the curve of where the invariance is built, the GIF
* handlers/         what each event and named endpoint does (no layout)
* ui/               the page: layout, event wiring, theme, and the App that assembles them
"""
