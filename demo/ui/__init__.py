"""The page: its components section by section (`layout`), which handler each event calls (`events`), how
it looks (`theme`), and the app that puts them together (`app`)."""
