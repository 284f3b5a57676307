"""The commands, one module each (train, evaluate, average, experiments), run as
``python -m core COMMAND`` or ``phase-collapse COMMAND``; they sit above everything else."""
