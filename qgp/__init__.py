"""QGP: Quantized Guided Pruning CNNs, from PyTorch training to bit-exact multiplier-free Verilog.

The one installed name. Its subpackages are the repository's top-level folders: ``qgp.golden``
(golden/), ``qgp.train`` (train/), ``qgp.rtl`` (rtl/, with the generator rtl/gen), ``qgp.tb`` (tb/),
``qgp.impl`` (impl/); ``qgp.cli``, ``qgp.host`` and ``qgp.qonnx`` live here. Installed, setuptools
places those folders under ``qgp/``; in a source checkout this package's path reaches the
repository root, so ``python -m golden`` and ``python -m qgp.golden`` run the same files.
"""
import os as _os

_ROOT = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if _os.path.isfile(_os.path.join(_ROOT, "pyproject.toml")) and _os.path.isdir(_os.path.join(_ROOT, "golden")):
    __path__.append(_ROOT)  # a checkout: qgp.golden is <root>/golden, and so on
