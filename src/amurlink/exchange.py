"""Exchange packages: a partner's share of a dataset under a sharing agreement, with checksums."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from amurlink._version import __version__
from amurlink.agreement import (  # re-exported: amurlink.exchange.Agreement stays valid
    SHAREABLE_TABLES,
    Agreement,
    _as_agreement,
    scope_dataset,
    within_taxa,
)
from amurlink.core.protection import ProtectionPolicy, level_to_precision
from amurlink.dataset import Dataset
from amurlink.exceptions import ConfigError, DataError
from amurlink.io import DEFAULT_MAX_BYTES, load_camtrap_dp, write_camtrap_dp
from amurlink.io._source import PackageSource
from amurlink.io.camtrap_dp import _move_into_place

__all__ = [
    "SHAREABLE_TABLES",
    "MANIFEST_NAME",
    "Agreement",
    "ExchangePackage",
    "scope_dataset",
    "within_taxa",
    "apply_agreement",
    "export_exchange",
    "import_exchange",
]

#: File name of the manifest at the top of an exchange package.
MANIFEST_NAME = "exchange-manifest.json"
#: Value of the manifest's ``format`` key.
_FORMAT = "amurlink-exchange"
_FORMAT_VERSION = 1
_CHUNK = 1 << 20


# ---------------------------------------------------------------------------------------------
# Applying an agreement (the gate, for the agreement's recipient)
# ---------------------------------------------------------------------------------------------
def apply_agreement(dataset: Dataset, agreement: Agreement | Mapping[str, Any], /, *,
                    today: date | None = None, policy: ProtectionPolicy | None = None
                    ) -> Dataset:
    """Return ``dataset`` as the recipient of ``agreement`` may see it.

    This is :func:`amurlink.release.release` for the agreement's recipient: which stations
    are sensitive is decided on the COMPLETE dataset and every location goes through
    :func:`amurlink.core.protection.protect_dataset` for the recipient as a partner at the
    agreed level (sensitive species' stations at least the policy's
    ``partner_sensitive_level`` unless the agreement names that species); only then is the
    agreement's scope (:func:`scope_dataset`: species, tables, embargo) applied and the
    metadata recomputed. Images of people and vehicles are removed and EXIF data cleared.

    Parameters
    ----------
    dataset : Dataset
        The provider's COMPLETE data with exact locations.
    agreement : Agreement or mapping
    today : date, optional
        The date the agreement is applied on (expiry, rolling embargo); today if ``None``.
    policy : ProtectionPolicy, optional
        The study's protection rules (``StudyConfig.protection``); the defaults if ``None``
        (the CLI passes ``--config``'s, the web platform its study's).

    Returns
    -------
    Dataset

    Raises
    ------
    ConfigError
        If the agreement has expired on ``today``.

    See Also
    --------
    export_exchange : write the result as an exchange package with checksums.
    amurlink.release.release : the gate, with counts on the scoped exact data.

    Examples
    --------
    >>> from amurlink.datasets import load_example
    >>> shared = apply_agreement(load_example(), Agreement(species=("Panthera tigris",),
    ...                          level="10km"), today=date(2025, 1, 1))
    >>> sorted(set(shared.observations["scientificName"]))
    ['Panthera tigris']
    """
    from amurlink.release import release

    agreement = _as_agreement(agreement)
    policy = ProtectionPolicy() if policy is None else policy
    return release(dataset, audience=agreement.audience, policy=policy, agreement=agreement,
                   today=today or date.today()).dataset


# ---------------------------------------------------------------------------------------------
# Writing and reading exchange packages
# ---------------------------------------------------------------------------------------------
def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _files_of(folder: Path) -> list[Path]:
    return sorted((p for p in folder.rglob("*") if p.is_file()),
                  key=lambda p: p.relative_to(folder).as_posix())


def export_exchange(dataset: Dataset, agreement: Agreement | Mapping[str, Any],
                    out: str | os.PathLike[str], /, *, today: date | None = None,
                    policy: ProtectionPolicy | None = None, overwrite: bool = False,
                    created: datetime | None = None) -> Path:
    """Write the recipient's share of ``dataset`` as an exchange package.

    The package is a Camtrap DP 1.0.2 package written by
    :func:`~amurlink.io.write_camtrap_dp` from :func:`apply_agreement`'s result, plus
    ``exchange-manifest.json``: the SHA-256 and size of every file, the agreement, the
    software version, the creation time and the row count of each table.

    Parameters
    ----------
    dataset : Dataset
        The provider's data with exact locations.
    agreement : Agreement or mapping
    out : path_like
        Target: a folder, or a ``.zip`` file.
    today : date, optional
        The date the agreement is applied on; today if ``None``.
    policy : ProtectionPolicy, optional
        The study's protection rules.
    overwrite : bool, default False
        Replace an existing ``out``.
    created : datetime, optional
        Creation time recorded in the manifest (UTC now if ``None``).

    Returns
    -------
    Path
        ``out``. Written atomically: a failure leaves nothing (and an existing package intact).

    Raises
    ------
    FileExistsError
        If ``out`` exists and ``overwrite`` is False.
    ConfigError
        If the agreement has expired.
    SchemaError
        If a table cannot be written as Camtrap DP.

    See Also
    --------
    import_exchange : verify and read such a package.
    """
    agreement = _as_agreement(agreement)
    target = Path(out)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass overwrite=True (--overwrite) to replace it")
    today = today or date.today()
    shared = apply_agreement(dataset, agreement, today=today, policy=policy)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{target.name}.", suffix=".partial",
                                     dir=target.parent) as tmp:
        folder = write_camtrap_dp(shared, Path(tmp) / "package")
        files = [{"path": f.relative_to(folder).as_posix(), "bytes": f.stat().st_size,
                  "sha256": _sha256_file(f)} for f in _files_of(folder)]
        stamp = (created or datetime.now(UTC)).astimezone(UTC)
        cutoff = agreement.cutoff(today)
        manifest = {
            "format": _FORMAT,
            "formatVersion": _FORMAT_VERSION,
            "software": {"name": "amurlink", "version": __version__},
            "created": stamp.isoformat().replace("+00:00", "Z"),
            "appliedOn": today.isoformat(),
            "agreement": agreement.to_dict(),
            "embargoCutoff": cutoff.isoformat() if cutoff else None,
            "coordinatePrecision": level_to_precision(agreement.level).coordinate_precision,
            "rowCounts": {name: int(len(frame)) for name, frame in shared.tables.items()},
            "files": files,
        }
        (folder / MANIFEST_NAME).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if target.suffix.lower() == ".zip":
            staged = Path(tmp) / "package.zip"
            with zipfile.ZipFile(staged, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for f in _files_of(folder):
                    zf.write(f, f.relative_to(folder).as_posix())
        else:
            staged = folder
        _move_into_place(staged, target)
    return target


@dataclass(frozen=True)
class ExchangePackage:
    """A verified exchange package.

    Attributes
    ----------
    dataset : Dataset
        The shared data, read and validated.
    agreement : Agreement
        The agreement it was made under (from the manifest).
    manifest : dict
        The manifest as read.
    source : Path
        Where it was read from.
    written : Path or None
        Where the verified package was copied to (``out_dir``), if anywhere.
    """

    dataset: Dataset
    agreement: Agreement
    manifest: dict[str, Any]
    source: Path
    written: Path | None = None
    files: tuple[str, ...] = field(default=())

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary: source, target, agreement, software, created, row counts."""
        return {"source": str(self.source),
                "written": str(self.written) if self.written else None,
                "verifiedFiles": len(self.files) + 1,
                "agreement": self.agreement.to_dict(),
                "software": self.manifest.get("software"),
                "created": self.manifest.get("created"),
                "rowCounts": {k: int(len(v)) for k, v in self.dataset.tables.items()}}


class _Reader:
    """Files of a package folder or zip, read with the library's safety limits."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.zip: zipfile.ZipFile | None = None
        self.prefix = ""
        if path.is_dir():
            self.names = [f.relative_to(path).as_posix() for f in _files_of(path)]
        elif path.is_file() and zipfile.is_zipfile(path):
            # the library's archive checks first: no '..' or absolute members, no member
            # inflating past max_bytes or with a zip-bomb compression ratio
            PackageSource.open(path, max_bytes=max_bytes).close()
            try:
                self.zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise DataError(f"{path}: cannot open the zip archive ({exc}); ask the provider "
                                "for a new copy") from None
            names = [i.filename for i in self.zip.infolist() if not i.is_dir()]
            if MANIFEST_NAME not in names:
                nested = [n for n in names if n.count("/") == 1 and n.endswith("/" + MANIFEST_NAME)]
                if len(nested) == 1:
                    self.prefix = nested[0][: -len(MANIFEST_NAME)]
            self.names = [n[len(self.prefix):] for n in names if n.startswith(self.prefix)]
        elif not path.exists():
            raise DataError(f"{path}: no such file or folder; give an exchange package folder "
                            "or .zip")
        else:
            raise DataError(f"{path}: not an exchange package (expected a folder or a .zip "
                            f"with {MANIFEST_NAME})")

    def sha256(self, rel: str) -> tuple[str, int]:
        h = hashlib.sha256()
        n = 0
        if self.zip is not None:
            fh = self.zip.open(self.prefix + rel)
        else:
            fh = open(self.path / rel, "rb")  # noqa: SIM115 - closed below
        with fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                n += len(chunk)
                if n > self.max_bytes:
                    raise DataError(f"{self.path}: {rel} is larger than the limit of "
                                    f"{self.max_bytes} bytes; raise max_bytes if it is genuine")
                h.update(chunk)
        return h.hexdigest(), n

    def read(self, rel: str) -> bytes:
        if self.zip is not None:
            with self.zip.open(self.prefix + rel) as fh:
                return fh.read(self.max_bytes + 1)
        return (self.path / rel).read_bytes()

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _refuse(path: Path, what: str, fix: str) -> DataError:
    return DataError(f"{path}: {what}; the package was not imported and nothing was written. "
                     f"{fix}")


def _read_manifest(reader: _Reader) -> dict[str, Any]:
    path = reader.path
    if MANIFEST_NAME not in reader.names:
        raise _refuse(path, f"no {MANIFEST_NAME} found (expected at the top of the package)",
                      "Only packages written by `amurlink exchange export` can be imported; ask "
                      "the provider to export it again")
    try:
        manifest = json.loads(reader.read(MANIFEST_NAME).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _refuse(path, f"{MANIFEST_NAME} is not valid UTF-8 JSON ({exc})",
                      "The manifest was damaged; ask the provider for a new copy") from None
    except RecursionError:
        raise _refuse(path, f"{MANIFEST_NAME} is nested too deeply to be a manifest",
                      "The manifest was damaged; ask the provider for a new copy") from None
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        raise _refuse(path, f"{MANIFEST_NAME} field 'format': expected {_FORMAT!r}, got "
                      f"{manifest.get('format') if isinstance(manifest, dict) else manifest!r}",
                      "This is not an amurlink exchange manifest")
    version = manifest.get("formatVersion")
    if version != _FORMAT_VERSION:
        raise _refuse(path, f"{MANIFEST_NAME} field 'formatVersion': expected {_FORMAT_VERSION}, "
                      f"got {version!r}", "Upgrade amurlink to read newer exchange packages")
    files = manifest.get("files")
    if not isinstance(files, list) or not files:
        raise _refuse(path, f"{MANIFEST_NAME} field 'files': expected a list of "
                      "{path, bytes, sha256}", "The manifest was damaged; ask for a new copy")
    for k, entry in enumerate(files):
        ok = isinstance(entry, dict) and isinstance(entry.get("path"), str) \
            and isinstance(entry.get("sha256"), str) and isinstance(entry.get("bytes"), int)
        if not ok:
            raise _refuse(path, f"{MANIFEST_NAME} files[{k}]: expected {{path, bytes, sha256}}, "
                          f"got {entry!r}", "The manifest was damaged; ask for a new copy")
        parts = PurePosixPath(entry["path"]).parts
        if entry["path"].startswith(("/", "\\")) or ".." in parts or entry["path"] == MANIFEST_NAME:
            raise _refuse(path, f"{MANIFEST_NAME} files[{k}]: unsafe path {entry['path']!r}",
                          "Paths must stay inside the package")
    return manifest


def _same_copy(target: Path, manifest: dict[str, Any]) -> bool:
    """Whether ``target`` already holds exactly this verified package."""
    mf = target / MANIFEST_NAME
    if not mf.is_file():
        return False
    try:
        existing = json.loads(mf.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    if existing != manifest:
        return False
    for entry in manifest["files"]:
        f = target / entry["path"]
        if not f.is_file() or f.stat().st_size != entry["bytes"] \
                or _sha256_file(f) != entry["sha256"]:
            return False
    return True


def import_exchange(path: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None,
                    /, *, overwrite: bool = False, max_bytes: int = DEFAULT_MAX_BYTES
                    ) -> ExchangePackage:
    """Verify an exchange package and read it (optionally copying it to ``out_dir``).

    Every check runs before anything is written: the manifest must be present and complete,
    every file it lists must exist with its size and SHA-256, no file may be present that it
    does not list, and the Camtrap DP package must validate. A tampered or incomplete package
    is refused with a :class:`DataError` naming the file, what was expected and what was found.

    Parameters
    ----------
    path : path_like
        Exchange package folder or ``.zip``.
    out_dir : path_like, optional
        Folder to copy the verified package into (byte for byte, with its manifest). Importing
        the same package into the same folder again changes nothing (idempotent).
    overwrite : bool, default False
        Replace a different package already in ``out_dir``.
    max_bytes : int, optional
        Largest size of one file in bytes.

    Returns
    -------
    ExchangePackage

    Raises
    ------
    DataError
        If the package is missing files, has extra or altered files, or its manifest is
        unreadable.
    SchemaError
        If the Camtrap DP package itself is invalid (``exc.report`` holds the report).
    FileExistsError
        If ``out_dir`` holds a different package and ``overwrite`` is False.

    See Also
    --------
    export_exchange
    """
    source = Path(path)
    reader = _Reader(source, max_bytes)
    try:
        manifest = _read_manifest(reader)
        listed = {e["path"]: e for e in manifest["files"]}
        missing = sorted(set(listed) - set(reader.names))
        if missing:
            raise _refuse(source, f"incomplete package: {len(missing)} file(s) listed in "
                          f"{MANIFEST_NAME} are missing (first: {missing[0]})",
                          "Copy the whole package again")
        extra = sorted(set(reader.names) - set(listed) - {MANIFEST_NAME})
        if extra:
            raise _refuse(source, f"{len(extra)} file(s) not listed in {MANIFEST_NAME} were "
                          f"added (first: {extra[0]})", "Remove them or ask for a new copy")
        for rel, entry in listed.items():
            digest, size = reader.sha256(rel)
            if size != entry["bytes"] or digest != entry["sha256"]:
                raise _refuse(source, f"{rel} was changed after export: expected SHA-256 "
                              f"{entry['sha256']} ({entry['bytes']} bytes), got {digest} "
                              f"({size} bytes)", "Ask the provider for a new copy")
        try:
            agreement = Agreement.from_mapping(manifest.get("agreement") or {},
                                               source=f"{source}: {MANIFEST_NAME} agreement")
        except ConfigError as exc:
            raise _refuse(source, str(exc), "The manifest was damaged") from None
    finally:
        reader.close()
    dataset, report = load_camtrap_dp(source, max_bytes=max_bytes)
    report.raise_for_errors()
    assert dataset is not None
    written: Path | None = None
    if out_dir is not None:
        written = _copy_verified(source, Path(out_dir), manifest, overwrite=overwrite,
                                 max_bytes=max_bytes)
    return ExchangePackage(dataset=dataset, agreement=agreement, manifest=manifest,
                           source=source, written=written,
                           files=tuple(sorted(listed)))


def _copy_verified(source: Path, target: Path, manifest: dict[str, Any], *, overwrite: bool,
                   max_bytes: int) -> Path:
    if target.exists():
        if _same_copy(target, manifest):
            return target
        if not overwrite:
            raise FileExistsError(f"{target} exists and holds something else; choose another "
                                  "folder or pass overwrite=True (--overwrite)")
    target.parent.mkdir(parents=True, exist_ok=True)
    reader = _Reader(source, max_bytes)
    try:
        with tempfile.TemporaryDirectory(prefix=f".{target.name}.", suffix=".partial",
                                         dir=target.parent) as tmp:
            staged = Path(tmp) / "package"
            for rel in [e["path"] for e in manifest["files"]] + [MANIFEST_NAME]:
                dest = staged / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(reader.read(rel))
            # the copy is checked again: the source could have changed since verification
            for entry in manifest["files"]:
                if _sha256_file(staged / entry["path"]) != entry["sha256"]:
                    raise _refuse(source, f"{entry['path']} changed while it was imported",
                                  "Import it again from a copy nobody is writing to")
            _move_into_place(staged, target)
    finally:
        reader.close()
    return target
