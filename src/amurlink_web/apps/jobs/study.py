"""The platform's study folder: every park's current dataset as ``amurlink run`` inputs.

A park's current dataset is its newest accepted upload (each stored as a Camtrap DP package
under ``DATA_DIR/packages/``). :func:`study_folder_write` writes ``DATA_DIR/study/amurlink.toml``
naming them (absolute paths) and the study border, for :func:`amurlink.study.run_study`, and
each of those parks' incident books as entered on the platform (incidents, disease tests and
the owner-only claimants, exact: the run's reports release them per reader like every other
table) under ``DATA_DIR/study/incidents/<cc>/``, named as the country's ``incidents`` input.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_noop as N_

from amurlink_web.apps.core.services import ApplicationError
from amurlink_web.apps.datasets.models import Dataset
from amurlink_web.apps.organisations.models import Organisation


def current_datasets() -> dict[str, Dataset]:
    """Country code -> the current dataset of that country's park (newest accepted upload)."""
    out: dict[str, Dataset] = {}
    for org in Organisation.objects.filter(kind=Organisation.Kind.PARK).order_by("pk"):
        latest = Dataset.objects.filter(owner=org).order_by("-created_at", "-id").first()
        if latest is not None and org.country not in out:
            out[org.country] = latest
    return out


def incident_books_write(folder: Path, parks: dict[str, Organisation]) -> dict[str, Path]:
    """Write each park's incident books into ``folder/incidents/<cc>/``; country -> folder.

    A park with no incident and no disease test gets no folder (an old one is removed, so a
    run never reads books that are no longer in the database).
    """
    from amurlink.incidents.imports import write_incident_tables
    from amurlink_web.apps.incidents.selectors import incident_tables

    out: dict[str, Path] = {}
    for country, org in sorted(parks.items()):
        books = folder / "incidents" / country.lower()
        tables = incident_tables(organisation=org)
        if not len(tables["incidents"]) and not len(tables["diseaseTests"]):
            shutil.rmtree(books, ignore_errors=True)
            continue
        write_incident_tables(tables, books)
        out[country] = books
    root, kept = folder / "incidents", {c.lower() for c in out}
    for old in root.iterdir() if root.is_dir() else ():
        if old.is_dir() and old.name not in kept:
            shutil.rmtree(old, ignore_errors=True)  # a park no longer in the run
    return out


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def study_folder_write() -> Path:
    """Write the study's ``amurlink.toml``; returns the folder."""
    data = Path(settings.DATA_DIR)
    current = current_datasets()
    if not current:
        raise ApplicationError(N_("no park has uploaded a dataset yet"))
    folder = data / "study"
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["# written by the platform for each study run: every park's current dataset",
             "[inputs]"]
    border = data / "border.geojson"
    if border.is_file():
        lines.append(f"border = {_toml(str(border))}")
    books = incident_books_write(folder, {c: ds.owner for c, ds in current.items()})
    for country, ds in sorted(current.items()):
        lines += ["", f"[inputs.{country}]",
                  f"camtrap_dp = [{_toml(str(data / ds.package_dir))}]"]
        if country in books:
            lines.append(f"incidents = [{_toml(str(books[country]))}]")
    lines += ["", "[inputs.reports]", "owner = []", ""]
    tmp = folder / "amurlink.toml.tmp"
    tmp.write_text("\n".join(lines), encoding="utf-8")
    tmp.replace(folder / "amurlink.toml")
    return folder
