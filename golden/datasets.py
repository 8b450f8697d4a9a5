"""Dataset loaders, each reading its standard on-disk format (nothing cached on disk).

``load(name, split, data_dir=None) -> (images uint8 [N, C, H, W], labels int64 [N])``

- ``fmnist`` / ``mnist``: IDX files (``train-images-idx3-ubyte[.gz]`` ...), gzip or plain.
- ``cifar10``: ``cifar-10-batches-py/data_batch_1..5``, ``test_batch`` (python pickles).
- ``cifar100``: ``cifar-100-python/train``, ``test`` (python pickles, fine labels).
- ``svhn``: ``train_32x32.mat`` / ``test_32x32.mat`` (MATLAB v5, read by a small reader here).
- ``npz:PATH``: your own data in the layout of Keras' ``mnist.npz``: ``x_train``, ``y_train``,
  ``x_test``, ``y_test`` (images uint8 [N,H,W], [N,C,H,W] or [N,H,W,C]; integer labels) and an
  optional ``class_names`` string array.
- ``folder:PATH``: an image folder ``PATH/train/<class>/*.png|jpg`` and ``PATH/test/<class>/...``
  (read through Pillow; classes are the sorted folder names of ``train/``).

``info(name, data_dir=None)`` gives the shape, class count and class names of any of them (custom
data sets define these themselves: nothing about them is written in code).

Every problem raises :class:`golden.errors.QGPError` naming the file and what was expected.
"""

import gzip
import io
import os
import pickle
import struct
import zipfile
import zlib

import numpy as np

from qgp.golden.errors import QGPError

NAMES = ("fmnist", "mnist", "cifar10", "cifar100", "svhn")
SPLITS = ("train", "test")
NUM_CLASSES = {"fmnist": 10, "mnist": 10, "cifar10": 10, "cifar100": 100, "svhn": 10}
DEFAULT_DIRS = {
    "fmnist": "/usr/share/datasets/fashion-mnist",
    "mnist": "data/mnist",
    "cifar10": "data",
    "cifar100": "data",
    "svhn": "data/svhn",
}
HOW_TO_GET = {
    "fmnist": "install it with `apt-get install dataset-fashion-mnist` (files land in "
              "/usr/share/datasets/fashion-mnist) or pass --data-dir DIR holding the IDX files",
    "mnist": "download the four MNIST IDX files (train-images-idx3-ubyte.gz ...) into "
             "--data-dir DIR",
    "cifar10": "download cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html "
               "and unpack it in --data-dir DIR (giving DIR/cifar-10-batches-py/)",
    "cifar100": "download cifar-100-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html "
                "and unpack it in --data-dir DIR (giving DIR/cifar-100-python/)",
    "svhn": "download train_32x32.mat / test_32x32.mat from http://ufldl.stanford.edu/housenumbers/ "
            "into --data-dir DIR",
}


CUSTOM_KINDS = ("npz", "folder")
CLASS_NAMES = {
    "fmnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    "mnist": [str(d) for d in range(10)],
    "svhn": [str(d) for d in range(10)],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
}
INPUT_SHAPES = {"fmnist": (1, 28, 28), "mnist": (1, 28, 28), "cifar10": (3, 32, 32),
                "cifar100": (3, 32, 32), "svhn": (3, 32, 32)}
SPEC_HELP = ("a dataset name (%s), npz:PATH (Keras mnist.npz layout) or folder:PATH "
             "(PATH/train/<class>/*.png|jpg, PATH/test/<class>/...)" % ", ".join(NAMES))


def split_spec(name):
    """``"npz:PATH"`` -> ``("npz", "PATH")``; a builtin name -> ``(name, None)``; else QGPError."""
    name = os.fspath(name) if not isinstance(name, str) else name
    kind, sep, path = name.partition(":")
    if sep and kind in CUSTOM_KINDS:
        if not path:
            raise QGPError("dataset", "name", f"{name!r} names no path; expected {kind}:PATH")
        return kind, path
    if name not in NAMES:
        raise QGPError("dataset", "name", f"unknown dataset {name!r}; expected {SPEC_HELP}")
    return name, None


def canonical(name):
    """The spec with an absolute path (what a run or bundle records), builtin names unchanged."""
    kind, path = split_spec(name)
    return kind if path is None else f"{kind}:{os.path.abspath(path)}"


def info(name, data_dir=None):
    """``{"channels", "height", "width", "classes", "class_names"}`` of a dataset (builtin or custom).

    For builtin names nothing is read; a custom data set is read (and checked) once."""
    kind, path = split_spec(name)
    if path is None:
        c, h, w = INPUT_SHAPES[kind]
        k = NUM_CLASSES[kind]
        return {"channels": c, "height": h, "width": w, "classes": k,
                "class_names": list(CLASS_NAMES.get(kind, [str(i) for i in range(k)]))}
    return dict(_custom(kind, path)["info"])


def class_names(name, data_dir=None, classes=None):
    """Display names of the classes (``classes`` pads/cuts the list to a bundle's class count)."""
    try:
        names = info(name, data_dir)["class_names"]
    except QGPError:
        names = []
    if classes is not None:
        names = (list(names) + [str(i) for i in range(len(names), classes)])[:classes]
    return names


def load(name, split, data_dir=None):
    """Load a dataset split: ``(images uint8 [N, C, H, W], labels int64 [N])``."""
    if split not in SPLITS:
        raise QGPError("dataset", "split", f"unknown split {split!r}; expected 'train' or 'test'")
    kind, path = split_spec(name)
    if path is not None:
        x, y = _custom(kind, path)[split]
        return x.copy(), y.copy()  # callers may write into them; the cache stays intact
    if data_dir is None:
        data_dir = DEFAULT_DIRS[name]
    data_dir = os.fspath(data_dir)
    if name in ("fmnist", "mnist"):
        images, labels = _load_idx_pair(name, split, data_dir)
    elif name == "cifar10":
        images, labels = _load_cifar(name, split, data_dir)
    elif name == "cifar100":
        images, labels = _load_cifar(name, split, data_dir)
    else:
        images, labels = _load_svhn(split, data_dir)
    return images, labels


# ---------------------------------------------------------------------------- helpers

def _missing(path, name):
    return QGPError(path, "file", f"missing; {HOW_TO_GET[name]}")


def _check_labels(path, labels, num_classes):
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)][0]
        raise QGPError(path, "labels", f"label {int(bad)} outside 0..{num_classes - 1}")


# ---------------------------------------------------------------------------- IDX

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_maybe_gz(path):
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise QGPError(path, "file", f"cannot read: {e.strerror or e}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as e:
            raise QGPError(path, "gzip", f"truncated or corrupt gzip stream ({e}); "
                                         "expected a complete .gz file") from None
    return raw


def read_idx(path, expect_ndim):
    """Read one IDX file (gzip or plain) into an ndarray with ``expect_ndim`` dims."""
    data = _read_maybe_gz(path)
    if len(data) < 4:
        raise QGPError(path, "header", f"truncated: {len(data)} bytes, expected a 4-byte IDX magic number")
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    expected_magic = 0x0800 | expect_ndim
    magic = struct.unpack(">I", data[:4])[0]
    if zero != 0 or dtype_code != 0x08 or ndim != expect_ndim:
        raise QGPError(path, "magic", f"magic number 0x{magic:08x}, expected 0x{expected_magic:08x} "
                                      f"(IDX, unsigned bytes, {expect_ndim} dims)")
    hdr = 4 + 4 * ndim
    if len(data) < hdr:
        raise QGPError(path, "header", f"truncated: {len(data)} bytes, expected a {hdr}-byte IDX header")
    dims = struct.unpack(">" + "I" * ndim, data[4:hdr])
    count = int(np.prod(dims, dtype=np.int64))
    if len(data) - hdr != count:
        what = "truncated" if len(data) - hdr < count else "too long"
        raise QGPError(path, "data", f"{what}: {len(data) - hdr} data bytes, expected {count} "
                                     f"for dims {'x'.join(map(str, dims))}")
    return np.frombuffer(data, dtype=np.uint8, offset=hdr).reshape(dims)


def _load_idx_pair(name, split, data_dir):
    prefix = "train" if split == "train" else "t10k"
    paths = []
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        base = os.path.join(data_dir, f"{prefix}-{kind}")
        for cand in (base + ".gz", base):
            if os.path.isfile(cand):
                paths.append(cand)
                break
        else:
            raise _missing(base + ".gz", name)
    img_path, lab_path = paths
    images = read_idx(img_path, 3)
    labels = read_idx(lab_path, 1).astype(np.int64)
    if images.shape[0] != labels.shape[0]:
        raise QGPError(lab_path, "count", f"{labels.shape[0]} labels but {img_path} has "
                                          f"{images.shape[0]} images; expected equal counts")
    _check_labels(lab_path, labels, NUM_CLASSES[name])
    n, h, w = images.shape
    return np.ascontiguousarray(images.reshape(n, 1, h, w)), labels


# ---------------------------------------------------------------------------- CIFAR pickles

class _SafeUnpickler(pickle.Unpickler):
    """Unpickles only plain containers and numpy arrays (CIFAR batches), never arbitrary code."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
        ("copy_reg", "_reconstructor"), ("copyreg", "_reconstructor"),
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")


def _read_cifar_batch(path, label_key, num_classes):
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise QGPError(path, "file", f"cannot read: {e.strerror or e}") from None
    try:
        obj = _SafeUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as e:  # pickle raises many types on bad input
        raise QGPError(path, "pickle", f"truncated or corrupt pickle ({type(e).__name__}: {e}); "
                                       "expected a complete CIFAR python batch") from None
    if not isinstance(obj, dict):
        raise QGPError(path, "pickle", f"holds a {type(obj).__name__}, expected a dict batch")
    obj = {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}
    for key in ("data", label_key):
        if key not in obj:
            raise QGPError(path, key, f"missing key b'{key}' in the batch dict")
    data = np.asarray(obj["data"])
    if data.ndim != 2 or data.shape[1] != 3072 or data.dtype != np.uint8:
        raise QGPError(path, "data", f"shape {data.shape} dtype {data.dtype}, expected uint8 [N, 3072]")
    try:
        labels = np.asarray(obj[label_key], dtype=np.int64).reshape(-1)
    except (TypeError, ValueError) as e:
        raise QGPError(path, label_key, f"not a list of integers ({e})") from None
    if labels.shape[0] != data.shape[0]:
        raise QGPError(path, label_key, f"{labels.shape[0]} labels but {data.shape[0]} images; "
                                        "expected equal counts")
    _check_labels(path, labels, num_classes)
    return data.reshape(-1, 3, 32, 32), labels


def _load_cifar(name, split, data_dir):
    sub = "cifar-10-batches-py" if name == "cifar10" else "cifar-100-python"
    if name == "cifar10":
        files = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
        label_key = "labels"
    else:
        files = [split]
        label_key = "fine_labels"
    root = os.path.join(data_dir, sub)
    if not os.path.isdir(root) and os.path.isfile(os.path.join(data_dir, files[0])):
        root = data_dir  # data_dir points at the unpacked folder itself
    parts = []
    for fn in files:
        path = os.path.join(root, fn)
        if not os.path.isfile(path):
            raise _missing(path, name)
        parts.append(_read_cifar_batch(path, label_key, NUM_CLASSES[name]))
    images = np.ascontiguousarray(np.concatenate([p[0] for p in parts]))
    labels = np.concatenate([p[1] for p in parts])
    return images, labels


# ---------------------------------------------------------------------------- MAT v5 (SVHN)

_MI = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8", 13: "u8"}
_MI_MATRIX, _MI_COMPRESSED = 14, 15
_MX_NUMERIC = {6: "f8", 7: "f4", 8: "i1", 9: "u1", 10: "i2", 11: "u2", 12: "i4", 13: "u4",
               14: "i8", 15: "u8"}


class _MatReader:
    """Minimal MATLAB level-5 MAT-file reader: numeric real full matrices, plain or zlib."""

    def __init__(self, path):
        self.path = path

    def fail(self, field, msg):
        return QGPError(self.path, field, msg)

    def read(self):
        try:
            with open(self.path, "rb") as f:
                raw = f.read()
        except OSError as e:
            raise self.fail("file", f"cannot read: {e.strerror or e}") from None
        if len(raw) < 128:
            raise self.fail("header", f"truncated: {len(raw)} bytes, expected a 128-byte MAT v5 header")
        if raw[:4] == b"\x89HDF" or raw[512:516] == b"\x89HDF" or b"MATLAB 7.3" in raw[:116]:
            raise self.fail("header", "MATLAB 7.3 (HDF5) file; expected a MATLAB v5 MAT-file "
                                      "(save with -v7 or scipy.io.savemat)")
        endian = raw[126:128]
        if endian == b"IM":
            self.bo = "<"
        elif endian == b"MI":
            self.bo = ">"
        else:
            raise self.fail("header", f"endian indicator {endian!r}, expected b'IM' or b'MI' "
                                      "(not a MATLAB v5 MAT-file)")
        version = struct.unpack(self.bo + "H", raw[124:126])[0]
        if version != 0x0100:
            raise self.fail("header", f"version 0x{version:04x}, expected 0x0100 (MATLAB v5)")
        out = {}
        pos = 128
        while pos < len(raw):
            mtype, nbytes, data_off = self._tag(raw, pos, "element")
            end = data_off + nbytes
            if end > len(raw):
                raise self.fail("data", f"truncated: element at byte {pos} needs {nbytes} bytes, "
                                        f"file has {len(raw) - data_off}")
            body = raw[data_off:end]
            compressed = mtype == _MI_COMPRESSED
            if compressed:
                try:
                    body = zlib.decompress(body)
                except zlib.error as e:
                    raise self.fail("data", f"corrupt or truncated zlib element at byte {pos} ({e})") from None
                if len(body) < 8:
                    raise self.fail("data", f"compressed element at byte {pos} is empty")
                mtype, inner, ioff = self._tag(body, 0, "element")
                if ioff + inner > len(body):
                    raise self.fail("data", f"truncated compressed element at byte {pos}")
                body = body[ioff:ioff + inner]
            if mtype == _MI_MATRIX:
                name, arr = self._matrix(body, pos)
                if name is not None:
                    out[name] = arr
            # compressed elements are not padded; others end on an 8-byte boundary
            pos = end if compressed else _pad8(end)
        return out

    def _tag(self, buf, pos, what):
        if pos + 8 > len(buf):
            if pos + 4 <= len(buf):
                small = struct.unpack(self.bo + "I", buf[pos:pos + 4])[0]
                if small >> 16:
                    return small & 0xFFFF, small >> 16, pos + 4
            raise self.fail("data", f"truncated: {what} tag at byte {pos} cut short")
        first, second = struct.unpack(self.bo + "II", buf[pos:pos + 8])
        if first >> 16:  # small data element: type and size packed in 4 bytes, data in the next 4
            return first & 0xFFFF, first >> 16, pos + 4
        return first, second, pos + 8

    def _sub(self, body, pos, at):
        mtype, nbytes, off = self._tag(body, pos, "sub-element")
        if off + nbytes > len(body):
            raise self.fail("data", f"truncated matrix at byte {at}: sub-element needs {nbytes} bytes")
        nxt = _pad8(off + nbytes) if off == pos + 8 else pos + 8
        return mtype, body[off:off + nbytes], nxt

    def _matrix(self, body, at):
        if not body:
            return None, None
        mtype, flags, pos = self._sub(body, 0, at)
        if len(flags) < 8:
            raise self.fail("data", f"bad array flags in matrix at byte {at}")
        word = struct.unpack(self.bo + "I", flags[:4])[0]
        cls, is_complex = word & 0xFF, bool(word & 0x0800)
        mtype, dims_b, pos = self._sub(body, pos, at)
        dims = np.frombuffer(dims_b, dtype=self.bo + "i4").tolist()
        mtype, name_b, pos = self._sub(body, pos, at)
        name = name_b.decode("latin1")
        if cls not in _MX_NUMERIC:
            return name, None  # cells, structs, chars, sparse: not needed here
        if is_complex:
            raise self.fail(name, "complex matrix, expected a real numeric matrix")
        mtype, data_b, pos = self._sub(body, pos, at)
        if mtype not in _MI:
            raise self.fail(name, f"unsupported MAT data type {mtype}")
        dt = np.dtype(self.bo + _MI[mtype]) if np.dtype(_MI[mtype]).itemsize > 1 else np.dtype(_MI[mtype])
        count = int(np.prod(dims, dtype=np.int64))
        if len(data_b) != count * dt.itemsize:
            raise self.fail(name, f"truncated: {len(data_b)} data bytes, expected {count * dt.itemsize} "
                                  f"for dims {'x'.join(map(str, dims))}")
        arr = np.frombuffer(data_b, dtype=dt).reshape(dims, order="F")
        return name, arr.astype(_MX_NUMERIC[cls])


def _pad8(n):
    return (n + 7) & ~7


def read_mat(path):
    """Read the numeric matrices of a MATLAB v5 MAT-file: ``{name: ndarray}``."""
    return _MatReader(path).read()


def _load_svhn(split, data_dir):
    path = os.path.join(data_dir, f"{split}_32x32.mat")
    if not os.path.isfile(path):
        raise _missing(path, "svhn")
    mats = read_mat(path)
    for key in ("X", "y"):
        if mats.get(key) is None:
            raise QGPError(path, key, f"missing numeric matrix {key!r}; expected X [32,32,3,N] and y [N,1]")
    x, y = mats["X"], mats["y"]
    if x.ndim != 4 or x.shape[:3] != (32, 32, 3):
        raise QGPError(path, "X", f"shape {list(x.shape)}, expected [32, 32, 3, N]")
    if x.min(initial=0) < 0 or x.max(initial=0) > 255:
        raise QGPError(path, "X", "values outside 0..255")
    labels = y.reshape(-1).astype(np.int64)
    if y.ndim != 2 or labels.shape[0] != x.shape[3]:
        raise QGPError(path, "y", f"{labels.shape[0]} labels (shape {list(y.shape)}) but {x.shape[3]} "
                                  "images; expected y [N, 1] with N equal to the image count")
    if labels.size and (labels.min() < 0 or labels.max() > 10):
        raise QGPError(path, "y", "labels outside 1..10 (10 means digit 0)")
    labels[labels == 10] = 0
    images = np.ascontiguousarray(x.astype(np.uint8).transpose(3, 2, 0, 1))
    return images, labels


# ---------------------------------------------------------------------------- custom data sets

_CUSTOM_CACHE = {}


def _custom(kind, path):
    """Read (once per process and file state) a custom data set: {"train", "test", "info"}."""
    path = os.path.abspath(path)
    try:
        st = os.stat(path)
        key = (kind, path, st.st_mtime_ns, st.st_size)
    except OSError:
        key = None
    if key is not None and key in _CUSTOM_CACHE:
        return _CUSTOM_CACHE[key]
    out = _read_npz(path) if kind == "npz" else _read_folder(path)
    if key is not None:
        _CUSTOM_CACHE.clear()
        _CUSTOM_CACHE[key] = out
    return out


def _to_nchw(path, field, x):
    if x.dtype != np.uint8:
        raise QGPError(path, field, f"dtype {x.dtype}, expected uint8 images (0..255)")
    if x.ndim == 3:
        return np.ascontiguousarray(x[:, None])
    if x.ndim == 4:
        first, last = x.shape[1], x.shape[3]
        if first <= 4 < last:
            return np.ascontiguousarray(x)
        if last <= 4 < first:
            return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        raise QGPError(path, field, f"shape {list(x.shape)}: cannot tell [N,C,H,W] from [N,H,W,C] "
                                    "(expected 1..4 channels and images larger than 4 pixels)")
    raise QGPError(path, field, f"shape {list(x.shape)}, expected images [N,H,W], [N,C,H,W] or [N,H,W,C]")


def _labels(path, field, y, n, images_field):
    if y.dtype.kind not in "iu" and y.dtype != np.bool_:
        raise QGPError(path, field, f"dtype {y.dtype}, expected integer labels")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise QGPError(path, field, f"shape {list(y.shape)}, expected labels [N]")
    if y.shape[0] != n:
        raise QGPError(path, field, f"{y.shape[0]} labels but {images_field} has {n} images; "
                                    "expected equal counts")
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise QGPError(path, field, f"label {int(y.min())} < 0; expected labels 0..K-1")
    return y


def _finish(path, split_data, names, where):
    """Shared checks of the two custom readers; ``where(split, k)`` names an empty class's place."""
    (xtr, ytr), (xte, yte) = split_data["train"], split_data["test"]
    if len(ytr) == 0:
        raise QGPError(path, where("train", None), "no training images")
    if tuple(xtr.shape[1:]) != tuple(xte.shape[1:]):
        raise QGPError(path, where("test", None), f"test images are {'x'.join(map(str, xte.shape[1:]))} "
                       f"but training images {'x'.join(map(str, xtr.shape[1:]))}; expected the same shape")
    top = int(max(ytr.max(initial=0), yte.max(initial=0)))
    k = len(names) if names is not None else top + 1
    if top >= k:
        raise QGPError(path, "class_names", f"{k} names but labels go up to {top}")
    if k < 2:
        raise QGPError(path, where("train", None), f"{k} class, expected at least 2")
    counts = np.bincount(ytr, minlength=k)
    if (counts == 0).any():
        c = int(np.flatnonzero(counts == 0)[0])
        raise QGPError(path, where("train", c), f"class {c} has no training images (empty class)")
    names = list(names) if names is not None else [str(i) for i in range(k)]
    c, h, w = xtr.shape[1:]
    return {"train": (xtr, ytr), "test": (xte, yte),
            "info": {"channels": int(c), "height": int(h), "width": int(w), "classes": k, "class_names": names}}


def _read_npz(path):
    if not os.path.isfile(path):
        raise QGPError(path, "file", "missing; expected a .npz with x_train, y_train, x_test, y_test "
                                     "(the layout of Keras' mnist.npz)")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as e:
        if "pickle" in str(e):
            raise QGPError(path, "npz", "holds pickled objects; expected plain arrays (class_names as a "
                                        "string array, e.g. np.array(['cat', 'dog']))") from None
        raise QGPError(path, "npz", f"not a readable .npz ({e})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise QGPError(path, "npz", f"truncated or corrupt .npz ({type(e).__name__}: {e})") from None
    data = {}
    for split in SPLITS:
        for key in (f"x_{split}", f"y_{split}"):
            if key not in arrays:
                raise QGPError(path, key, f"missing array; the file has {sorted(arrays) or 'none'}, "
                                          "expected x_train, y_train, x_test, y_test")
        x = _to_nchw(path, f"x_{split}", arrays[f"x_{split}"])
        y = _labels(path, f"y_{split}", arrays[f"y_{split}"], x.shape[0], f"x_{split}")
        data[split] = (x, y)
    names = None
    if "class_names" in arrays:
        cn = arrays["class_names"]
        if cn.dtype.kind not in "US" or cn.ndim != 1:
            raise QGPError(path, "class_names", f"dtype {cn.dtype} shape {list(cn.shape)}, expected a 1-D "
                                                "string array")
        names = [v.decode() if isinstance(v, bytes) else str(v) for v in cn.tolist()]
    return _finish(path, data, names, lambda split, c: f"y_{split}")


IMAGE_EXTS = (".png", ".jpg", ".jpeg")


def _read_folder(path):
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise QGPError(path, "folder", "reading an image folder needs Pillow (pip install Pillow)") from None
    if not os.path.isdir(path):
        raise QGPError(path, "folder", "missing; expected PATH/train/<class>/*.png|jpg and PATH/test/<class>/...")
    classes = None
    files = {}
    for split in SPLITS:
        root = os.path.join(path, split)
        if not os.path.isdir(root):
            raise QGPError(root, "folder", f"missing; expected one sub-folder per class under {split}/")
        found = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
        if classes is None:
            classes = found
            if not classes:
                raise QGPError(root, "folder", "no class folders; expected train/<class>/*.png|jpg")
        else:
            extra = sorted(set(found) - set(classes))
            if extra:
                raise QGPError(os.path.join(root, extra[0]), "class", f"not a class of train/ "
                               f"(classes: {', '.join(classes)})")
        files[split] = []
        for ci, cname in enumerate(classes):
            d = os.path.join(root, cname)
            imgs = sorted(f for f in os.listdir(d) if f.lower().endswith(IMAGE_EXTS)) if os.path.isdir(d) else []
            if split == "train" and not imgs:
                raise QGPError(d, "class", "empty class: no .png/.jpg images")
            files[split] += [(os.path.join(d, f), ci) for f in imgs]
    decoded = {}
    gray = True
    for split in SPLITS:
        decoded[split] = []
        for f, ci in files[split]:
            try:
                with Image.open(f) as im:
                    im.load()
                    if im.mode not in ("L", "1", "LA", "I", "I;16", "F"):
                        gray = False
                    decoded[split].append((f, im.copy(), ci))
            except (OSError, UnidentifiedImageError, ValueError) as e:
                raise QGPError(f, "image", f"cannot decode ({e}); expected a PNG or JPEG image") from None
    mode = "L" if gray else "RGB"
    data, size, first = {}, None, None
    for split in SPLITS:
        xs, ys = [], []
        for f, im, ci in decoded[split]:
            if size is None:
                size, first = im.size, f
            if im.size != size:
                raise QGPError(f, "image", f"size {im.size[0]}x{im.size[1]} (WxH) but {first} is "
                                           f"{size[0]}x{size[1]}; expected one size for all images")
            a = np.asarray(im.convert(mode), dtype=np.uint8)
            xs.append(a[None] if a.ndim == 2 else a.transpose(2, 0, 1))
            ys.append(ci)
        c = 1 if gray else 3
        x = np.stack(xs) if xs else np.zeros((0, c, size[1], size[0]), np.uint8)
        data[split] = (np.ascontiguousarray(x), np.asarray(ys, dtype=np.int64))
    return _finish(path, data, classes,
                   lambda split, c: f"{split}/{classes[c]}" if c is not None else split)
