"""rtl.gen: bundle -> Verilog parameters and memfiles (params.py); the top generator (top.py)."""
