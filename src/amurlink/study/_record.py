"""The run record: what each stage of a study run read, which versions ran it, how it went.

``run-record.json`` in the study's output folder holds one entry per stage (fingerprint,
input hashes, dependency digests, versions, start time, seconds, status, outputs, state-file
hashes, a small summary) and a cache of file hashes keyed by path, size and modification
time, so a rerun with nothing changed hashes nothing (it only stats the files).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["FileHasher", "RECORD_NAME", "digest", "read_record", "write_record"]

#: File name of the run record in the output folder.
RECORD_NAME = "run-record.json"
_CHUNK = 1 << 20


def digest(obj: Any) -> str:
    """SHA-256 of the canonical JSON of ``obj`` (sorted keys)."""
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


class FileHasher:
    """SHA-256 of files and folders, reusing earlier hashes while size and mtime match.

    Parameters
    ----------
    cache : mapping, optional
        ``{path: [size, mtime_ns, sha256]}`` from an earlier run record.
    """

    def __init__(self, cache: Mapping[str, Any] | None = None) -> None:
        self._old = dict(cache or {})
        self._new: dict[str, list[Any]] = {}
        self._lock = threading.Lock()

    @property
    def cache(self) -> dict[str, list[Any]]:
        """The hashes of every file hashed or checked in this run."""
        with self._lock:
            return dict(self._new)

    def file(self, path: str | os.PathLike[str]) -> str:
        """SHA-256 of one file (from the cache when its size and mtime are unchanged)."""
        p = Path(path)
        st = p.stat()
        key = str(p.resolve())
        old = self._old.get(key)
        if old is not None and old[0] == st.st_size and old[1] == st.st_mtime_ns:
            sha = str(old[2])
        else:
            sha = _sha256(p)
        with self._lock:
            self._new[key] = [st.st_size, st.st_mtime_ns, sha]
        return sha

    def path(self, path: str | os.PathLike[str], *, exclude: Iterable[str] = ()) -> str:
        """SHA-256 of a file, or of a folder's files (names and contents, hidden ones left
        out); ``"missing"`` when absent."""
        p = Path(path)
        if p.is_file():
            return self.file(p)
        if not p.is_dir():
            return "missing"
        skip = set(exclude)
        parts = []
        for root, dirs, files in os.walk(p):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.startswith(".") or name in skip:
                    continue
                f = Path(root) / name
                parts.append((f.relative_to(p).as_posix(), self.file(f)))
        return digest(parts)


def read_record(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The run record of ``out_dir`` (empty when there is none or it cannot be read)."""
    path = Path(out_dir) / RECORD_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_record(out_dir: str | os.PathLike[str], record: Mapping[str, Any]) -> Path:
    """Write the run record atomically (written aside, then moved into place)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".run-record.", suffix=".json", dir=out)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record, fh, indent=2, ensure_ascii=False, default=str)
            fh.write("\n")
        os.replace(tmp, out / RECORD_NAME)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out / RECORD_NAME
