"""qgp run --port PORT [--bundle B] [--n N | --images F.npy | --data SPEC] [--baud R] [--json OUT] [--bench [N]]

Classifies images on a board (or on `qgp board-sim`) through its UART link and checks every
answer against golden, class and logits. The board is identified first: a board whose network
is not the bundle's (sha256 of model.json) is refused. Images go out as IMAGE frames with a few
in flight; a frame that gets no answer within --timeout, or a busy / checksum / truncated error
answer, is sent again (up to --retries times). Prints the accuracy (where the data set has
labels), the mismatches against golden, the link's images/s and, with --bench, the on-chip
images/s (the board repeats the last image N times back to back and counts the cycles).

Exit 0: every image equal to golden; 1: mismatches; 2: bad input or no usable board (no such
port, no answer, another network), one line; 3: the link failed midway.
"""
import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from qgp.board import protocol as P

ROOT = Path(__file__).resolve().parents[2]


def _parser():
    ap = argparse.ArgumentParser(prog="qgp run", description=__doc__.split("\n\n")[1],
                                 epilog=__doc__.split("\n\n")[2],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", required=True, help="serial port of the board (/dev/ttyUSB0, "
                    "or the /dev/pts/N that `qgp board-sim` prints)")
    ap.add_argument("--bundle", default=str(ROOT / "models" / "fmnist"), help="bundle directory")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--images", dest="images_file", metavar="F.npy",
                     help="uint8 images [N,C,H,W] (or [N,H,W]) instead of the data set")
    src.add_argument("--data", metavar="SPEC", help="test images of this data set instead of the "
                     "bundle's: a dataset name, npz:PATH or folder:PATH")
    ap.add_argument("--n", type=int, default=100, help="number of images (default 100)")
    ap.add_argument("--offset", type=int, default=0, help="first image (default 0)")
    ap.add_argument("--seed", type=int, default=0,
                    help="seed of the random images of a bundle without a data set")
    ap.add_argument("--baud", type=int, default=3_000_000, help="bit rate (default 3000000)")
    ap.add_argument("--timeout", type=float, default=2.0,
                    help="seconds to wait for an answer before sending again (default 2)")
    ap.add_argument("--retries", type=int, default=5, help="sends of a frame before giving up")
    ap.add_argument("--window", type=int, default=2,
                    help="image frames in flight (default 2: the board's two image buffers)")
    ap.add_argument("--bench", type=int, nargs="?", const=1000, default=None, metavar="N",
                    help="also measure on chip: the last image N times back to back (default 1000)")
    ap.add_argument("--json", dest="json_out", metavar="OUT", help="write the summary here")
    ap.add_argument("--no-progress", action="store_true")
    return ap


class LinkError(Exception):
    """The board stopped answering midway (exit 3)."""


class Link:
    """A serial port with the protocol's decoder."""

    def __init__(self, port, baud):
        import serial
        from qgp.golden.errors import QGPError
        try:
            self.s = serial.Serial(port, baud, timeout=0.02, write_timeout=5)
        except (serial.SerialException, ValueError, OSError) as e:
            msg = str(e)
            if "No such file" in msg or "could not open" in msg:
                msg = "no such port" + (f" ({e.strerror})" if getattr(e, "strerror", None) else "")
            raise QGPError(port, "port", msg) from None
        self.port = port
        self.s.reset_input_buffer()
        self.dec = P.Decoder()

    def send(self, data):
        self.s.write(data)

    def poll(self):
        n = self.s.in_waiting
        return self.dec.feed(self.s.read(max(1, n)))

    def close(self):
        self.s.close()


def identify(link, timeout, retries):
    from qgp.golden.errors import QGPError
    for _ in range(retries):
        link.send(P.ident_request())
        t0 = time.time()
        while time.time() - t0 < timeout:
            for m in link.poll():
                if isinstance(m, P.Ident):
                    return m
    raise QGPError(link.port, "identify", f"no answer in {retries} x {timeout:g} s (not a QGP "
                   "board, not flashed, or another baud rate: --baud)")


def check_board(ident, bundle, shape):
    from qgp.golden.errors import QGPError
    want = hashlib.sha256((Path(bundle.path) / "model.json").read_bytes()).hexdigest()
    if ident.bundle_sha256 != want:
        raise QGPError(bundle.path, "bundle_sha256", f"the board runs another network "
                       f"({ident.bundle_sha256[:12]}..., this bundle {want[:12]}...): flash its "
                       "bitstream (make board BUNDLE=.. && make flash) or pass its --bundle")
    got = (ident.channels, ident.height, ident.width)
    if got != tuple(shape):
        raise QGPError(bundle.path, "input", f"board input {list(got)}, bundle {list(shape)}")


def stream(link, images, timeout, retries, window, progress=True):
    """Send every image, collect its answer; returns ({index: Result}, resends, errors seen)."""
    n = len(images)
    payload = [np.ascontiguousarray(im.transpose(1, 2, 0)).tobytes() for im in images]
    results, pending, tries = {}, {}, [0] * n
    resends, errors = 0, {}
    nxt = 0
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=n, desc="run", unit="img", file=sys.stderr, dynamic_ncols=True,
                   mininterval=0.5)

    def send(i):
        nonlocal resends
        if tries[i] >= retries:
            raise LinkError(f"image {i}: no answer after {retries} sends of {timeout:g} s")
        resends += tries[i] > 0
        tries[i] += 1
        link.send(P.image_request(i & 0xFFFF, payload[i]))
        pending[i & 0xFFFF] = (i, time.time())

    try:
        while len(results) < n:
            while nxt < n and len(pending) < window:
                send(nxt)
                nxt += 1
            for m in link.poll():
                if isinstance(m, P.Result) and m.id in pending:
                    i, _ = pending.pop(m.id)
                    results[i] = m
                    if bar is not None:
                        bar.update(1)
                elif isinstance(m, P.Error):
                    errors[m.what] = errors.get(m.what, 0) + 1
                    if m.id in pending and m.code in (P.E_BUSY, P.E_CHECKSUM, P.E_TRUNCATED):
                        i, _ = pending.pop(m.id)
                        if m.code == P.E_BUSY:
                            time.sleep(0.002)
                        send(i)
            now = time.time()
            for pid, (i, t) in list(pending.items()):
                if now - t > timeout:
                    pending.pop(pid)
                    send(i)
    finally:
        if bar is not None:
            bar.close()
    return results, resends, errors


def bench(link, n, timeout):
    link.send(P.bench_request(n))
    t0 = time.time()
    while time.time() - t0 < timeout:
        for m in link.poll():
            if isinstance(m, P.Bench):
                return m
            if isinstance(m, P.Error):
                raise LinkError(f"bench: error answer '{m.what}'")
    raise LinkError(f"bench of {n} images: no answer in {timeout:g} s")


def run(args, log=print):
    from qgp.golden import atomic, model
    from qgp.golden.bundle import load_bundle
    from qgp.golden.errors import QGPError
    from qgp.tb.regress.__main__ import _load_images

    if args.n < 1:
        raise QGPError("--n", str(args.n), "at least 1 image")
    bundle = load_bundle(args.bundle)
    inp = bundle.meta["input"]
    shape = (inp["channels"], inp["height"], inp["width"])
    images, labels = _load_images(args, bundle)
    if len(images) == 0:
        raise QGPError(args.images_file or "--n", "n", "no images to run")
    link = Link(args.port, args.baud)
    try:
        ident = identify(link, args.timeout, args.retries)
        check_board(ident, bundle, shape)
        link.dec.set_shape(ident.classes, ident.logit_w)
        log(f"board: {ident.bundle_sha256[:12]}... input {list(shape)}, {ident.classes} classes, "
            f"{ident.clock_hz / 1e6:g} MHz, {ident.baud:,} baud")
        gold = model.run(bundle, images.astype(np.int64), keep_activations=False)
        t0 = time.time()
        res, resends, errors = stream(link, images, args.timeout, args.retries,
                                      max(1, args.window), progress=not args.no_progress)
        wall = time.time() - t0
        ben = bench(link, args.bench, args.timeout + 10.0) if args.bench else None
    finally:
        link.close()
    n = len(images)
    cls = np.array([res[i].cls for i in range(n)])
    logits = np.array([res[i].logits for i in range(n)])
    bad = [i for i in range(n) if cls[i] != int(gold.pred[i])
           or list(logits[i]) != [int(v) for v in gold.logits[i]]]
    rec = {"board": args.port, "bundle": str(args.bundle), "bundle_sha256": ident.bundle_sha256,
           "images": n, "mismatches": len(bad), "mismatch_images": bad[:100],
           "accuracy": None if labels is None else float(np.mean(cls == labels)),
           "golden_accuracy": None if labels is None else float(np.mean(gold.pred == labels)),
           "link_images_per_s": round(n / wall, 2) if wall > 0 else None,
           "link_s": round(wall, 3), "resends": resends, "error_answers": errors,
           "clock_hz": ident.clock_hz, "baud": ident.baud}
    if ben:
        rec["bench"] = {"images": ben.n, "cycles": ben.cycles,
                        "cycles_per_image": round(ben.cycles / ben.n, 2),
                        "onchip_images_per_s": round(ben.n * ident.clock_hz / ben.cycles, 1)}
    for i in bad[:5]:
        log(f"MISMATCH image {i}: class board {cls[i]} golden {int(gold.pred[i])}; logits board "
            f"{list(map(int, logits[i]))} golden {[int(v) for v in gold.logits[i]]}")
    acc = "" if rec["accuracy"] is None else f", accuracy {rec['accuracy']:.4f}"
    log(f"run: {n} images, {len(bad)} mismatches vs golden (class and logits){acc}; link "
        f"{rec['link_images_per_s']} images/s ({resends} resends)"
        + (f"; on chip {rec['bench']['onchip_images_per_s']:,.0f} images/s "
           f"({rec['bench']['cycles_per_image']} cycles/image over {ben.n} images)" if ben else ""))
    if args.json_out:
        atomic.write_text(args.json_out, json.dumps(rec, indent=2) + "\n")
    return rec


def main(argv=None):
    from qgp.golden.errors import QGPError
    args = _parser().parse_args(argv)
    try:
        rec = run(args, log=lambda s: print(s, flush=True))
    except QGPError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except LinkError as e:
        print(f"error: {args.port}: {e}", file=sys.stderr)
        return 3
    return 1 if rec["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
