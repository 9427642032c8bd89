"""`python -m structbatch.emulator`: the same as `structbatch emulator`."""

from __future__ import annotations

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
