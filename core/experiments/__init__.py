"""The paper's comparisons (Tables 1-3 and the per-layer separation), at the paper's scale or a
laptop's: what to run (tables), running it (runner), the per-layer analysis (layers), the
tables and figures (report), and the cost probe (probe). The command is ``python -m core experiments``."""
