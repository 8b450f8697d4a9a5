"""The Verilog library (one module per file) and its generator (rtl/gen)."""
