"""``python -m local`` (``make run``): the whole stack on one machine; see ``local/stack.py``."""

from __future__ import annotations

import sys
import time

STARTED = time.monotonic()  # before the imports, so the "ready in" figure includes them

from local.stack import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(started=STARTED))
