"""Field teams' records into the incident tables: SMART bundles, EarthRanger events, CSV.

Data models followed (the versions read to write this module):

- **SMART**: the *smart-able* migration bundle of ``er-smart-sync`` 0.10.0 (its
  ``bundle/schema.json``, bundle schema version 1): ``patrols.json`` holds patrols, their legs,
  leg days and waypoints; each waypoint holds observation groups of observations with a
  category key (``category_key``, ``category_hkey``) and attributes ``{key, type, value}``
  following SMART's category/attribute data model (``smartconnect-client`` 1.16.0 models).
  ``tracks.json`` holds each leg day's track with ``distance_km`` and its line parts.
- **EarthRanger**: event objects as the EarthRanger API returns them (``earthranger-client``
  1.19.0, ``get_events``): ``id``, ``serial_number``, ``event_type``, ``time``,
  ``location {latitude, longitude}``, ``event_details {...}``, ``state``; a JSON list or a page
  ``{"results": [...]}`` / ``{"data": {"results": [...]}}``.

Which SMART category or EarthRanger event type is which incident or finding is the study's
choice: :class:`CategoryMap` holds it (defaults below, or a ``[categories]`` table in a TOML
mapping file). A record whose category is not mapped is counted in the result's ``skipped``,
never silently dropped.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from amurlink.exceptions import DataError
from amurlink.incidents.tables import FINDING_CATEGORIES, INCIDENT_CATEGORIES, INCIDENT_TABLES

__all__ = [
    "CategoryMap",
    "DEFAULT_CATEGORY_MAP",
    "ImportResult",
    "import_smart_bundle",
    "import_earthranger_events",
    "read_incident_csv",
    "read_incident_folder",
    "write_incident_tables",
]

#: Largest JSON file read (a SMART bundle of a whole park for years is a few tens of MB).
MAX_JSON_BYTES = 256 * 1024 * 1024
#: Deepest JSON nesting accepted (a SMART bundle nests about 10 levels).
MAX_JSON_DEPTH = 64


@dataclass(frozen=True)
class CategoryMap:
    """Which source category is which amurlink record.

    Parameters
    ----------
    incidents : mapping of str to str
        Source category key (SMART ``category_key`` or ``category_hkey``, EarthRanger
        ``event_type``) to an incident category (:data:`INCIDENT_CATEGORIES`).
    findings : mapping of str to str
        Source category key to a patrol finding category (:data:`FINDING_CATEGORIES`).
    species : mapping of str to str
        Attribute values naming species (``amurtiger``) to scientific names.
    attributes : mapping of str to str
        Source attribute key to amurlink column (``species`` -> ``scientificName``).
    """

    incidents: Mapping[str, str] = field(default_factory=dict)
    findings: Mapping[str, str] = field(default_factory=dict)
    species: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key, value in self.incidents.items():
            if value not in INCIDENT_CATEGORIES:
                raise DataError(f"category map: {key!r} -> {value!r} is not an incident "
                                f"category; expected one of {', '.join(INCIDENT_CATEGORIES)}")
        for key, value in self.findings.items():
            if value not in FINDING_CATEGORIES:
                raise DataError(f"category map: {key!r} -> {value!r} is not a finding category; "
                                f"expected one of {', '.join(FINDING_CATEGORIES)}")

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str], /) -> CategoryMap:
        """Read ``[categories.incidents]``, ``[categories.findings]``, ``[species]`` and
        ``[attributes]`` tables from a TOML file (each merges over the defaults)."""
        name = Path(path).name
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
            raise DataError(f"{name}: cannot read the category map ({exc}); expected a UTF-8 "
                            "TOML file with [categories.incidents] and [categories.findings]"
                            ) from None
        cats = data.get("categories", {})
        base = DEFAULT_CATEGORY_MAP
        return cls(incidents={**base.incidents, **dict(cats.get("incidents", {}))},
                   findings={**base.findings, **dict(cats.get("findings", {}))},
                   species={**base.species, **dict(data.get("species", {}))},
                   attributes={**base.attributes, **dict(data.get("attributes", {}))})

    def incident_of(self, *keys: str | None) -> str | None:
        return next((self.incidents[k] for k in keys if k and k in self.incidents), None)

    def finding_of(self, *keys: str | None) -> str | None:
        return next((self.findings[k] for k in keys if k and k in self.findings), None)


DEFAULT_CATEGORY_MAP = CategoryMap(
    incidents={
        "livestock_depredation": "livestock-killed", "livestockkilled": "livestock-killed",
        "hwc_livestock_rep": "livestock-killed",
        "dog_killed": "dog-killed", "dogkilled": "dog-killed",
        "attack_on_person": "attack-on-person", "humanattack": "attack-on-person",
        "animal_in_village": "animal-in-village", "wildlife_in_village": "animal-in-village",
        "road_kill": "road-kill", "roadkill": "road-kill",
        "carcass_rep": "carcass", "carcass": "carcass",
        "poaching": "poaching",
    },
    findings={
        "snare": "snare", "snares": "snare", "snare_rep": "snare",
        "trap": "trap", "poaching_camp": "poaching-camp", "camp": "poaching-camp",
        "gunshot": "gunshot", "tiger_track": "tiger-track", "leopard_track": "leopard-track",
    },
    species={
        "amurtiger": "Panthera tigris", "tiger": "Panthera tigris",
        "amurleopard": "Panthera pardus", "leopard": "Panthera pardus",
    },
    attributes={
        "species": "scientificName", "individual_id": "individualID",
        "individualid": "individualID", "victim": "victimKind", "victim_kind": "victimKind",
        "number_killed": "victimCount", "victims": "victimCount", "count": "count",
        "number": "count", "outcome": "outcome", "response_team": "responseBy",
        "response_hours": "responseHours", "compensation_amount": "compensationAmount",
        "compensation_currency": "compensationCurrency",
        "compensation_date": "compensationDate", "sample_id": "sampleID",
    },
)


@dataclass(frozen=True)
class ImportResult:
    """Tables read from a source, and what was not taken."""

    tables: Mapping[str, pd.DataFrame]
    skipped: Mapping[str, int]
    source: str

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]


def _depth(obj: Any, limit: int) -> int:
    stack = [(obj, 1)]
    deepest = 0
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if d > limit:
            return d
        if isinstance(node, dict):
            stack.extend((v, d + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, d + 1) for v in node)
    return deepest


def _load_json(path: Path, what: str) -> Any:
    try:
        size = path.stat().st_size
    except OSError:
        raise DataError(f"{path.name}: {what} not found; check the path") from None
    if size > MAX_JSON_BYTES:
        raise DataError(f"{path.name}: {size} bytes is larger than the {MAX_JSON_BYTES} bytes "
                        f"read for a {what}; split the export by year")
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path.name}: not a UTF-8 JSON {what} ({exc}); export it again as "
                        "JSON") from None
    except RecursionError:
        raise DataError(f"{path.name}: JSON nested deeper than Python can read; not a {what}"
                        ) from None
    if _depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise DataError(f"{path.name}: JSON nested deeper than {MAX_JSON_DEPTH} levels; not a "
                        f"{what}")
    return data


def _frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows into a frame with exactly the table's columns and dtypes (missing as NA)."""
    schema = INCIDENT_TABLES[table]
    frame = pd.DataFrame(rows, columns=list(schema.field_names))
    for f in schema.fields:
        col = frame[f.name]
        if f.type == "datetime":
            frame[f.name] = pd.to_datetime(col, utc=True, errors="coerce", format="ISO8601")
        elif f.type == "number":
            frame[f.name] = pd.to_numeric(col, errors="coerce").astype("float64")
        elif f.type == "integer":
            frame[f.name] = pd.to_numeric(col, errors="coerce").round().astype("Int64")
        else:
            frame[f.name] = col.astype(object).where(col.notna(), None).astype("string")
    return frame


def _check_required(table: str, frame: pd.DataFrame, source: str) -> None:
    schema = INCIDENT_TABLES[table]
    for name in schema.required_fields:
        bad = frame[name].isna()
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            key = frame.iloc[i][schema.primary_key[0]]
            raise DataError(
                f"{source}: {table} record {key!r} has no {name}; the source must give it "
                f"(expected a {schema[name].type} value)"
            )


def _attr_value(a: Mapping[str, Any], cmap: CategoryMap) -> Any:
    value = a.get("value")
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    if isinstance(value, str) and value.casefold() in cmap.species:
        return cmap.species[value.casefold()]
    return value


def import_smart_bundle(
    folder: str | os.PathLike[str], /, *, country: str,
    categories: CategoryMap = DEFAULT_CATEGORY_MAP,
) -> ImportResult:
    """Read a SMART *smart-able* bundle (``patrols.json``, optional ``tracks.json``).

    Patrols become ``patrols`` rows (effort from the tracks' ``distance_km``, the route as a
    WKT line); each waypoint observation becomes an ``incidents`` row or a ``patrolFindings``
    row according to ``categories``.

    Parameters
    ----------
    folder : path
        The bundle folder.
    country : str
        ISO code of the country whose SMART database it is.

    Raises
    ------
    DataError
        If a file is missing, not JSON, or lacks what the bundle schema requires (the message
        names the file, the patrol or waypoint and the field).
    """
    root = Path(folder)
    data = _load_json(root / "patrols.json", "SMART patrols file")
    if not isinstance(data, dict) or not isinstance(data.get("patrols"), list):
        raise DataError("patrols.json: expected an object with a 'patrols' list (smart-able "
                        "bundle schema version 1)")
    tracks_path = root / "tracks.json"
    tracks = _load_json(tracks_path, "SMART tracks file").get("tracks", []) \
        if tracks_path.exists() else []
    km: dict[str, float] = {}
    lines: dict[str, list[str]] = {}
    for t in tracks:
        pid = t.get("patrol_uuid")
        if t.get("distance_km") is not None:
            km[pid] = km.get(pid, 0.0) + float(t["distance_km"])
        for part in t.get("parts") or []:
            coords = part.get("coordinates") or []
            if len(coords) >= 2:
                lines.setdefault(pid, []).append(
                    "(" + ", ".join(f"{c[0]} {c[1]}" for c in coords) + ")")

    patrols, incidents, findings = [], [], []
    skipped: dict[str, int] = {}
    for pi, p in enumerate(data["patrols"]):
        where = f"patrols.json patrol {pi + 1}"
        if not isinstance(p, dict) or "uuid" not in p:
            raise DataError(f"{where}: expected an object with a 'uuid'")
        pid = str(p.get("id") or p["uuid"])
        legs = p.get("legs") or []
        days = [d for leg in legs for d in (leg.get("days") or [])]
        starts = [d.get("start") for d in days if d.get("start")]
        ends = [d.get("end") for d in days if d.get("end")]
        parts = lines.get(p["uuid"], [])
        patrols.append({
            "patrolID": pid, "countryCode": country,
            "start": min(starts) if starts else p.get("start_date"),
            "end": max(ends) if ends else p.get("end_date"),
            "lengthKm": km.get(p["uuid"], 0.0 if not tracks else None),
            "transport": None, "team": p.get("team_uuid"),
            "track": ("MULTILINESTRING (" + ", ".join(parts) + ")") if parts else None,
            "source": "smart", "sourceID": p["uuid"],
        })
        for leg in legs:
            for w in leg.get("waypoints") or []:
                loc = w.get("location") or [None, None]
                for g in w.get("observation_groups") or []:
                    for o in g.get("observations") or []:
                        keys = (o.get("category_key"), o.get("category_hkey"))
                        attrs = {a.get("key"): _attr_value(a, categories)
                                 for a in o.get("attributes") or [] if isinstance(a, dict)}
                        row = {categories.attributes.get(k, k): v for k, v in attrs.items()}
                        base = {"latitude": loc[1], "longitude": loc[0],
                                "scientificName": row.get("scientificName")}
                        inc = categories.incident_of(*keys)
                        fnd = categories.finding_of(*keys)
                        if inc:
                            incidents.append({
                                **{c: row.get(c) for c in INCIDENT_TABLES["incidents"].field_names},
                                **base, "incidentID": f"{pid}:{o.get('uuid')}",
                                "countryCode": country, "eventStart": w.get("time"),
                                "category": inc, "source": "smart", "sourceID": o.get("uuid"),
                                "incidentComments": w.get("comment"),
                            })
                        elif fnd:
                            findings.append({
                                **base, "findingID": f"{pid}:{o.get('uuid')}", "patrolID": pid,
                                "date": w.get("time"), "category": fnd,
                                "count": row.get("count") or 1,
                                "findingComments": w.get("comment"),
                            })
                        else:
                            key = str(keys[1] or keys[0])
                            skipped[key] = skipped.get(key, 0) + 1
    tables = {"patrols": _frame("patrols", patrols), "incidents": _frame("incidents", incidents),
              "patrolFindings": _frame("patrolFindings", findings)}
    for name, frame in tables.items():
        _check_required(name, frame, "SMART bundle")
    return ImportResult(tables, skipped, "smart")


def _er_events(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        inner = data.get("data", data)
        if isinstance(inner, dict) and isinstance(inner.get("results"), list):
            return inner["results"]
    raise DataError("EarthRanger export: expected a JSON list of events or a page with "
                    "'results'")


def import_earthranger_events(
    path: str | os.PathLike[str], /, *, country: str,
    categories: CategoryMap = DEFAULT_CATEGORY_MAP,
) -> ImportResult:
    """Read EarthRanger events (JSON) into ``incidents`` and ``patrolFindings``.

    An event's ``event_type`` picks its table through ``categories``; ``event_details`` keys
    map to columns through ``categories.attributes``. Findings keep the first patrol segment
    of the event as ``patrolID``. Events of other types are counted in ``skipped``.
    """
    p = Path(path)
    events = _er_events(_load_json(p, "EarthRanger event export"))
    incidents, findings = [], []
    skipped: dict[str, int] = {}
    for i, ev in enumerate(events):
        if not isinstance(ev, dict):
            raise DataError(f"{p.name}: event {i + 1} is not an object")
        etype = ev.get("event_type")
        loc = ev.get("location") or {}
        details = ev.get("event_details") or {}
        if not isinstance(details, dict) or not isinstance(loc, dict):
            raise DataError(f"{p.name}: event {i + 1} ({ev.get('id')}): 'event_details' and "
                            "'location' must be objects")
        row = {categories.attributes.get(k, k): _attr_value({"value": v}, categories)
               for k, v in details.items()}
        ident = str(ev.get("serial_number") or ev.get("id") or i + 1)
        base = {"latitude": loc.get("latitude"), "longitude": loc.get("longitude"),
                "scientificName": row.get("scientificName")}
        inc = categories.incident_of(etype)
        fnd = categories.finding_of(etype)
        if inc:
            incidents.append({
                **{c: row.get(c) for c in INCIDENT_TABLES["incidents"].field_names}, **base,
                "incidentID": f"ER-{ident}", "countryCode": country, "eventStart": ev.get("time"),
                "category": inc, "source": "earthranger", "sourceID": ev.get("id"),
                "incidentComments": ev.get("title"),
            })
        elif fnd:
            segments = ev.get("patrol_segments") or []
            findings.append({
                **base, "findingID": f"ER-{ident}", "patrolID": segments[0] if segments else None,
                "date": ev.get("time"), "category": fnd, "count": row.get("count") or 1,
                "findingComments": ev.get("title"),
            })
        else:
            skipped[str(etype)] = skipped.get(str(etype), 0) + 1
    tables = {"incidents": _frame("incidents", incidents),
              "patrolFindings": _frame("patrolFindings", findings)}
    _check_required("incidents", tables["incidents"], p.name)
    return ImportResult(tables, skipped, "earthranger")


def read_incident_csv(path: str | os.PathLike[str], table: str, /) -> pd.DataFrame:
    """Read one incident table from CSV with the package's parser and validation.

    Raises
    ------
    DataError
        With every issue (file, row, field, expected value and fix) when the file is invalid.
    """
    from amurlink.io._parse import TableParser

    if table not in INCIDENT_TABLES:
        raise DataError(f"unknown incident table {table!r}; expected one of "
                        f"{', '.join(INCIDENT_TABLES)}")
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError:
        raise DataError(f"{p.name}: cannot read the file; check the path") from None
    parsed = TableParser(INCIDENT_TABLES[table], p.name).read(data)
    errors = [i for i in parsed.issues if i.severity == "error"]
    if errors or parsed.frame is None:
        lines = "\n".join(f"  - {i.message}" for i in errors[:20])
        raise DataError(f"{p.name}: {len(errors)} problem(s) in table {table}:\n{lines}")
    return parsed.frame


def write_incident_tables(tables: Mapping[str, pd.DataFrame],
                          folder: str | os.PathLike[str], /) -> list[Path]:
    """Write incident tables as CSV files (``incidents.csv``, ...) into ``folder``.

    Same text conventions as the package writer (ISO 8601 times, shortest round-trip numbers).
    Every file is formatted, then written aside, and only then are all moved into place, so a
    failure while formatting or writing leaves every old table whole.
    """
    import pyarrow.csv as pacsv

    from amurlink.io.camtrap_dp import _format_frame

    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    formatted = {}
    for name, frame in tables.items():
        if name not in INCIDENT_TABLES:
            raise DataError(f"unknown incident table {name!r}; expected one of "
                            f"{', '.join(INCIDENT_TABLES)}")
        formatted[name] = _format_frame(frame, INCIDENT_TABLES[name], None)
    staged: list[tuple[Path, Path]] = []
    try:  # every file written aside first: a failure here leaves every old table whole
        for name, text in formatted.items():
            tmp = root / f".{name}.csv.tmp"
            staged.append((tmp, root / f"{name}.csv"))
            pacsv.write_csv(text, tmp, write_options=pacsv.WriteOptions(quoting_style="needed"))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, path in staged:  # then only renames, each atomic
        os.replace(tmp, path)
    return [path for _, path in staged]


def read_incident_folder(folder: str | os.PathLike[str], /, *,
                         include_personal: bool = False) -> dict[str, pd.DataFrame]:
    """Read every incident table present in ``folder`` (``<table>.csv``).

    ``claimants.csv`` (personal data) is read only with ``include_personal=True``.
    """
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"{root.name}: not a folder of incident tables")
    out = {}
    for name in INCIDENT_TABLES:
        if name == "claimants" and not include_personal:
            continue
        path = root / f"{name}.csv"
        if path.is_file():
            out[name] = read_incident_csv(path, name)
    if not out:
        names = ", ".join(f"{n}.csv" for n in INCIDENT_TABLES)
        raise DataError(f"{root.name}: holds none of {names}")
    return out
