"""``python -m local`` (``make run``): the whole stack on one machine; see ``local/stack.py``."""

from __future__ import annotations

import sys

from local.stack import main

if __name__ == "__main__":
    sys.exit(main())
