"""Pictures and plots, from computed results (no measurement is made here): colour maps and image
encodings (`render`), SVG charts (`charts`), plotly figures (`figures`), the first view's and the layer
view's HTML panels and captions (`panels`), and the explainer's figures (`explainer`)."""
