"""``python -m bpverify``, the same as the ``bpverify`` command."""

import sys

from bpverify.cli import main

sys.exit(main())
