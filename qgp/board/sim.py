"""qgp board-sim [--bundle B] [--cpb N] [--gate]

Runs the board top (rtl/board/ulx3s_top.v: UART, protocol engine, the generated qgp_net, the
PLL replaced by its simulation model rtl/board/sim/EHXPLLL.v) in Verilator behind a
pseudo-terminal and prints "port: /dev/pts/N" as its first line; serves until stopped (Ctrl-C,
SIGTERM). Talk to it with `qgp run --port /dev/pts/N --bundle B`.

The harness shifts every byte the host writes into the board's UART receive pin bit by bit and
samples its transmit pin, so the host talks real bytes to the real RTL. Simulation time runs
only while there is something to do. To keep the simulated link fast the simulation build runs
the UART at CLK_HZ / CPB baud (default CPB 8 clocks per bit; the bitstream runs 3,000,000 baud),
so the simulated board reports that baud in its identify answer.
Exit 2: bad input (one line); 3: the build failed.
"""
import argparse
import os
import signal
import subprocess
import sys
import tty
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _parser():
    ap = argparse.ArgumentParser(prog="qgp board-sim", description=__doc__.split("\n\n")[1],
                                 epilog=__doc__.split("\n\n")[2],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", default=str(ROOT / "models" / "fmnist"), help="bundle directory")
    from qgp.board.build import BOARDS
    ap.add_argument("--board", default="ulx3s-85f", choices=sorted(BOARDS),
                    help="board (default ulx3s-85f)")
    ap.add_argument("--cpb", type=int, default=None,
                    help="clock cycles per UART bit in the simulation (>= 4, default 8)")
    ap.add_argument("--gate", action="store_true",
                    help="simulate the synthesized netlist of the board top (yosys synth_ecp5, "
                         "ECP5 cell models) instead of the RTL")
    ap.add_argument("--folding", default=os.environ.get("FOLDING") or None,
                    help="PE per layer 'conv2:8,...' or a JSON file (default rate-matched)")
    return ap


def start(bundle, cpb=None, gate=False, folding=None, board_name="ulx3s-85f", log=None):
    """Build and start the simulated board; returns (process, port path, pty fds). The caller
    owns the process (terminate it) and closes the fds."""
    from qgp.board import build as B
    from qgp.tb import regress as R
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    cpb = cpb or B.SIM_CPB
    if cpb < 4:
        from qgp.golden.errors import QGPError
        raise QGPError("--cpb", str(cpb), "at least 4 clock cycles per bit")
    net = R.generate(bundle, folding=folding)
    gate_nl = B.gate_build(bundle, folding=folding, board_name=board_name, cpb=cpb, log=log) \
        if gate else None
    exe, info = B.sim_build(net, cpb=cpb, board_name=board_name, log=log, gate_netlist=gate_nl)
    master, slave = os.openpty()
    tty.setraw(slave)
    port = os.ttyname(slave)
    proc = subprocess.Popen([str(exe), "--fd", str(master), "--cpb", str(cpb),
                             "--reset-cycles", str(4 * (1 << B.SIM_POR_BITS) + 64),
                             "+verilator+rand+reset+2", "+verilator+seed+7"],
                            pass_fds=(master,), stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        raise B.BoardError(f"board-sim harness did not start (exit {proc.wait()})")
    log(f"board-sim: {net['name']} at {info['clk_hz'] / 1e6:g} MHz, UART {cpb} clocks per bit "
        f"({info['clk_hz'] // cpb:,} baud in simulation)")
    return proc, port, (master, slave)


def main(argv=None):
    from qgp.board.build import BoardError
    from qgp.golden.errors import QGPError
    args = _parser().parse_args(argv)
    try:
        proc, port, fds = start(args.bundle, cpb=args.cpb, gate=args.gate, folding=args.folding,
                                board_name=args.board)
    except QGPError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BoardError as e:
        print(f"error: {e}", file=sys.stderr)
        return 3

    def stop(*_):
        proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"port: {port}", flush=True)
    try:
        rc = proc.wait()
    finally:
        for fd in fds:
            os.close(fd)
    print(f"board-sim: stopped ({(proc.stdout.read() or '').strip() or f'exit {rc}'})",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
