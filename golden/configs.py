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
    return cfg
