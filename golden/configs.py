"""Training configs (train/configs/*.json) are data: read here, NumPy/torch-free, so that both
train/ (the network to train) and golden.synth (the shape of a synthetic bundle) take a
network's shape from the one file that owns it."""
import json
from pathlib import Path

from qgp.golden.errors import QGPError

CONFIG_DIR = Path(__file__).resolve().parent.parent / "train" / "configs"


def load_config(name_or_path: str, _chain: tuple = ()) -> dict:
    p = Path(name_or_path)
    if not p.suffix:
        p = CONFIG_DIR / f"{name_or_path}.json"
    if not p.is_file():
        known = ", ".join(sorted(q.stem for q in CONFIG_DIR.glob("*.json")))
        raise QGPError(str(p), "config", f"no such config (known: {known})")
    try:
        cfg = json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise QGPError(str(p), "config", f"invalid JSON: {e}") from None
    if not isinstance(cfg, dict):
        raise QGPError(str(p), "config", "expected a JSON object")
    if "base" in cfg:
        # a derived config (e.g. a fine-tune recipe): the base config's network and data, with
        # this file's top-level keys replacing the base's and its "train" keys merged over the
        # base's "train", so the network shape is written in one place only
        base_name = cfg.pop("base")
        chain = _chain + (p.resolve(),)
        base_path = Path(base_name) if Path(base_name).suffix else CONFIG_DIR / f"{base_name}.json"
        if base_path.resolve() in chain:
            raise QGPError(str(p), "base", f"configs form a loop through {base_name}")
        base = load_config(str(base_path), chain)
        cfg = {**base, **cfg, "train": {**base["train"], **cfg.get("train", {})}}
    for key in ("name", "dataset", "input", "classes", "abits", "wbits", "layers", "train"):
        if key not in cfg:
            raise QGPError(str(p), key, "missing")
    check_shape(cfg, str(p))
    return cfg


def _positive_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


def check_shape(cfg: dict, where: str):
    """The network shape a config describes, checked once for every reader (train, synth, gen):
    positive integer sizes, a list of layers, and every 2x2 pool on an even feature map."""
    inp = cfg["input"]
    if not isinstance(inp, dict):
        raise QGPError(where, "input", "expected an object {channels, height, width, bits}")
    for k in ("channels", "height", "width", "bits"):
        if not _positive_int(inp.get(k)):
            raise QGPError(where, f"input.{k}", f"is {inp.get(k)!r}, expected a positive integer")
    for k in ("classes", "abits", "wbits"):
        if not _positive_int(cfg[k]):
            raise QGPError(where, k, f"is {cfg[k]!r}, expected a positive integer")
    layers = cfg["layers"]
    if not isinstance(layers, list) or not layers:
        raise QGPError(where, "layers", "expected a non-empty list of layers")
    h, w = inp["height"], inp["width"]
    for i, L in enumerate(layers):
        if not isinstance(L, dict):
            raise QGPError(where, f"layers[{i}]", "expected an object {out_channels, pool?}")
        if not _positive_int(L.get("out_channels")):
            raise QGPError(where, f"layers[{i}].out_channels", f"is {L.get('out_channels')!r}, expected a positive integer")
        pool = L.get("pool", False)
        if not isinstance(pool, bool):
            raise QGPError(where, f"layers[{i}].pool", f"is {pool!r}, expected true or false")
        if pool:
            if h % 2 or w % 2:
                raise QGPError(where, f"layers[{i}].pool", f"2x2 pool on an odd feature map {h}x{w} "
                                                          f"(input {inp['height']}x{inp['width']} after the pools before it)")
            h, w = h // 2, w // 2
