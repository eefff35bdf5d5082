"""Entry point for ``python tests/emulator`` and ``python -m emulator``."""

from __future__ import annotations

import importlib
import os
import sys


def _main():
    if __package__:
        return importlib.import_module(__package__ + '.cli').main()
    # Run as a directory: sys.path[0] is this directory, so import the package from its parent.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.dirname(here))
    return importlib.import_module(os.path.basename(here) + '.cli').main()


if __name__ == '__main__':
    sys.exit(_main())
