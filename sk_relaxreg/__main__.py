"""Entry point for ``python -m sk_relaxreg``, the same as the ``sk-relaxreg`` command."""

import sys

from .cli import main

sys.exit(main())
