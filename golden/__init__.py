"""QGP golden model: the bundle format, the datasets and the bit-exact integer semantics.

NumPy only (never imports torch). See docs/CONTRACT.md and docs/INTERFACES.md.
"""

from qgp.golden.errors import QGPError

__all__ = ["QGPError"]
