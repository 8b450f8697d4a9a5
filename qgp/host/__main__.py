"""python -m qgp.host pack|unpack: the host side of the generated network's streams.

pack:   images (a data set's test split or a .npy) -> the input stream as bytes (a file for a DMA
        engine or a driver), one little-endian word per pixel beat (--pad32: 32-bit words).
unpack: the output stream's bytes -> one line per image: class, its name and the logits.
The beat layout is read from the qgp_net.json that `qgp gen` writes (--net)."""
import argparse
import sys

import numpy as np


def main(argv=None):
    from qgp.golden import datasets
    from qgp.golden.errors import QGPError

    import qgp.host as H

    ap = argparse.ArgumentParser(prog="python -m qgp.host", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack", help="images -> input stream bytes")
    p.add_argument("--net", required=True, help="qgp_net.json (or the folder holding it)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="a data set (name, npz:PATH, folder:PATH): its test split")
    src.add_argument("--images", help=".npy of uint8 images [N,C,H,W] or [N,H,W]")
    p.add_argument("--n", type=int, default=None, help="first N images only")
    p.add_argument("--pad32", action="store_true", help="32-bit words (zero padded) for DMA engines")
    p.add_argument("--out", required=True, help="file to write")
    u = sub.add_parser("unpack", help="output stream bytes -> class and logits per image")
    u.add_argument("--net", required=True, help="qgp_net.json (or the folder holding it)")
    u.add_argument("--in", dest="inp", required=True, help="received output bytes")
    u.add_argument("--pad32", action="store_true", help="the words are 32-bit padded")
    u.add_argument("--data", help="data set whose class names to print")
    args = ap.parse_args(argv)
    pad = 32 if args.pad32 else None
    try:
        fmt = H.StreamFormat(args.net)
        if args.cmd == "pack":
            if args.data:
                x, _ = datasets.load(args.data, "test")
            else:
                try:
                    x = np.load(args.images, allow_pickle=False)
                except (OSError, ValueError) as e:
                    raise QGPError(args.images, "images", f"cannot read .npy: {e}") from None
            x = x[:args.n] if args.n else x
            try:
                data = fmt.pack_images(x, pad_bits=pad)
            except ValueError as e:
                raise QGPError(args.data or args.images, "images", str(e)) from None
            _write(args.out, data)
            print(f"wrote {args.out}: {len(x)} images, {len(x) * fmt.frame} beats of "
                  f"{fmt.in_beat_bytes(pad)} bytes (tlast on every {fmt.frame}th beat)")
        else:
            try:
                with open(args.inp, "rb") as f:
                    data = f.read()
            except OSError as e:
                raise QGPError(args.inp, "file", f"cannot read: {e.strerror or e}") from None
            try:
                cls, logits = fmt.unpack_outputs(data, pad_bits=pad)
            except ValueError as e:
                raise QGPError(args.inp, "size", str(e)) from None
            names = datasets.class_names(args.data, classes=fmt.classes) if args.data else None
            for i, (c, lg) in enumerate(zip(cls, logits)):
                nm = f" ({names[c]})" if names and c < len(names) else ""
                print(f"{i} class {c}{nm} logits {' '.join(map(str, lg))}")
    except QGPError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def _write(path, data):
    from qgp.golden import atomic
    atomic.write_bytes(path, data)


if __name__ == "__main__":
    sys.exit(main())
