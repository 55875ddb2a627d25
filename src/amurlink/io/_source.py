"""Safe access to the files of a package: a folder, a ``datapackage.json`` or a zip archive."""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from amurlink.exceptions import DataError

#: Default largest size of one file inside a package, in bytes (2 GiB).
DEFAULT_MAX_BYTES = 2 * 1024**3
#: A zip member that inflates more than this many times its compressed size is refused.
MAX_COMPRESSION_RATIO = 200
_DESCRIPTOR = "datapackage.json"


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
    _zip: zipfile.ZipFile | None = field(default=None, init=False, repr=False)
    _root: Path | None = field(default=None, init=False, repr=False)
    _prefix: str = field(default="", init=False, repr=False)

    @classmethod
    def open(cls, path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> PackageSource:
        """Open a package folder, its ``datapackage.json`` or a ``.zip`` holding it.

        Raises
        ------
        DataError
            If the path does not exist, is not a package, or the archive is unsafe.
        """
        p = Path(path)
        src = cls(p, max_bytes=max_bytes)
        if not p.exists():
            raise DataError(f"{p}: no such file or folder; give a package folder, its "
                            "datapackage.json or a .zip of it")
        if p.is_dir():
            src._root = p
        elif p.name == _DESCRIPTOR:
            src._root = p.parent
        elif zipfile.is_zipfile(p):
            src._open_zip(p)
        else:
            raise DataError(
                f"{p}: not a data package (expected a folder with datapackage.json, the "
                "datapackage.json itself, or a .zip archive of the package)"
            )
        if not src.exists(_DESCRIPTOR):
            raise DataError(
                f"{p}: no datapackage.json found; a Camtrap DP package needs its descriptor "
                "at the top of the folder or archive"
            )
        return src

    def _open_zip(self, p: Path) -> None:
        try:
            zf = zipfile.ZipFile(p)
        except (zipfile.BadZipFile, OSError) as exc:
            raise DataError(f"{p}: cannot open the zip archive ({exc}); re-create the "
                            "archive") from exc
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

    def read_bytes(self, rel: str) -> bytes:
        """Read one file, never more than ``max_bytes`` (archive headers are not trusted)."""
        rel = safe_relative_path(rel)
        limit = self.max_bytes
        if self._zip is not None:
            with self._zip.open(self._prefix + rel) as fh:
                data = fh.read(limit + 1)
        else:
            assert self._root is not None
            path = self._root / rel
            if path.is_symlink() and not path.resolve().is_relative_to(self._root.resolve()):
                raise DataError(f"{path}: symbolic link points outside the package; refusing it")
            with open(path, "rb") as fh:
                data = fh.read(limit + 1)
        if len(data) > limit:
            raise DataError(
                f"{self.location}: {rel} is larger than the limit of {_human(limit)}; "
                "raise max_bytes (--max-file-size) if the file is genuine"
            )
        return data

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> PackageSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
