#!/bin/sh
# Verilator lint of every module in rtl/ (default parameters): python -m rtl.lint, the one entry
# (see its --help; --bundle DIR also lints a generated top). Exit status != 0 on any warning.
# Usage: rtl/lint.sh [--bundle DIR] [extra verilator args]   (from anywhere)
cd "$(dirname "$0")/.." || exit 2
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
exec "$PY" -m rtl.lint "$@"
