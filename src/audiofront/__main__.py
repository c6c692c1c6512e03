"""``python -m audiofront``: the same as the ``audiofront`` command."""

import sys

from audiofront.tools.cli import main

sys.exit(main())
