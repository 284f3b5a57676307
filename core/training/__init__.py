"""Training: recipes (one readable dict each), the loop read top to bottom (loop), its set-up,
state, checkpoints and budget probe, evaluation, export with a model card, and weight averaging.

    from core.training import make_config, train, load_trained
    final = train(make_config("cifar10_lscat_skip_small"), "runs/small")
"""

from core.training.errors import TrainError, TrainingDiverged  # noqa: F401
from core.training.loop import train  # noqa: F401
from core.training.model import load_trained  # noqa: F401
from core.training.recipes import RECIPES, RecipeError, list_recipes, make_config  # noqa: F401
