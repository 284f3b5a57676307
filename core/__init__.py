"""Phase collapse (Guth, Zarka, Mallat, ICLR 2022): learned scattering networks in PyTorch.

    import core
    core.list_models()                          # architectures of the registry
    model = core.build_model("lscat_skip_cifar10")
    model, card = core.load("lscat_skip_cifar10")   # shipped weights, verified, in eval mode
    core.available()                            # the names of the weights that are shipped

The packages: ``core.nn`` (the paper's operators), ``core.models``, ``core.weights``, ``core.data``,
``core.analysis`` (phases, invariance, separation), ``core.training``, ``core.experiments``, and the
commands in ``core.cli`` (``python -m core COMMAND``).
"""

from core.models import build_model, count_parameters, kind, list_models  # noqa: F401
from core.weights import available, load  # noqa: F401

__all__ = ["available", "build_model", "count_parameters", "kind", "list_models", "load"]
