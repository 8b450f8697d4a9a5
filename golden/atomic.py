"""Atomic file writes shared by every tool (text, bytes, JSON): a temp file in the same folder,
then a rename, so a kill never leaves a half-written file."""
import os
import tempfile


def _write(path, data, mode):
    path = os.path.abspath(os.fspath(path))
    d = os.path.dirname(path)
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_text(path, text):
    """Write ``text`` to ``path`` atomically (parent folders created); returns the absolute path."""
    return _write(path, text, "w")


def write_bytes(path, data):
    """Write ``data`` (bytes) to ``path`` atomically; returns the absolute path."""
    return _write(path, data, "wb")


def write_json(path, obj, indent=2):
    """Write ``obj`` as JSON (one trailing newline) to ``path`` atomically; a path that cannot be
    written is a one-line ``QGPError`` naming it."""
    import json

    from qgp.golden.errors import QGPError
    try:
        return write_text(path, json.dumps(obj, indent=indent) + "\n")
    except OSError as e:
        raise QGPError(os.path.abspath(os.fspath(path)), "file",
                       f"cannot write: {e.strerror or e}") from None
