#!/bin/sh
# Lint every module in rtl/ with Verilator -Wall, each as its own top (default parameters).
# Waivers live in the sources, each with a comment saying why. Exit status != 0 on any warning.
# Usage: rtl/lint.sh [extra verilator args]   (from anywhere)
cd "$(dirname "$0")" || exit 2
status=0
for f in *.v; do
    m=${f%.v}
    if verilator --lint-only -Wall -I. "$@" "$f" --top-module "$m"; then
        echo "lint ok: $m"
    else
        echo "lint FAILED: $m"
        status=1
    fi
done
exit $status
