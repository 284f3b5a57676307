"""Shipped weights: what each entry is and how it is made (catalog), loading and saving with its
model card (store).

    from core import weights
    model, card = weights.load("lscat_skip_cifar10")   # the shipped stand-in until the paper's widths are trained
"""

from core.weights.catalog import ENTRIES, SOURCES, Entry, sources  # noqa: F401
from core.weights.store import (  # noqa: F401
    PretrainedError,
    available,
    build_untrained,
    card_path,
    card_split,
    load,
    quoted_accuracy,
    read_card,
    resolve,
    save,
    sha256,
    weights_path,
)
