"""Safe access to the files of a package: a folder, a ``datapackage.json`` or a zip archive."""

from __future__ import annotations

import os
import posixpath
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from amurlink.exceptions import DataError

#: Default largest size of one file inside a package, in bytes (2 GiB).
DEFAULT_MAX_BYTES = 2 * 1024**3
#: A zip member that inflates more than this many times its compressed size is refused.
MAX_COMPRESSION_RATIO = 200
#: Default budget of one package read, in bytes (640 MiB; ``AMURLINK_READ_BUDGET`` overrides
#: it). Every file counts with its decompressed size; a CSV table is charged once more for
#: its parsed copy (see ``table_cost``) before it is parsed. The simulator's ``large``
#: scenario (103 MB of CSV, 12.5 million cells) costs about 560 MB.
DEFAULT_BUDGET_BYTES = 640 * 1024**2
#: Bytes of memory charged per table cell (Arrow offsets, typed column, masks) ...
BYTES_PER_CELL = 20
#: ... and per byte of CSV text beyond the raw bytes (the Arrow copy of the text).
TEXT_COPIES = 2
_DESCRIPTOR = "datapackage.json"
_BLOCK = 1 << 20
#: Errors the zip module (and zlib underneath it) raises for damaged or lying archives.
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
              ValueError, RuntimeError, NotImplementedError, OverflowError, KeyError)


#: Default budget of a package read from a folder (or its ``datapackage.json``): 4 GiB, or
#: half the machine's memory if that is less. A folder's files are read as they are on disk,
#: so what they cost is bounded by their size (at most about 23 bytes per byte of CSV: an
#: empty cell is one comma and costs ``BYTES_PER_CELL``): a 10 MB folder can never pass about
#: 230 MB, whatever the budget. Only an archive can inflate a small input into a large read,
#: so archives keep the tight :data:`DEFAULT_BUDGET_BYTES`. A study's own joint package (the
#: neaspec demo's costs about 643 MiB) is a folder.
FOLDER_BUDGET_BYTES = 4 * 1024**3


def _half_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return FOLDER_BUDGET_BYTES


def default_budget(*, folder: bool = False) -> int:
    """The read budget: ``AMURLINK_READ_BUDGET`` (bytes; K/M/G suffixes), else 640 MiB for an
    archive or a single file and :data:`FOLDER_BUDGET_BYTES` (at most half the machine's
    memory) for a package folder."""
    raw = os.environ.get("AMURLINK_READ_BUDGET", "").strip()
    if not raw:
        if folder:
            return max(DEFAULT_BUDGET_BYTES, min(FOLDER_BUDGET_BYTES, _half_memory()))
        return DEFAULT_BUDGET_BYTES
    scale = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(raw[-1:].upper(), 1)
    try:
        value = int(float(raw[:-1] if scale > 1 else raw) * scale)
    except ValueError:
        raise DataError(f"AMURLINK_READ_BUDGET={raw!r} is not a number of bytes; write e.g. "
                        "2G or 700M") from None
    if value <= 0:
        raise DataError(f"AMURLINK_READ_BUDGET={raw!r} must be positive")
    return value


class BudgetError(DataError):
    """Reading a package would hold more bytes than its budget allows."""


def _human(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def safe_relative_path(path: str) -> str:
    """Return ``path`` normalised if it stays inside the package, else raise ``DataError``.

    Absolute paths, drive letters, URLs and any ``..`` component are refused: a package must
    never read or write outside its own folder.
    """
    if not path or "\\" in path or ":" in path or path.startswith(("/", "~")):
        raise DataError(
            f"resource path {path!r} is not a plain relative path inside the package; "
            "use a path such as 'observations.csv'"
        )
    parts = PurePosixPath(path).parts
    if any(p == ".." for p in parts):
        raise DataError(
            f"resource path {path!r} points outside the package ('..'); "
            "keep every file inside the package folder"
        )
    return posixpath.normpath(path)


@dataclass
class PackageSource:
    """Read-only, size-limited access to the files of one package."""

    location: Path
    max_bytes: int = DEFAULT_MAX_BYTES
    budget: int = DEFAULT_BUDGET_BYTES
    #: How the package is named in messages (what the user gave, never a server path).
    display: str = ""
    used: int = field(default=0, init=False)
    _zip: zipfile.ZipFile | None = field(default=None, init=False, repr=False)
    _root: Path | None = field(default=None, init=False, repr=False)
    _prefix: str = field(default="", init=False, repr=False)

    @classmethod
    def open(cls, path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES,
             budget: int | None = None, display: str | None = None) -> PackageSource:
        """Open a package folder, its ``datapackage.json`` or a ``.zip`` holding it.

        Parameters
        ----------
        path : path_like
        max_bytes : int
            Largest decompressed size of one file.
        budget : int, optional
            Most bytes the whole read may hold (default: :func:`default_budget`: 640 MiB for
            an archive, more for a folder, whose cost its size on disk already bounds).
        display : str, optional
            Name of the package in messages (default: ``path`` as given).

        Raises
        ------
        DataError
            If the path does not exist, is not a package, or the archive is unsafe.
        """
        p = Path(path)
        folder = p.is_dir() or p.name == _DESCRIPTOR
        src = cls(p, max_bytes=max_bytes,
                  budget=default_budget(folder=folder) if budget is None else budget,
                  display=str(path) if display is None else display)
        p_shown = src.display
        if not p.exists():
            raise DataError(f"{p_shown}: no such file or folder; give a package folder, its "
                            "datapackage.json or a .zip of it")
        if p.is_dir():
            src._root = p
        elif p.name == _DESCRIPTOR:
            src._root = p.parent
        elif zipfile.is_zipfile(p):
            src._open_zip(p)
        else:
            raise DataError(
                f"{p_shown}: not a data package (expected a folder with datapackage.json, the "
                "datapackage.json itself, or a .zip archive of the package)"
            )
        if not src.exists(_DESCRIPTOR):
            raise DataError(
                f"{p_shown}: no datapackage.json found; a Camtrap DP package needs its descriptor "
                "at the top of the folder or archive"
            )
        return src

    def _open_zip(self, path: Path) -> None:
        p = self.display
        try:
            zf = zipfile.ZipFile(path)
        except ZIP_ERRORS as exc:
            raise DataError(f"{p}: cannot open the zip archive ({_why(exc)}); re-create the "
                            "archive") from None
        names = zf.namelist()
        for info in zf.infolist():
            name = info.filename
            if name.startswith(("/", "\\")) or ".." in PurePosixPath(name.replace("\\", "/")).parts:
                raise DataError(
                    f"{p}: archive member {name!r} points outside the archive (absolute path or "
                    "'..'); refusing to read it. Re-create the zip from inside the package folder"
                )
            if info.file_size > self.max_bytes:
                raise DataError(
                    f"{p}: archive member {name!r} inflates to {_human(info.file_size)}, above the "
                    f"limit of {_human(self.max_bytes)}; raise max_bytes (--max-file-size) if it "
                    "is genuine"
                )
            if info.compress_size and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO \
                    and info.file_size > 1024**2:
                raise DataError(
                    f"{p}: archive member {name!r} has a compression ratio of "
                    f"{info.file_size / info.compress_size:.0f}:1 (a zip bomb?); refusing to "
                    "inflate it. Unzip it yourself and pass the folder if it is genuine"
                )
        # The descriptor may sit at the top or inside one top-level folder.
        if _DESCRIPTOR not in names:
            nested = [n for n in names if n.count("/") == 1 and n.endswith("/" + _DESCRIPTOR)]
            if len(nested) == 1:
                self._prefix = nested[0][: -len(_DESCRIPTOR)]
        self._zip = zf

    # -- access ------------------------------------------------------------------------------
    def exists(self, rel: str) -> bool:
        if self._zip is not None:
            try:
                self._zip.getinfo(self._prefix + rel)
                return True
            except KeyError:
                return False
        assert self._root is not None
        return (self._root / rel).is_file()

    def size(self, rel: str) -> int:
        if self._zip is not None:
            return self._zip.getinfo(self._prefix + rel).file_size
        assert self._root is not None
        return (self._root / rel).stat().st_size

    @property
    def remaining(self) -> int:
        """Bytes of the budget not yet charged."""
        return max(self.budget - self.used, 0)

    def charge(self, n: int, what: str) -> None:
        """Count ``n`` more bytes against the budget, or raise :class:`BudgetError`."""
        if self.used + n > self.budget:
            raise BudgetError(
                f"{self.display}: {what} would need about {_human(self.used + n)} of memory, "
                f"above the read budget of {_human(self.budget)}; split the package, or raise "
                "the budget (AMURLINK_READ_BUDGET, or budget= in Python) if it is genuine"
            )
        self.used += n

    def read_bytes(self, rel: str, *, table: bool = False) -> bytes:
        """Read one file, never more than ``max_bytes`` nor the budget left.

        Archive headers are not trusted: the file is read in 1 MiB blocks and reading stops
        as soon as it passes a limit, and damaged members (bad CRC, lying sizes, unknown
        compression) raise ``DataError``. The bytes read are charged against the budget;
        with ``table=True`` the file is CSV and its parsed copy is charged too
        (:func:`table_cost`), block by block, so an over-budget table is refused early.
        """
        rel = safe_relative_path(rel)
        if self._zip is not None:
            try:
                info = self._zip.getinfo(self._prefix + rel)
                if info.file_size > self.max_bytes:  # honest headers: refuse before inflating
                    self._too_large(rel, info.file_size)
                with self._zip.open(info) as fh:
                    data = self._read_limited(fh, rel, table)
                if len(data) != info.file_size:
                    raise zipfile.BadZipFile(f"the header says {info.file_size} bytes, the data "
                                             f"holds {len(data)}")
                return data
            except DataError:
                raise
            except ZIP_ERRORS as exc:
                raise DataError(f"{self.display}: archive member {rel} cannot be read "
                                f"({_why(exc)}); the zip is damaged, re-create it") from None
        assert self._root is not None
        path = self._root / rel
        if path.is_symlink() and not path.resolve().is_relative_to(self._root.resolve()):
            raise DataError(f"{self.display}: {rel} is a symbolic link that points outside "
                            "the package; refusing it")
        with open(path, "rb") as fh:
            return self._read_limited(fh, rel, table)

    def _read_limited(self, fh: BinaryIO, rel: str, table: bool) -> bytes:
        chunks: list[bytes] = []
        size = lines = 0
        columns = 1
        while True:
            block = fh.read(_BLOCK)
            if not block:
                break
            if table and not chunks:
                end = block.find(b"\n")
                columns = block[: end if end >= 0 else len(block)].count(b",") + 1
            chunks.append(block)
            size += len(block)
            if size > self.max_bytes:
                self._too_large(rel, size)
            if table:
                lines += block.count(b"\n")
                cost = size + TEXT_COPIES * size + BYTES_PER_CELL * (lines + 1) * columns
                if self.used + cost > self.budget:
                    self.charge(cost, f"{rel} (read up to {_human(size)} so far)")
            elif self.used + size > self.budget:
                self.charge(size, rel)
        data = b"".join(chunks)
        del chunks
        cost = size + TEXT_COPIES * size + BYTES_PER_CELL * (lines + 1) * columns \
            if table else size
        self.charge(cost, rel)
        return data

    def _too_large(self, rel: str, size: int) -> None:
        if size > self.max_bytes:
            raise DataError(
                f"{self.display}: {rel} is larger than the limit of {_human(self.max_bytes)}; "
                "raise max_bytes (--max-file-size) if the file is genuine"
            )
        self.charge(size, rel)  # raises BudgetError

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> PackageSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _why(exc: BaseException) -> str:
    """An exception as a short reason without the server paths it may carry."""
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return (text or type(exc).__name__)[:200]
