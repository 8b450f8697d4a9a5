"""``python -m qgp`` == ``qgp``."""
import sys

from qgp.cli import main

sys.exit(main())
