"""What every command shares: ``--help`` formatting."""

from __future__ import annotations

import argparse


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """--help with defaults, shown only where there is one and the help text does not already say it."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or action.default == [] or \
                "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)
