"""QGP golden model: the bundle format, the datasets and the bit-exact integer semantics.

NumPy only (never imports torch). See docs/INTERFACES.md and ../shared/DESIGN.md.
"""

from golden.errors import QGPError

__all__ = ["QGPError"]
