"""``python -m core COMMAND ...`` (or ``phase-collapse COMMAND ...``): train, evaluate, average, experiments."""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "train": "train a model with a named recipe",
    "evaluate": "measure a shipped or exported model (top-1, top-5, shift consistency)",
    "average": "average a run's warm-restarted cycles (SWA) and recompute the statistics",
    "experiments": "run and report the paper's Tables 1-3 and the per-layer separation",
}


def usage() -> str:
    lines = ["usage: python -m core COMMAND [options]   (COMMAND --help for each)", "", "commands:"]
    lines += [f"  {name:12s} {what}" for name, what in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"error: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    return importlib.import_module(f"core.cli.{name}").main(rest)


if __name__ == "__main__":
    sys.exit(main())
