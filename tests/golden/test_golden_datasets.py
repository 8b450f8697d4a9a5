"""Dataset loaders on small files written here in each exact on-disk format, and every bad case."""

import gzip
import os
import pickle
import struct
import zlib

import numpy as np
import pytest

from qgp.golden import datasets
from qgp.golden.errors import QGPError

FMNIST_DIR = "/usr/share/datasets/fashion-mnist"


# ---------------------------------------------------------------------------- writers

def idx_bytes(arr):
    arr = np.asarray(arr, dtype=np.uint8)
    return struct.pack(">HBB", 0, 0x08, arr.ndim) + struct.pack(">" + "I" * arr.ndim, *arr.shape) + arr.tobytes()


def write_idx_dir(d, split="test", n=7, h=28, w=28, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, h, w)).astype(np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    prefix = "train" if split == "train" else "t10k"
    os.makedirs(d, exist_ok=True)
    for kind, arr in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
        data = idx_bytes(arr)
        path = os.path.join(d, f"{prefix}-{kind}" + (".gz" if gz else ""))
        with open(path, "wb") as f:
            f.write(gzip.compress(data) if gz else data)
    return images, labels


def write_cifar(d, name, n_per=4, seed=0, protocol=2):
    rng = np.random.default_rng(seed)
    if name == "cifar10":
        sub, files, key, k = "cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"], b"labels", 10
    else:
        sub, files, key, k = "cifar-100-python", ["train", "test"], b"fine_labels", 100
    root = os.path.join(d, sub)
    os.makedirs(root, exist_ok=True)
    out = {}
    for fn in files:
        data = rng.integers(0, 256, size=(n_per, 3072)).astype(np.uint8)
        labels = [int(v) for v in rng.integers(0, k, size=n_per)]
        batch = {b"batch_label": b"x", b"data": data, key: labels, b"filenames": [b"a.png"] * n_per}
        if name == "cifar100":
            batch[b"coarse_labels"] = [v // 5 for v in labels]
        with open(os.path.join(root, fn), "wb") as f:
            pickle.dump(batch, f, protocol=protocol)
        out[fn] = (data, labels)
    return out


# MAT v5, written byte by byte
MI_INT8, MI_UINT8, MI_INT32, MI_UINT32, MI_DOUBLE, MI_MATRIX, MI_COMPRESSED = 1, 2, 5, 6, 9, 14, 15
MX_DOUBLE, MX_UINT8 = 6, 9
NP_MI = {MI_UINT8: "<u1", MI_DOUBLE: "<f8", MI_INT32: "<i4"}


def mat_element(mtype, payload):
    """A data element: small format when it fits in 4 bytes, else 8-byte tag + data + padding."""
    if 0 < len(payload) <= 4:
        return struct.pack("<HH", mtype, len(payload)) + payload.ljust(4, b"\0")
    pad = (-len(payload)) % 8
    return struct.pack("<II", mtype, len(payload)) + payload + b"\0" * pad


def mat_matrix(name, arr, mx_class, mi_type):
    arr = np.asarray(arr)
    flags = mat_element(MI_UINT32, struct.pack("<II", mx_class, 0))
    dims = mat_element(MI_INT32, np.array(arr.shape, dtype="<i4").tobytes())
    nm = mat_element(MI_INT8, name.encode())
    data = mat_element(mi_type, arr.astype(NP_MI[mi_type]).tobytes(order="F"))
    body = flags + dims + nm + data
    return struct.pack("<II", MI_MATRIX, len(body)) + body


def mat_file(elements, header_text=b"MATLAB 5.0 MAT-file, written by a test"):
    hdr = header_text.ljust(116, b" ") + b"\0" * 8 + struct.pack("<H", 0x0100) + b"IM"
    return hdr + b"".join(elements)


def compressed(element):
    z = zlib.compress(element)
    return struct.pack("<II", MI_COMPRESSED, len(z)) + z  # not padded, as MATLAB writes it


def write_svhn(d, split="test", n=5, seed=0, compress=False):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, size=(32, 32, 3, n)).astype(np.uint8)
    y = rng.integers(1, 11, size=(n, 1)).astype(np.float64)
    y[0, 0] = 10  # digit 0
    ex = mat_matrix("X", X, MX_UINT8, MI_UINT8)
    if compress:  # MATLAB style: double class stored as uint8 data, inside a compressed element
        ey = compressed(mat_matrix("y", y, MX_DOUBLE, MI_UINT8))
        ex = compressed(ex)
    else:
        ey = mat_matrix("y", y, MX_DOUBLE, MI_DOUBLE)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, f"{split}_32x32.mat")
    with open(path, "wb") as f:
        f.write(mat_file([ex, ey]))
    return X, y, path


def raises_naming(path_part, fn, *args, **kw):
    with pytest.raises(QGPError) as ei:
        fn(*args, **kw)
    msg = str(ei.value)
    assert path_part in msg, msg
    assert "\n" not in msg
    return msg


# ---------------------------------------------------------------------------- IDX

@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("name", ["fmnist", "mnist"])
def test_idx_roundtrip(tmp_path, gz, name):
    images, labels = write_idx_dir(tmp_path, "test", gz=gz)
    x, y = datasets.load(name, "test", tmp_path)
    assert x.dtype == np.uint8 and x.shape == (7, 1, 28, 28)
    assert y.dtype == np.int64 and y.tolist() == labels.tolist()
    assert (x[:, 0] == images).all()
    write_idx_dir(tmp_path, "train", n=3, gz=gz, seed=1)
    assert datasets.load(name, "train", tmp_path)[0].shape == (3, 1, 28, 28)


def test_idx_missing_says_how_to_get_it(tmp_path):
    msg = raises_naming("t10k-images-idx3-ubyte", datasets.load, "fmnist", "test", tmp_path)
    assert "apt-get install dataset-fashion-mnist" in msg
    write_idx_dir(tmp_path)
    os.remove(tmp_path / "t10k-labels-idx1-ubyte.gz")
    raises_naming("t10k-labels-idx1-ubyte", datasets.load, "mnist", "test", tmp_path)


@pytest.mark.parametrize("gz", [True, False])
def test_idx_truncated(tmp_path, gz):
    write_idx_dir(tmp_path, gz=gz)
    p = tmp_path / ("t10k-images-idx3-ubyte" + (".gz" if gz else ""))
    raw = p.read_bytes()
    p.write_bytes(raw[: len(raw) - 100])
    msg = raises_naming(str(p), datasets.load, "fmnist", "test", tmp_path)
    assert "truncated" in msg


def test_idx_truncated_header(tmp_path):
    write_idx_dir(tmp_path, gz=False)
    p = tmp_path / "t10k-images-idx3-ubyte"
    p.write_bytes(p.read_bytes()[:10])
    assert "truncated" in raises_naming(str(p), datasets.load, "fmnist", "test", tmp_path)


def test_idx_wrong_magic(tmp_path):
    write_idx_dir(tmp_path, gz=False)
    p = tmp_path / "t10k-labels-idx1-ubyte"
    raw = bytearray(p.read_bytes())
    raw[3] = 3  # claims 3 dims
    p.write_bytes(bytes(raw))
    msg = raises_naming(str(p), datasets.load, "fmnist", "test", tmp_path)
    assert "magic" in msg and "0x00000801" in msg


def test_idx_count_mismatch(tmp_path):
    write_idx_dir(tmp_path, gz=True)
    p = tmp_path / "t10k-labels-idx1-ubyte.gz"
    p.write_bytes(gzip.compress(idx_bytes(np.zeros(6, dtype=np.uint8))))
    msg = raises_naming(str(p), datasets.load, "fmnist", "test", tmp_path)
    assert "6 labels" in msg and "7 images" in msg


def test_idx_label_out_of_range(tmp_path):
    write_idx_dir(tmp_path, gz=False)
    p = tmp_path / "t10k-labels-idx1-ubyte"
    p.write_bytes(idx_bytes(np.full(7, 10, dtype=np.uint8)))
    raises_naming(str(p), datasets.load, "fmnist", "test", tmp_path)


def test_bad_name_and_split(tmp_path):
    raises_naming("dataset", datasets.load, "imagenet", "test", tmp_path)
    raises_naming("split", datasets.load, "fmnist", "val", tmp_path)


@pytest.mark.skipif(not os.path.exists(os.path.join(FMNIST_DIR, "t10k-images-idx3-ubyte.gz")),
                    reason="dataset-fashion-mnist not installed")
def test_real_fmnist_test_split():
    x, y = datasets.load("fmnist", "test")
    assert x.shape == (10000, 1, 28, 28) and x.dtype == np.uint8
    assert y.shape == (10000,) and np.bincount(y).tolist() == [1000] * 10


# ---------------------------------------------------------------------------- CIFAR

@pytest.mark.parametrize("protocol", [2, 4])
def test_cifar10(tmp_path, protocol):
    written = write_cifar(tmp_path, "cifar10", protocol=protocol)
    x, y = datasets.load("cifar10", "train", tmp_path)
    assert x.shape == (20, 3, 32, 32) and x.dtype == np.uint8 and y.dtype == np.int64
    d1, l1 = written["data_batch_1"]
    assert (x[0, 0].ravel() == d1[0, :1024]).all() and (x[0, 2].ravel() == d1[0, 2048:]).all()
    assert y[:4].tolist() == l1
    xt, yt = datasets.load("cifar10", "test", tmp_path)
    assert xt.shape == (4, 3, 32, 32) and yt.tolist() == written["test_batch"][1]
    # data_dir may also point at the unpacked folder itself
    assert datasets.load("cifar10", "test", tmp_path / "cifar-10-batches-py")[0].shape == (4, 3, 32, 32)


def test_cifar100(tmp_path):
    written = write_cifar(tmp_path, "cifar100", n_per=6)
    x, y = datasets.load("cifar100", "test", tmp_path)
    assert x.shape == (6, 3, 32, 32) and y.tolist() == written["test"][1]
    assert datasets.load("cifar100", "train", tmp_path)[1].tolist() == written["train"][1]


def test_cifar_missing(tmp_path):
    msg = raises_naming(os.path.join("cifar-10-batches-py", "data_batch_1"), datasets.load, "cifar10", "train", tmp_path)
    assert "cifar-10-python.tar.gz" in msg
    raises_naming(os.path.join("cifar-100-python", "test"), datasets.load, "cifar100", "test", tmp_path)


def test_cifar_truncated_pickle(tmp_path):
    write_cifar(tmp_path, "cifar10")
    p = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    p.write_bytes(p.read_bytes()[:500])
    msg = raises_naming(str(p), datasets.load, "cifar10", "train", tmp_path)
    assert "truncated" in msg


def test_cifar_count_mismatch_and_bad_data(tmp_path):
    write_cifar(tmp_path, "cifar10")
    p = tmp_path / "cifar-10-batches-py" / "test_batch"
    with open(p, "wb") as f:
        pickle.dump({b"data": np.zeros((4, 3072), np.uint8), b"labels": [1, 2, 3]}, f)
    assert "3 labels but 4 images" in raises_naming(str(p), datasets.load, "cifar10", "test", tmp_path)
    with open(p, "wb") as f:
        pickle.dump({b"data": np.zeros((4, 3000), np.uint8), b"labels": [1, 2, 3, 4]}, f)
    raises_naming(str(p), datasets.load, "cifar10", "test", tmp_path)
    with open(p, "wb") as f:
        pickle.dump({b"labels": [1]}, f)
    raises_naming(str(p), datasets.load, "cifar10", "test", tmp_path)


def test_cifar_pickle_with_code_is_refused(tmp_path):
    write_cifar(tmp_path, "cifar10")
    p = tmp_path / "cifar-10-batches-py" / "test_batch"

    class Evil:
        def __reduce__(self):
            return (os.system, ("true",))

    with open(p, "wb") as f:
        pickle.dump({b"data": Evil()}, f)
    raises_naming(str(p), datasets.load, "cifar10", "test", tmp_path)


# ---------------------------------------------------------------------------- SVHN (MAT v5)

@pytest.mark.parametrize("compress", [False, True])
def test_svhn(tmp_path, compress):
    X, y, _ = write_svhn(tmp_path, "test", compress=compress)
    x, lab = datasets.load("svhn", "test", tmp_path)
    assert x.shape == (5, 3, 32, 32) and x.dtype == np.uint8
    assert (x == X.transpose(3, 2, 0, 1)).all()
    assert x[1, 2, 3, 4] == X[3, 4, 2, 1]
    want = y.ravel().astype(int)
    want[want == 10] = 0
    assert lab.dtype == np.int64 and lab.tolist() == want.tolist() and lab[0] == 0


def test_mat_reader_matrices(tmp_path):
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    p = tmp_path / "m.mat"
    p.write_bytes(mat_file([mat_matrix("longname", a, MX_DOUBLE, MI_DOUBLE),
                            compressed(mat_matrix("b", a.astype(np.uint8), MX_UINT8, MI_UINT8))]))
    m = datasets.read_mat(str(p))
    assert (m["longname"] == a).all() and (m["b"] == a).all() and m["b"].dtype == np.uint8


def test_svhn_missing(tmp_path):
    msg = raises_naming("train_32x32.mat", datasets.load, "svhn", "train", tmp_path)
    assert "housenumbers" in msg


@pytest.mark.parametrize("compress", [False, True])
def test_svhn_truncated(tmp_path, compress):
    _, _, path = write_svhn(tmp_path, compress=compress)
    raw = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(raw[: len(raw) // 2])
    assert "truncated" in raises_naming(path, datasets.load, "svhn", "test", tmp_path)
    with open(path, "wb") as f:
        f.write(raw[:60])
    assert "truncated" in raises_naming(path, datasets.load, "svhn", "test", tmp_path)


def test_svhn_bad_header_and_count(tmp_path):
    _, _, path = write_svhn(tmp_path)
    raw = bytearray(open(path, "rb").read())
    raw[126:128] = b"XX"
    with open(path, "wb") as f:
        f.write(bytes(raw))
    raises_naming(path, datasets.load, "svhn", "test", tmp_path)
    X = np.zeros((32, 32, 3, 4), np.uint8)
    y = np.ones((3, 1))
    with open(path, "wb") as f:
        f.write(mat_file([mat_matrix("X", X, MX_UINT8, MI_UINT8), mat_matrix("y", y, MX_DOUBLE, MI_DOUBLE)]))
    assert "3 labels" in raises_naming(path, datasets.load, "svhn", "test", tmp_path)
    with open(path, "wb") as f:
        f.write(mat_file([mat_matrix("X", X, MX_UINT8, MI_UINT8)]))
    raises_naming(path, datasets.load, "svhn", "test", tmp_path)
