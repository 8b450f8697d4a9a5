"""Benchmarks behind `make bench` (python -m tb.bench): area (area.py, hardwired.py), throughput
(tb.regress) and simulation speed (simspeed.py, cocotb_net.py)."""
