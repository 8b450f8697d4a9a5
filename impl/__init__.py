"""Implementation flow (synthesis, place and route, timing, bitstream): python -m impl."""
