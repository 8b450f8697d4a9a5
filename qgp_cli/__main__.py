"""``python -m qgp_cli`` == ``qgp``."""
import sys

from qgp_cli import main

sys.exit(main())
