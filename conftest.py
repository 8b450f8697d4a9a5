"""The two test tiers. ``make test`` (the fast loop, at most 10 minutes on a fresh 2-core machine)
runs everything not marked ``check``; ``make check`` (the second tier, run by CI after it) runs the
tests below: place and route, gate-level netlists, installs into a fresh venv, trainings that
run the RTL, soaks. The list lives here only, one entry per test (a node-id prefix) with why."""
import pytest

CHECK_TIER = {
    "tests/impl/test_impl.py::test_impl_figures_from_the_tools": "synthesis + place and route of a small network",
    "tests/impl/test_impl.py::test_gate_level_regression": "the placed netlist through the Verilator harness",
    "tests/impl/test_impl.py::test_does_not_fit_is_one_line": "shares the place-and-route fixture",
    "tests/ecosystem/test_install.py": "pip install . into a fresh venv",
    "tests/board/test_board_gate.py": "the board top's synthesized netlist behind the pseudo-terminal",
    "tests/ecosystem/test_own_data_e2e.py": "train, export and simulate on own data",
    "tests/train/test_compare.py::test_compare_driver": "trains rows over seeds and runs a bundle on the RTL",
    "tests/train/test_train.py::test_ddp_two_processes_gloo": "two training processes",
    "tests/train/test_train.py::test_resume_after_sigkill_mid_epoch": "a training killed and resumed",
    "tb/regress/test_regress.py::test_soak_backpressure": "soak: many frames under random valid/ready",
    "tb/regress/test_regress.py::test_reset_mid_frame_backpressure": "soak with resets",
    "tb/regress/test_regress.py::test_extreme_bundle[fmnist-max]": "a shipped-size harness build",
    "tb/regress/test_regress.py::test_slow_plan_ring_and_serial_head": "a folded shipped-size plan",
    "tests/train/test_train.py::test_shipped_reported_accuracy_equals_golden":
        "golden on all 10,000 test images of the shipped bundle (make demo prints the same figure)",
    "tb/lint/test_lint.py::test_lint_network_params":
        "each shipped-size layer linted alone (the generated top's lint covers them at the same parameters)",
}

# started first (pytest -n: the longest chains of the fast tier, so that the workers end together)
SLOW_FIRST = (
    "tb/regress/test_regress.py::test_normal",
    "tb/regress/test_regress.py::test_extreme_images",
    "tb/regress/test_regress.py::test_generated_top_and_bench_rtl_lint",
    "tests/train/test_compare.py::test_binary_conv_dense_after_the_first_layer_runs_on_rtl",
)


def pytest_configure(config):
    config.addinivalue_line("markers", "check: the second tier (make check), listed in conftest.CHECK_TIER")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.startswith(tuple(CHECK_TIER)):
            item.add_marker(pytest.mark.check)
    items.sort(key=lambda item: not item.nodeid.startswith(SLOW_FIRST))
