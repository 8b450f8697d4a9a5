"""The board top's synthesized netlist (yosys synth_ecp5 of the layers and of the board logic,
flattened, with yosys' ECP5 cell models, impl/sim's DP16KD / MULT18X18D and the EHXPLLL model)
in `qgp board-sim --gate`: identify carries the synthesized bundle hash, images come back equal
to golden through the simulated UART, a bad frame in between is dropped."""
import hashlib
import os
from pathlib import Path

import pytest

from qgp.board import protocol as P

from test_board_sim import Port, _golden, _images, _px, tiny  # noqa: F401


@pytest.fixture(scope="module")
def gate_board(tiny):  # noqa: F811
    from qgp.board import sim
    proc, port, fds = sim.start(tiny, gate=True, log=lambda s: None)
    yield port
    proc.terminate()
    proc.wait(timeout=30)
    for fd in fds:
        os.close(fd)


def test_gate_level_board(gate_board, tiny):  # noqa: F811
    from qgp.tb import regress as R
    net = R.generate(tiny)
    imgs = _images(net, 4, seed=21)
    gold = _golden(tiny, imgs)
    p = Port(gate_board, net)
    try:
        p.send(P.ident_request())
        ident = [m for m in p.collect(lambda a: any(isinstance(m, P.Ident) for m in a))
                 if isinstance(m, P.Ident)]
        results, errors = {}, []
        for i in range(len(imgs)):
            if i == 2:
                bad = bytearray(P.image_request(50, _px(imgs[i])))
                bad[-1] ^= 1
                p.send(bytes(bad))
                errors += [m for m in p.collect(lambda a: any(isinstance(m, P.Error) for m in a))
                           if isinstance(m, P.Error)]
            p.send(P.image_request(i, _px(imgs[i])))
            for m in p.collect(lambda a: any(isinstance(m, P.Result) for m in a), timeout=30):
                if isinstance(m, P.Result):
                    results[m.id] = (m.cls, m.logits)
    finally:
        p.close()
    assert len(ident) == 1
    assert ident[0].bundle_sha256 == hashlib.sha256((Path(tiny) / "model.json").read_bytes()).hexdigest()
    assert results == dict(enumerate(gold))
    assert [(e.code, e.id) for e in errors] == [(P.E_CHECKSUM, 50)]
