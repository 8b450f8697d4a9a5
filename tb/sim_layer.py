"""``python -m tb.sim_layer``: the same as ``python -m tb.layer`` (tb/layer/__main__.py), kept
as a second name for it."""

import sys

from qgp.tb.layer.__main__ import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m tb.sim_layer"))
