"""QGP testbenches (cocotb 2.x on Icarus through cocotb_tools.runner, run by pytest)."""
