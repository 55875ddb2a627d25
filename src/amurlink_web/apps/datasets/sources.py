"""The upload kinds besides a Camtrap DP zip: national tables with their import mapping, a
Wildlife Insights download and MegaDetector / SpeciesNet output, read by the library
(:mod:`amurlink.io.mapping`, ``amurlink.io._readers``) into a Camtrap DP dataset that is then
stored like any upload (``services.dataset_import``).

An uploaded zip is unpacked into a private temporary folder with the limits of the io layer:
no absolute or ``..`` member names, at most :data:`MAX_MEMBERS` members, no member
compressed more than :data:`MAX_RATIO`:1, and at most the read budget
(``AMURLINK_READ_BUDGET``) in all, counted while writing (a member that lies about its
size is stopped there). Every problem is an :class:`amurlink.io.Issue` of the upload's
report that names the uploaded file, never a server path.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

from amurlink.exceptions import AmurlinkError
from amurlink.io import Issue

#: The kinds of upload (form choice values).
KINDS = ("camtrap-dp", "mapping", "wildlife-insights", "megadetector")
MAX_MEMBERS = 2000
MAX_RATIO = 200
#: Camera clock zones by country when the uploader gives none.
DEFAULT_ZONES = {"CN": "Asia/Shanghai", "RU": "Asia/Vladivostok"}


class SourceError(Exception):
    """An upload that cannot be read; ``issue`` is its report line."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


def _error(code: str, filename: str, message: str, fix: str) -> SourceError:
    return SourceError(Issue(code=code, severity="error", file=filename, message=message,
                             fix=fix))


def extract_zip(path: Path, dest: Path, *, filename: str, budget: int) -> None:
    """Unpack the uploaded zip ``path`` into ``dest`` within the limits (module docstring)."""
    from amurlink.io._source import safe_relative_path

    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise _error("not-a-zip", filename, f"{filename} is not a zip archive",
                     "upload a .zip of the files, or the files themselves") from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_MEMBERS:
            raise _error("too-many-files", filename,
                         f"{filename} holds {len(infos)} files; at most {MAX_MEMBERS} are read",
                         "upload only the tables, the mapping and its files")
        total = 0
        for info in infos:
            try:
                rel = safe_relative_path(info.filename)
            except AmurlinkError:
                raise _error("unsafe-path", filename,
                             f"{filename}: member {info.filename!r} is not a plain relative "
                             "path", "zip the folder itself, without absolute paths or "
                                     "'..'") from None
            if info.compress_size and info.file_size / max(info.compress_size, 1) > MAX_RATIO:
                raise _error("zip-bomb", filename,
                             f"{filename}: member {rel!r} is compressed more than "
                             f"{MAX_RATIO}:1; refusing to unpack it",
                             "upload the files without such compression")
            total += info.file_size
            if total > budget:
                raise _error("too-large", filename,
                             f"{filename} unpacks to more than the read budget of {budget} "
                             "bytes", "split the upload, or ask an administrator to raise "
                                      "AMURLINK_READ_BUDGET")
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            try:
                with zf.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > info.file_size:
                            raise _error("zip-size", filename,
                                         f"{filename}: member {rel!r} is larger than the "
                                         "archive says", "zip the files again")
                        out.write(chunk)
            except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
                raise _error("zip-damaged", filename,
                             f"{filename}: member {rel!r} cannot be unpacked ({type(exc).__name__})"
                             .replace("(BadZipFile)", "(bad checksum or damaged data)"),
                             "zip the files again and upload the new archive") from None


def _one(folder: Path, pattern: str, filename: str, what: str, fix: str) -> Path:
    found = sorted(p for p in folder.rglob(pattern) if p.is_file()
                   and not any(part.startswith(("__MACOSX", ".")) for part in
                               p.relative_to(folder).parts))
    if len(found) != 1:
        names = ", ".join(p.relative_to(folder).as_posix() for p in found[:5])
        raise _error("no-" + what.replace(" ", "-") if not found else "several-" + what
                     .replace(" ", "-"), filename,
                     f"{filename} holds {len(found)} {what} files{': ' + names if names else ''};"
                     " exactly one is needed", fix)
    return found[0]


def read_source(kind: str, folder: Path, *, filename: str, country: str, organisation: str,
                catalogue: str | None, timezone: str, current: Any = None
                ) -> tuple[Any, list[Issue]]:
    """The dataset (or None) and report issues of the files unpacked in ``folder``."""
    if kind == "mapping":
        from amurlink.io.mapping import import_mapping

        toml = _one(folder, "*.toml", filename, "mapping TOML",
                    "upload the mapping TOML with the tables it names (docs/formats.md §1)")
        data, report = import_mapping(toml)
        return data, list(report)
    if kind == "wildlife-insights":
        from amurlink.io._readers.wildlife_insights import import_wildlife_insights

        images = _one(folder, "images.csv", filename, "images.csv",
                      "upload the Wildlife Insights project download (deployments.csv, "
                      "images.csv) as one zip")
        data, report = import_wildlife_insights(images.parent, country=country,
                                                timezone=timezone, organisation=organisation,
                                                catalogue=catalogue)
        return data, list(report)
    if kind == "megadetector":
        from amurlink.io._readers.megadetector import import_megadetector

        if current is None:
            raise _error("no-deployments", filename,
                         "MegaDetector results are added to the deployments of your current "
                         "dataset, and your organisation has none yet",
                         "upload the deployments first (Camtrap DP or national tables)")
        result = _one(folder, "*.json", filename, "JSON",
                      "upload the MegaDetector or SpeciesNet output JSON")
        data, report = import_megadetector(result, dataset=current, timezone=timezone,
                                           id_prefix=catalogue)
        return data, list(report)
    raise ValueError(f"unknown upload kind {kind!r}")


def unpack(received_path: Path, dest: Path, *, filename: str, kind: str, budget: int) -> None:
    """Put the upload's files in ``dest``: a zip is unpacked; a JSON (MegaDetector) is copied."""
    if kind == "megadetector" and not zipfile.is_zipfile(received_path):
        shutil.copyfile(received_path, dest / (Path(filename).stem + ".json"))
        return
    extract_zip(received_path, dest, filename=filename, budget=budget)
