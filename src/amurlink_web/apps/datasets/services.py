"""Importing Camtrap DP packages (atomic, idempotent, streamed) and exporting them."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from amurlink.io import Issue, load_camtrap_dp, write_camtrap_dp
from amurlink_web.apps.core.services import ApplicationError, audit_record
from amurlink_web.apps.datasets.models import Dataset, Upload
from amurlink_web.apps.datasets.selectors import Access, dataset_records
from amurlink_web.apps.organisations.models import Organisation

logger = logging.getLogger(__name__)
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ReceivedFile:
    """An upload written to disk (never held in memory)."""

    path: Path
    filename: str
    size: int
    sha256: str


def _incoming_dir() -> Path:
    path = Path(settings.DATA_DIR) / "incoming"
    path.mkdir(parents=True, exist_ok=True)
    return path


def upload_receive(*, uploaded_file: Any, max_bytes: int | None = None) -> ReceivedFile:
    """Stream an uploaded file to disk in 1 MiB chunks, hashing it; refuse it past ``max_bytes``.

    Raises
    ------
    ApplicationError
        (413) If the file is larger than the limit; nothing is kept.
    """
    limit = settings.UPLOAD_MAX_BYTES if max_bytes is None else max_bytes
    name = Path(str(getattr(uploaded_file, "name", "") or "upload.zip")).name[:200]
    too_big = ApplicationError(
        f"{name} is larger than the upload limit of {limit} bytes; split the package or ask "
        "an administrator to raise AMURLINK_UPLOAD_MAX_BYTES", status=413)
    if (getattr(uploaded_file, "size", 0) or 0) > limit:
        raise too_big
    target = _incoming_dir() / f"{uuid.uuid4().hex}.upload"
    digest = hashlib.sha256()
    size = 0
    try:
        with open(target, "wb") as out:
            for chunk in uploaded_file.chunks(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise too_big
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return ReceivedFile(target, name, size, digest.hexdigest())


def file_receive(*, path: Path) -> ReceivedFile:
    """A file already on disk (CLI, demo): copy it to the incoming folder and hash it."""
    target = _incoming_dir() / f"{uuid.uuid4().hex}.upload"
    shutil.copyfile(path, target)
    digest = hashlib.sha256()
    with open(target, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return ReceivedFile(target, Path(path).name, target.stat().st_size, digest.hexdigest())


def _issue_rows(issues: list[Issue]) -> list[dict[str, Any]]:
    return [i.to_dict() for i in issues]


def _ownership_issues(data: Any, organisation: Organisation) -> list[Issue]:
    """Deployments of another country cannot be uploaded under this organisation."""
    details = data.get("deploymentDetails")
    if details is None or "countryCode" not in details:
        return []
    codes = details["countryCode"].astype("string").str.upper()
    foreign = details.loc[codes.ne(organisation.country).fillna(False).to_numpy(dtype=bool)]
    if foreign.empty:
        return []
    first = str(foreign["deploymentID"].iloc[0])
    return [Issue(
        code="foreign-deployments", severity="error", table="deploymentDetails",
        file="deployment-details.csv", field="countryCode",
        row=int(foreign.index[0]) + 2, expected=organisation.country,
        got=str(foreign["countryCode"].iloc[0]),
        message=(f"{len(foreign)} deployment(s) (first: {first}) belong to another country than "
                 f"{organisation.name} ({organisation.country}); each organisation uploads only "
                 "its own deployments"),
        fix="split the package by country and upload each part under its own organisation")]


def _summary(data: Any) -> dict[str, Any]:
    obs = data.observations
    names = obs["scientificName"].dropna().astype(str) if "scientificName" in obs else []
    starts = pd.to_datetime(obs.get("eventStart"), utc=True, errors="coerce") \
        if "eventStart" in obs else pd.Series(dtype="datetime64[ns, UTC]")
    return {
        "n_deployments": len(data.deployments), "n_media": len(data.media),
        "n_observations": len(obs), "species": sorted(set(names)),
        "first_record": None if starts.dropna().empty else starts.min().to_pydatetime(),
        "last_record": None if starts.dropna().empty else starts.max().to_pydatetime(),
    }


def upload_receive_many(*, uploaded_files: list[Any]) -> ReceivedFile:
    """Several uploaded files (a mapping TOML and its tables) as one zip on disk.

    Each file is streamed to disk first (the same size limit on their sum); the zip stores
    them under their base names, in name order, so the same files give the same hash.
    """
    limit = settings.UPLOAD_MAX_BYTES
    parts = []
    try:
        used = 0
        for f in sorted(uploaded_files, key=lambda f: str(getattr(f, "name", ""))):
            part = upload_receive(uploaded_file=f, max_bytes=max(limit - used, 0))
            used += part.size
            parts.append(part)
        names = [p.filename for p in parts]
        if len(set(names)) != len(names):
            raise ApplicationError("two of the files have the same name; rename one", status=400)
        target = _incoming_dir() / f"{uuid.uuid4().hex}.upload"
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as zf:
            for p in parts:
                info = zipfile.ZipInfo(p.filename, date_time=(1980, 1, 1, 0, 0, 0))
                with open(p.path, "rb") as src, zf.open(info, "w") as out:
                    shutil.copyfileobj(src, out, _CHUNK)
    finally:
        for p in parts:
            p.path.unlink(missing_ok=True)
    digest = hashlib.sha256()
    with open(target, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    label = f"{names[0]} (+{len(names) - 1})"[:200]
    return ReceivedFile(target, label, target.stat().st_size, digest.hexdigest())


def dataset_import(*, organisation: Organisation, received: ReceivedFile, by=None,
                   title: str | None = None, request: HttpRequest | None = None,
                   kind: str = "camtrap-dp", timezone: str = "") -> Upload:
    """Validate a zipped Camtrap DP package and import it: all or nothing, once.

    ``kind`` (``datasets.sources.KINDS``): ``camtrap-dp`` (a zipped package), ``mapping``
    (national tables with their import mapping TOML, zipped), ``wildlife-insights`` (a zipped
    project download) or ``megadetector`` (output JSON, added to the deployments of the
    organisation's current dataset); the last three are read by the library into a Camtrap DP
    dataset and stored as one. The newest imported dataset of a park is its current dataset,
    the one a study run (``jobs`` kind ``study``) reads.

    The same archive imported twice for one organisation adds nothing (status
    ``duplicate``). An invalid package is rejected with its validation report and leaves
    nothing behind but that report. The package files are written atomically, then the
    database rows in one transaction; if that fails the files are removed again.
    """
    def finish(status: str, *, issues: list[dict[str, Any]] | None = None,
               counts: dict[str, int] | None = None, dataset: Dataset | None = None) -> Upload:
        upload = Upload.objects.create(
            owner=organisation, uploaded_by=by, filename=received.filename, size=received.size,
            sha256=received.sha256, status=status, issues=issues or [], counts=counts or {},
            dataset=dataset)
        audit_record(request=request, user=by, action="create", target=f"upload:{upload.pk}",
                     detail={"status": status, "sha256": received.sha256,
                             "dataset": dataset.pk if dataset else None})
        return upload

    try:
        existing = Dataset.objects.filter(owner=organisation, sha256=received.sha256).first()
        if existing is not None:
            return finish(Upload.Status.DUPLICATE, dataset=existing)
        if kind != "camtrap-dp":
            data, issues = _read_other(kind, organisation, received, timezone)
            if data is None or any(i.severity == "error" for i in issues):
                return finish(Upload.Status.REJECTED, issues=_issue_rows(issues))
            return _store(data, issues, organisation=organisation, received=received, by=by,
                          title=title, finish=finish, counts={})
        if not zipfile.is_zipfile(received.path):
            return finish(Upload.Status.REJECTED, issues=[Issue(
                code="not-a-zip", severity="error", file=received.filename,
                message=f"{received.filename} is not a zip archive; upload the Camtrap DP "
                        "package (datapackage.json and its CSV files) as one .zip",
                fix="zip the package folder and upload the .zip").to_dict()])
        zipped = received.path.with_suffix(".zip")
        received.path.rename(zipped)
        try:
            # the report names the uploaded file, never the server's incoming path
            data, report = load_camtrap_dp(zipped, max_bytes=settings.UPLOAD_MAX_BYTES,
                                           name=received.filename)
        except Exception:  # noqa: BLE001 - a hostile file gets a report, never an HTTP 500
            logger.exception("reading upload %s failed", received.sha256)
            return finish(Upload.Status.REJECTED, issues=[Issue(
                code="unreadable", severity="error", file=received.filename,
                message=f"{received.filename} could not be read as a Camtrap DP package; the "
                        "administrators have been told",
                fix="check the archive with `amurlink validate` and upload it again").to_dict()])
        finally:
            zipped.rename(received.path)
        issues = list(report)
        if data is not None:
            issues += _ownership_issues(data, organisation)
        if data is None or any(i.severity == "error" for i in issues):
            return finish(Upload.Status.REJECTED, issues=_issue_rows(issues),
                          counts=dict(report.row_counts))
        return _store(data, issues, organisation=organisation, received=received, by=by,
                      title=title, finish=finish, counts=dict(report.row_counts))
    finally:
        received.path.unlink(missing_ok=True)


def _read_other(kind: str, organisation: Organisation, received: ReceivedFile, timezone: str
                ) -> tuple[Any, list[Issue]]:
    """Read a mapping / Wildlife Insights / MegaDetector upload (``datasets.sources``)."""
    from amurlink.io._source import default_budget
    from amurlink_web.apps.datasets import sources

    if kind not in sources.KINDS:
        return None, [Issue(code="upload-kind", severity="error", file=received.filename,
                            message=f"unknown kind of upload {kind!r}",
                            fix=f"choose one of {', '.join(sources.KINDS)}")]
    zone = timezone or sources.DEFAULT_ZONES.get(organisation.country, "UTC")
    current = None
    if kind == "megadetector":
        latest = Dataset.objects.filter(owner=organisation).order_by("-created_at",
                                                                     "-id").first()
        if latest is not None:
            from amurlink.io import read_camtrap_dp

            current = read_camtrap_dp(Path(settings.DATA_DIR) / latest.package_dir)
    with tempfile.TemporaryDirectory(dir=_incoming_dir()) as tmp:
        try:
            sources.unpack(received.path, Path(tmp), filename=received.filename, kind=kind,
                           budget=default_budget())
            data, issues = sources.read_source(
                kind, Path(tmp), filename=received.filename, country=organisation.country,
                organisation=organisation.slug, catalogue=organisation.catalogue or None,
                timezone=zone, current=current)
        except sources.SourceError as exc:
            return None, [exc.issue]
        except Exception:  # noqa: BLE001 - a hostile file gets a report, never an HTTP 500
            logger.exception("reading upload %s (%s) failed", received.sha256, kind)
            return None, [Issue(
                code="unreadable", severity="error", file=received.filename,
                message=f"{received.filename} could not be read; the administrators have "
                        "been told", fix="check the files with `amurlink validate` and upload "
                                         "them again")]
        # the report names the uploaded files, never the temporary folder
        issues = [_without_folder(i, tmp, received.filename) for i in issues]
        if data is not None:
            issues += _ownership_issues(data, organisation)
        return data, issues


def _without_folder(issue: Issue, folder: str, filename: str) -> Issue:
    from dataclasses import replace

    def clean(v: Any) -> Any:
        return v.replace(folder + "/", "").replace(folder, filename) if isinstance(v, str) \
            else v

    return replace(issue, message=clean(issue.message), file=clean(issue.file),
                   fix=clean(issue.fix))


def _store(data: Any, issues: list[Issue], *, organisation: Organisation,
           received: ReceivedFile, by, title: str | None, finish, counts: dict) -> Upload:
    """Write an accepted dataset atomically and create its rows in one transaction."""
    rel = Path("packages") / organisation.slug / received.sha256[:24]
    target = Path(settings.DATA_DIR) / rel
    write_camtrap_dp(data, target, overwrite=True)
    summary = _summary(data)
    try:
        with transaction.atomic():
            dataset = Dataset.objects.create(
                owner=organisation, sha256=received.sha256, package_dir=str(rel),
                uploaded_by=by, title=(title or str(data.metadata.get("title") or
                                                    received.filename))[:300], **summary)
            return finish(Upload.Status.IMPORTED, issues=_issue_rows(issues),
                          counts=counts, dataset=dataset)
    except IntegrityError:
        # a concurrent import of the same archive won: ours adds nothing
        existing = Dataset.objects.filter(owner=organisation, sha256=received.sha256).first()
        if existing is None:
            shutil.rmtree(target, ignore_errors=True)
            raise
        return finish(Upload.Status.DUPLICATE, dataset=existing)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


def dataset_set_public(*, dataset: Dataset, is_public: bool, by=None,
                       request: HttpRequest | None = None) -> Dataset:
    dataset.is_public = is_public
    dataset.save(update_fields=["is_public", "updated_at"])
    audit_record(request=request, user=by, action="update", target=f"dataset:{dataset.pk}",
                 detail={"is_public": is_public})
    return dataset


def dataset_export(*, dataset: Dataset, access: Access, request: HttpRequest | None = None
                   ) -> Path:
    """Write the package as the reader may see it to a zip with a SHA-256 manifest.

    Returns the zip's path (a temporary file the caller deletes).
    """
    data = dataset_records(dataset=dataset, access=access)
    with tempfile.TemporaryDirectory(dir=_incoming_dir()) as tmp:
        folder = write_camtrap_dp(data, Path(tmp) / "package")
        lines = []
        for f in sorted(p for p in folder.rglob("*") if p.is_file()):
            lines.append(f"{hashlib.sha256(f.read_bytes()).hexdigest()}  "
                         f"{f.relative_to(folder).as_posix()}")
        (folder / "checksums.sha256").write_text("\n".join(lines) + "\n", encoding="utf-8")
        out = _incoming_dir() / f"{uuid.uuid4().hex}.export.zip"
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(p for p in folder.rglob("*") if p.is_file()):
                zf.write(f, f.relative_to(folder).as_posix())
    audit_record(request=request, action="export", target=f"dataset:{dataset.pk}",
                 detail={"access": access.kind, "level": access.level})
    return out
