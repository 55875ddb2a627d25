"""Release: the one gate every output takes data through (protect on the whole, then scope).

Every output of amurlink (an exchange package, each report format, each web page, API
endpoint, map, download and job file, each CLI command that prints or writes data) gets the
data it shows from :func:`release`, and is listed in :data:`OUTPUTS`, the output registry that
the protection tests walk (``tests/test_release_property.py``, ``tests/web/test_registry.py``).

The order of operations is fixed here, once:

1. **Decide** on the COMPLETE dataset (every species, every date, every table) which level
   each station is shown at (:func:`amurlink.core.protection.station_levels`): a station where
   a tiger was seen stays a tiger station when an agreement shares only roe deer.
2. **Protect** the complete dataset at those levels
   (:func:`amurlink.core.protection.protect_dataset`).
3. **Scope**: remove what the agreement(s) do not share (species, tables, embargo;
   :func:`amurlink.agreement.scope_dataset`). Scoping only removes rows (and shortens a
   deployment that runs past an embargo); it never makes a location finer.
4. **Describe** what is left: metadata (``taxonomic``, ``temporal``, ``spatial``), summaries
   and counts are computed after scoping, so nothing held back can be inferred from them.

Counts (individuals, transboundary individuals, encounters per country, crossings) are
computed on the scoped EXACT data (:meth:`Released.figures`, :meth:`Released.crossborder`),
so owner, partner and public outputs with the same scope show the same numbers; only
locations and distances are coarsened for the audience.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from amurlink.agreement import NAMED_ONLY_TABLES, Agreement, _as_agreement, scope_dataset
from amurlink.core.protection import (
    Audience,
    ProtectionPolicy,
    coarsest_level,
    protect_dataset,
    station_levels,
)
from amurlink.dataset import Dataset
from amurlink.exceptions import ConfigError

__all__ = [
    "Released",
    "ScopedDataset",
    "Output",
    "OUTPUTS",
    "release",
    "scope",
    "scope_identities",
    "register_output",
    "output",
    "unregistered",
    "LocationLeakError",
]

#: Columns that carry a position (an output of :meth:`Released.figures` may not hold them).
_POSITION_COLUMNS = ("latitude", "longitude", "x", "y", "decimalLatitude", "decimalLongitude")


class LocationLeakError(ConfigError):
    """A figure computed on exact data tried to carry positions out of :class:`Released`."""


# ---------------------------------------------------------------------------------------------
# Scoped data that remembers where it came from
# ---------------------------------------------------------------------------------------------
class ScopedDataset(Dataset):
    """A scoped dataset (exact locations) that remembers the complete dataset it came from.

    Protection of a scoped dataset (:func:`release`, and
    :func:`~amurlink.core.protection.protect_dataset`, which reads ``scoped_from``) decides
    which stations are sensitive on :attr:`scoped_from`, never on what scoping left.
    """

    __slots__ = ("_scoped_from", "_agreements", "_today", "_rows")

    def __init__(self, tables: Mapping[str, pd.DataFrame], *, metadata: Mapping[str, Any],
                 extra_resources: Iterable[Mapping[str, Any]] = (), scoped_from: Dataset,
                 agreements: tuple[Any, ...], today: date | None,
                 rows: tuple[Callable[[Dataset], Dataset], ...] = ()) -> None:
        super().__init__(tables, metadata=metadata, extra_resources=list(extra_resources),
                         copy=False)
        self._scoped_from = scoped_from
        self._agreements = tuple(agreements)
        self._today = today
        self._rows = tuple(rows)

    @property
    def scoped_from(self) -> Dataset:
        """The complete dataset (every species and date) this one was cut from."""
        return self._scoped_from

    @property
    def agreements(self) -> tuple[Any, ...]:
        """The agreements whose scope was applied."""
        return self._agreements

    def replace(self, *, metadata: Mapping[str, Any] | None = None,
                **tables: pd.DataFrame | None) -> ScopedDataset:
        """As :meth:`Dataset.replace`, still remembering the complete dataset (a filter that
        drops records never lowers their stations' protection)."""
        plain = super().replace(metadata=metadata, **tables)
        return ScopedDataset(plain.tables, metadata=plain.metadata,
                             extra_resources=plain.extra_resources,
                             scoped_from=self._scoped_from, agreements=self._agreements,
                             today=self._today, rows=self._rows)


def _complete(dataset: Dataset
              ) -> tuple[Dataset, tuple[Any, ...], date | None, tuple[Callable, ...]]:
    if isinstance(dataset, ScopedDataset):
        inner, agreements, today, rows = _complete(dataset.scoped_from)
        return (inner, agreements + dataset.agreements, dataset._today or today,
                rows + dataset._rows)
    return dataset, (), None, ()


def _as_agreements(agreement: Any, agreements: Iterable[Any], tables: Iterable[str] | None
                   ) -> tuple[Any, ...]:
    out = [] if agreement is None else [_as_agreement(agreement)]
    out += [_as_agreement(a) for a in agreements]
    if tables is not None:
        # an output that needs only some tables is one more scope (tables only)
        out.append(_table_scope(tuple(tables)))
    return tuple(out)


def _table_scope(tables: tuple[str, ...]) -> Any:
    return Agreement(provider=_TABLES_ONLY, tables=tables, level="withheld")


#: ``provider`` of the scope an output adds to keep only the tables it needs.
_TABLES_ONLY = "(tables this output needs)"


def _is_agreement(a: Any) -> bool:
    return a.provider != _TABLES_ONLY


def _apply_scopes(data: Dataset, agreements: tuple[Any, ...], today: date | None,
                  rows: tuple[Callable[[Dataset], Dataset], ...] = ()) -> Dataset:
    for a in agreements:
        data = scope_dataset(data, a, today=today)
    for fn in rows:
        data = fn(data)
        if not isinstance(data, Dataset):
            raise TypeError(f"a rows= function must return a Dataset, got {type(data).__name__}")
    return data


def scope(dataset: Dataset, /, *, agreement: Any = None, agreements: Iterable[Any] = (),
          tables: Iterable[str] | None = None, today: date | None = None,
          rows: Callable[[Dataset], Dataset] | None = None) -> ScopedDataset:
    """Cut ``dataset`` to what the agreement(s) share, remembering the complete dataset.

    Locations stay EXACT: the result is for computing figures or for :func:`release`, never
    for showing. Any protection of it (``release`` or ``protect_dataset``) still decides the
    stations' levels on the complete dataset.

    ``rows`` is one more cut that may only REMOVE rows (e.g. the analyses' record filter,
    ``amurlink.analysis.quality.analysis_dataset``): a record it leaves out still makes its
    station sensitive. :func:`release` applies it to the protected data as well.
    """
    complete, earlier, day, earlier_rows = _complete(dataset)
    day = today or day
    new = _as_agreements(agreement, agreements, tables)
    new_cuts = (rows,) if rows is not None else ()
    # on top of what was given (a scoped dataset may have been filtered since)
    scoped = _apply_scopes(dataset, new, day, new_cuts)
    return ScopedDataset(scoped.tables, metadata=scoped.metadata,
                         extra_resources=scoped.extra_resources, scoped_from=complete,
                         agreements=earlier + new, today=day, rows=earlier_rows + new_cuts)


def scope_identities(dataset: Dataset, /, *, agreements: Mapping[str, Iterable[Any] | None],
                     today: date | None = None) -> Dataset:
    """``dataset`` with its ``individuals`` and ``identityLinks`` cut for one reader, each
    catalogue by the agreements of its own provider, with :func:`scope` (the rule every output
    takes: species, tables, an embargo on ``firstRecorded`` and on link decisions).

    For the joint catalogue and link views, which pool two providers' catalogues and show no
    records or locations (other tables are returned as given, never for showing).
    ``agreements`` maps a catalogue (the part of ``individualID`` before ``:``, e.g.
    ``CN-NTLNP``) to the agreements its provider gave the reader; a catalogue not in it is not
    cut (the reader's own); a catalogue mapped to ``None`` is withheld whole (its provider
    revoked what it gave: none of its individuals, nor any link event touching them). An
    individual is kept when every agreement of its catalogue keeps
    it; a link event when every agreement of a catalogue it touches keeps it (both subjects
    shared, its decision before the embargo) and neither subject is a held-back individual.
    Identities, current links and histories derived from the result describe only what is
    left.
    """
    ind, links = dataset.get("individuals"), dataset.get("identityLinks")
    withheld = {c for c, a in agreements.items() if a is None}
    given = {c: tuple(a) for c, a in agreements.items() if a is not None and tuple(a)}
    if not (given or withheld) or (ind is None and links is None):
        return dataset

    def catalogue(ids: pd.Series) -> pd.Series:
        return ids.astype("string").str.split(":", n=1).str[0]

    keep_ind = pd.Series(True, index=ind.index) if ind is not None else None
    keep_links = pd.Series(True, index=links.index) if links is not None else None
    for cat, terms in given.items():
        cut = scope(dataset, agreements=terms, today=today)
        if ind is not None:
            kept = cut.get("individuals")
            mine = (catalogue(ind["individualID"]) == cat).fillna(False)
            keep_ind &= ~mine | ind["individualID"].isin(
                set() if kept is None else set(kept["individualID"].dropna()))
        if links is not None:
            kept = cut.get("identityLinks")
            touches = ((catalogue(links["subjectA"]) == cat)
                       | (catalogue(links["subjectB"]) == cat)).fillna(False)
            keep_links &= ~touches | links["linkEventID"].isin(
                set() if kept is None else set(kept["linkEventID"].dropna()))
    if withheld:
        if ind is not None:
            keep_ind &= ~catalogue(ind["individualID"]).isin(withheld).fillna(False)
        if links is not None:
            keep_links &= ~(catalogue(links["subjectA"]).isin(withheld).fillna(False)
                            | catalogue(links["subjectB"]).isin(withheld).fillna(False))
    tables: dict[str, pd.DataFrame] = {}
    if ind is not None:
        tables["individuals"] = ind.loc[keep_ind.to_numpy(bool)]
        held = set(ind["individualID"].dropna()) - set(tables["individuals"]["individualID"])
    else:
        held = set()
    if links is not None:
        keep_links &= ~(links["subjectA"].isin(held) | links["subjectB"].isin(held))
        tables["identityLinks"] = links.loc[keep_links.to_numpy(bool)]
    return dataset.replace(**tables)


# ---------------------------------------------------------------------------------------------
# The released view
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Released:
    """What one reader may see of a dataset, and the figures computed for them.

    Attributes
    ----------
    dataset : Dataset
        Protected, then scoped: every table, row and metadata field an output may show.
    audience : Audience
    policy : ProtectionPolicy
    agreements : tuple of Agreement
        The scopes applied (empty: the whole dataset).
    cutoff : date or None
        The earliest embargo in force (records on or after it are held back).
    levels : Series
        Level of every shown deployment (``deploymentID`` -> level), decided on the complete
        dataset.

    Notes
    -----
    The scoped EXACT data never leaves this object: :meth:`figures` runs a function on it and
    refuses a result that carries positions (unless the audience sees every station exactly).
    """

    dataset: Dataset
    audience: Audience
    policy: ProtectionPolicy
    agreements: tuple[Any, ...]
    cutoff: date | None
    levels: pd.Series
    _exact: Dataset = field(repr=False)

    # -- levels ----------------------------------------------------------------------------
    @property
    def all_exact(self) -> bool:
        """Whether the audience sees every shown station at its exact position."""
        return bool((self.levels == "exact").all())

    @property
    def distance_level(self) -> str:
        """The level distances are shown at: the coarsest level of any shown station."""
        return coarsest_level(self.levels.tolist())

    # -- figures on exact data -------------------------------------------------------------
    def figures(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Run ``fn(scoped_exact_dataset, *args, **kwargs)`` and return its result.

        Counts computed this way are the same for every audience with the same scope.

        Raises
        ------
        LocationLeakError
            If the audience does not see every station exactly and the result is a Dataset,
            or a DataFrame (or a mapping / sequence / object holding one) with a finite
            position column (``latitude``, ``longitude``, ``x``, ``y``, ...).
        """
        result = fn(self._exact, *args, **kwargs)
        if not self.all_exact:
            _check_no_positions(result, getattr(fn, "__name__", repr(fn)))
        return result

    def exact_for_figures(self) -> Dataset:
        """The scoped data with EXACT locations, for code that computes figures from it.

        Only for computations whose results are shown without positions (counts, effort,
        crossings): prefer :meth:`figures`, which checks that. Never show it, never write
        it. It is a :class:`ScopedDataset`, so protecting it again still decides on the
        complete dataset.
        """
        return self._exact

    def crossborder(self, border: Any, /, **kwargs: Any) -> Any:
        """Cross-border tables counted on the scoped exact data, distances at
        :attr:`distance_level` (:func:`amurlink.analysis.crossborder.protect_crossborder`)."""
        from amurlink.analysis.crossborder import crossborder, protect_crossborder

        data = self._exact
        complete = getattr(data, "scoped_from", None)
        details = data.get("deploymentDetails")
        if complete is not None and (details is None or not len(details)) \
                and complete.get("deploymentDetails") is not None:
            # which country a station is in is a fact of the station, not of the agreement's
            # tables: the per-country counts need it even when the table itself is not shared
            full = complete["deploymentDetails"]
            data = data.replace(deploymentDetails=full.loc[full["deploymentID"].isin(
                data.deployments["deploymentID"]).to_numpy(dtype=bool)])
        result = crossborder(data, border=border, **kwargs)
        return protect_crossborder(result, level=self.distance_level)

    def summary(self) -> dict[str, Any]:
        """Dataset summary after scoping: rows per table, species, first and last record."""
        return summarise(self.dataset)


def summarise(data: Dataset) -> dict[str, Any]:
    """Rows per table, species seen, first and last record date of ``data`` (JSON-ready)."""
    obs = data.observations
    names = obs["scientificName"].dropna().astype(str) if "scientificName" in obs \
        else pd.Series([], dtype=object)
    stamps = pd.to_datetime(obs["eventStart"], utc=True, errors="coerce") \
        if "eventStart" in obs else pd.Series([], dtype="datetime64[ns, UTC]")
    stamps = stamps.dropna()
    individuals = data.get("individuals")
    return {
        "rows": {name: int(len(frame)) for name, frame in data.tables.items()},
        "deployments": int(len(data.deployments)),
        "media": int(len(data.media)),
        "observations": int(len(obs)),
        "individuals": int(len(individuals)) if individuals is not None else 0,
        "species": sorted(set(names)),
        "firstRecord": stamps.min().isoformat() if len(stamps) else None,
        "lastRecord": stamps.max().isoformat() if len(stamps) else None,
    }


def _check_no_positions(obj: Any, where: str, depth: int = 0) -> None:
    if depth > 4:
        return
    if isinstance(obj, Dataset):
        raise LocationLeakError(
            f"{where} returned a Dataset computed on exact locations; return counts or tables "
            "without positions, or show Released.dataset (protected) instead")
    if isinstance(obj, pd.DataFrame):
        for col in _POSITION_COLUMNS:
            if col in obj.columns and pd.to_numeric(obj[col], errors="coerce").notna().any():
                raise LocationLeakError(
                    f"{where} returned a table with positions (column {col!r}) computed on "
                    "exact locations; drop the column, or use Released.crossborder, which "
                    "coarsens positions and distances for the audience")
        return
    if isinstance(obj, Mapping):
        for v in obj.values():
            _check_no_positions(v, where, depth + 1)
    elif isinstance(obj, list | tuple):
        for v in obj:
            _check_no_positions(v, where, depth + 1)
    elif hasattr(obj, "__dataclass_fields__"):
        for name in obj.__dataclass_fields__:
            _check_no_positions(getattr(obj, name, None), where, depth + 1)


def _restore_dtypes(out: Dataset, like: Dataset) -> Dataset:
    """Give cleared columns (all missing, object dtype) their input dtype back."""
    tables = {}
    for name, frame in out.tables.items():
        ref = like.tables.get(name)
        if ref is not None:
            changed = {c: ref[c].dtype for c in frame.columns
                       if c in ref.columns and frame[c].dtype != ref[c].dtype
                       and frame[c].dtype == object and frame[c].isna().all()}
            if changed:
                frame = frame.astype(changed)
        tables[name] = frame
    return Dataset(tables, metadata=dict(out.metadata), extra_resources=list(out.extra_resources),
                   copy=False)


def _with_area(policy: ProtectionPolicy, complete: Dataset) -> ProtectionPolicy:
    """The policy with its withheld point fixed from the COMPLETE dataset's deployments."""
    if policy.withheld_area is not None or not len(complete.deployments):
        return policy
    from dataclasses import replace

    from amurlink.core.protection import withheld_area_of

    area = withheld_area_of(complete.deployments, crs=policy.crs)
    return policy if area is None else replace(policy, withheld_area=area)


def _named_patrol_tables(terms: tuple[Any, ...]) -> tuple[str, ...]:
    """``patrolTracks`` / ``patrolFindings`` when every agreement names them (none without an
    agreement: patrol data stays with its owner)."""
    named = [set(a.tables) for a in terms if _is_agreement(a)]
    if not named:
        return ()
    return tuple(t for t in NAMED_ONLY_TABLES if all(t in n for n in named))


def release(
    dataset: Dataset,
    /,
    *,
    audience: Audience | None = None,
    policy: ProtectionPolicy,
    agreement: Any = None,
    agreements: Iterable[Any] = (),
    tables: Iterable[str] | None = None,
    today: date | None = None,
) -> Released:
    """Protect ``dataset`` for ``audience``, then cut it to the agreement(s): THE output gate.

    Parameters
    ----------
    dataset : Dataset
        The COMPLETE dataset with exact locations (a :class:`ScopedDataset` is taken back to
        the complete dataset it came from, with its scopes).
    audience : Audience, optional
        Who will see the output; the agreement's recipient (``agreement.audience``) when
        ``None`` and exactly one agreement is given.
    policy : ProtectionPolicy
        The study's rules (``StudyConfig.protection``). Required: no output may fall back on
        defaults when the study configured something else.
    agreement : Agreement or mapping, optional
        A sharing agreement (species, tables, level, embargo).
    agreements : iterable of Agreement, optional
        More agreements; each one's scope is applied (their intersection is shared).
    tables : iterable of str, optional
        Tables the output needs (one more scope, e.g. ``("deployments",)``).
    today : date, optional
        The day the agreements are applied (expiry, rolling embargo); today if ``None``.

    Returns
    -------
    Released

    Raises
    ------
    ConfigError
        If an agreement has expired, or no audience can be told.
    TypeError
        If ``policy`` is not a ProtectionPolicy.

    Examples
    --------
    >>> from amurlink.datasets import load_example
    >>> from amurlink.agreement import Agreement
    >>> roe = Agreement(recipient="LLNP", species=("Capreolus pygargus",), level="exact")
    >>> r = release(load_example(), agreement=roe, policy=ProtectionPolicy(),
    ...             today=date(2025, 1, 1))
    >>> sorted(set(r.levels))  # tigers were seen at every station: none is exact
    ['1km']
    >>> r.summary()["species"]
    ['Capreolus pygargus']
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(f"dataset must be an amurlink Dataset, got {type(dataset).__name__}")
    if not isinstance(policy, ProtectionPolicy):
        raise TypeError("policy must be the study's ProtectionPolicy (StudyConfig.protection), "
                        f"got {type(policy).__name__}")
    complete, earlier, day, cuts = _complete(dataset)
    today = today or day
    terms = earlier + _as_agreements(agreement, agreements, tables)
    for a in terms:
        a.check_in_force(today)
    if audience is None:
        named = [a for a in terms if _is_agreement(a)]
        if len(named) != 1:
            raise ConfigError("release needs an audience (Audience.owner(), .partner(...) or "
                              ".public()) unless exactly one agreement names the recipient")
        audience = named[0].audience
    if not isinstance(audience, Audience):
        raise TypeError(f"audience must be an Audience, got {audience!r}")
    # 1: levels decided on the COMPLETE dataset
    levels = station_levels(complete, audience=audience, policy=policy)
    # 3: the scoped EXACT data (a ScopedDataset: it remembers the complete dataset)
    new_terms = terms[len(earlier):]
    if isinstance(dataset, ScopedDataset) and not new_terms:
        exact = dataset
    elif terms or cuts:
        exact = scope(dataset, agreements=new_terms, today=today)
    else:
        exact = complete
    # 2 + 4: protection at the levels decided on the complete dataset (protect_dataset reads
    # ``scoped_from``), the withheld point derived from every deployment of the complete
    # dataset; metadata were recomputed by the scope, ``spatial`` by the protection
    # the incident books are protected inside protect_dataset (points at the level of the
    # species involved); patrol tracks and findings only when every agreement names them
    shown = protect_dataset(exact, audience=audience, policy=_with_area(policy, complete),
                            agreement_tables=_named_patrol_tables(terms))
    shown = _restore_dtypes(shown, complete)
    kept = shown.deployments["deploymentID"].to_numpy(dtype=object)
    levels = levels[~levels.index.duplicated()].reindex(kept).fillna("withheld")
    cutoffs = [c for c in (a.cutoff(today) for a in terms) if c is not None]
    return Released(dataset=shown, audience=audience, policy=policy,
                    agreements=tuple(a for a in terms if _is_agreement(a)),
                    cutoff=min(cutoffs) if cutoffs else None, levels=levels, _exact=exact)


# ---------------------------------------------------------------------------------------------
# The output registry
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Output:
    """One way data leaves amurlink.

    Attributes
    ----------
    name : str
        ``<kind>:<name>``: ``library:exchange-export``, ``report:html``, ``web:<URL name>``,
        ``cli:<command path>`` (``cli:exchange export``).
    kind : {"library", "report", "web", "cli"}
    description : str
        What it writes or shows, and how it takes its data through :func:`release`.
    produce : str or callable, optional
        ``"module:function"`` (imported when first used) or a callable ``produce(case, tmp)``
        that runs the real output path for a :class:`amurlink.testing.ReleaseCase` and
        returns what leaves (text, bytes, a Dataset, JSON rows, a path). ``None`` for an
        output that shows no data (a login page, ``--help``) or whose data path is another
        registered output's (``via``).
    via : str, optional
        The registered output whose producer covers this one's data path.
    shows_data : bool
        False for outputs that carry no study data at all.
    owner_only : bool
        True for a CLI command that shows the owner's own files to the owner running it
        locally (its result goes to nobody else; anything it writes for others is a
        registered output of its own).
    cost : {"data", "file"}
        ``file`` for slow formats (PDF, GeoPackage, xlsx): the property test draws fewer
        examples for them.
    """

    name: str
    kind: str
    description: str
    produce: str | Callable[..., Any] | None = None
    via: str | None = None
    shows_data: bool = True
    cost: str = "data"
    owner_only: bool = False

    def producer(self) -> Callable[..., Any] | None:
        """The producer callable (imported on first use)."""
        if self.produce is None or callable(self.produce):
            return self.produce
        module, _, attr = self.produce.partition(":")
        return getattr(importlib.import_module(module), attr)


#: Every output path, by name. The tests fail on a URL name or CLI command not listed here.
OUTPUTS: dict[str, Output] = {}


def register_output(name: str, /, *, description: str, produce: Any = None,
                    via: str | None = None, shows_data: bool = True, cost: str = "data",
                    owner_only: bool = False) -> Output:
    """Add (or replace) an output in :data:`OUTPUTS` and return it."""
    kind = name.partition(":")[0]
    if kind not in ("library", "report", "web", "cli"):
        raise ValueError(f"output names start with library:, report:, web: or cli:, got {name!r}")
    if cost not in ("data", "file"):
        raise ValueError(f"cost must be 'data' or 'file', got {cost!r}")
    out = Output(name, kind, description, produce, via, shows_data, cost, owner_only)
    OUTPUTS[name] = out
    return out


def output(name: str, /) -> Output:
    """The registered output ``name`` (KeyError naming this module when missing)."""
    try:
        return OUTPUTS[name]
    except KeyError:
        raise KeyError(f"{name!r} is not registered in amurlink.release.OUTPUTS; add a "
                       f"register_output({name!r}, ...) line to src/amurlink/release.py") from None


def unregistered(names: Iterable[str], /) -> list[str]:
    """The names of ``names`` that are not in :data:`OUTPUTS`."""
    return sorted(set(names) - set(OUTPUTS))


_T = "amurlink.testing.release_outputs"  # producers used by the property tests
_W = "amurlink_web.testing_release"      # web producers (need Django)

# -- library and exchange ----------------------------------------------------------------------
register_output("library:release", produce=f"{_T}:produce_release",
                description="release(): the protected and scoped Dataset and its summary")
register_output("library:apply-agreement", produce=f"{_T}:produce_apply_agreement",
                description="exchange.apply_agreement: release() for the agreement's recipient")
register_output("library:exchange-export", produce=f"{_T}:produce_exchange_export",
                description="exchange.export_exchange: the Camtrap DP package and manifest "
                            "written from release()")
register_output("library:crossborder", produce=f"{_T}:produce_crossborder",
                description="Released.crossborder: counts on scoped exact data, distances at "
                            "the audience's level")
register_output("library:io-export-tables", produce=f"{_T}:produce_io_export_tables",
                description="amurlink.io.export camtrapR tables (CSV) through release() (audience, "
                            "optional agreement)")
register_output("library:io-export-dwc", produce=f"{_T}:produce_io_export_dwc",
                description="amurlink.io.export Darwin Core Archive through release() (audience, "
                            "optional agreement)")
register_output("library:io-export-geopackage", produce=f"{_T}:produce_io_export_geopackage",
                cost="file", description="amurlink.io.export stations GeoPackage through "
                                         "release() (audience, optional agreement)")
register_output("library:io-export-xlsx", produce=f"{_T}:produce_io_export_xlsx", cost="file",
                description="amurlink.io.export xlsx of station / record tables of released data")

# -- report formats (report._view.build_view takes its data from release()) ---------------------
register_output("report:view", produce=f"{_T}:produce_report_view",
                description="the report's view: protected dataset, stations, cross-border")
register_output("report:html", produce=f"{_T}:produce_report_html", cost="file",
                description="report.html (self-contained, SVG maps inline) and tables/*.csv; "
                            "its data path is report:view")
register_output("report:csv", via="report:html",
                description="tables/*.csv written beside report.html (same producer)")
register_output("report:svg", via="report:html",
                description="the SVG maps and charts inside report.html (same producer)")
register_output("report:gpkg", produce=f"{_T}:produce_report_gpkg", cost="file",
                description="report.gpkg: stations, encounters and routes at the audience's "
                            "precision")
register_output("report:pdf", produce=f"{_T}:produce_report_pdf", cost="file",
                description="report-<date>.pdf: Chromium prints report.html; its text "
                            "(pypdf) is checked")
# theme sections of the report (amurlink.study.themes stages; report/_sections_*.py)
register_output("report:incidents", produce=f"{_T}:produce_report_incidents",
                description="incidents section: incident tables only through "
                            "incidents.protect.release_incidents (release()) for the reader "
                            "and its agreements; counts, no positions, never claimant data")
register_output("report:design", via="report:html",
                description="survey-design section: tables without positions; the map of "
                            "proposed sites only through protect_locations at the level of a "
                            "sensitive species (withheld for the public)")
register_output("report:corridors", via="report:html",
                description="corridors section: the current raster (landscape product), "
                            "per-segment tables, the habitat GLM's coefficients when the "
                            "resistance came from the cameras (no station table: "
                            "station_detections stays in memory) and, on a simulated study, "
                            "the recovery against the truth; no station drawn")
register_output("report:secr-models", via="report:html",
                description="SECR model-selection section: AICc tables and the best model's "
                            "density surface over its mask; no station drawn")

# -- CLI commands -----------------------------------------------------------------------------
_CLI_OWNER = {
    "validate": "prints a validation report of the user's own files (no positions)",
    "simulate": "writes simulated data (no real locations)",
    "serve": "runs the web platform (its pages are registered as web:*)",
    "secr": "prints SECR estimates (densities; no station positions); --density-tif and "
            "--friction-tif write model surfaces over the mask (no pdot band, no detector)",
    "genotypes match": "prints DNA match tables of the user's own lab files",
    "genotypes link": "proposes links into the owner's link store",
    "photos index": "indexes the owner's photo catalogue",
    "photos identify": "prints candidate IDs for the owner's photos",
    "photos link": "proposes cross-border links into the owner's link store",
    "photos evaluate": "evaluates matching on simulated photos",
    "links list": "lists identity links (no positions)",
    "links accept": "records a decision in the owner's link store",
    "links reject": "records a decision in the owner's link store",
    "links history": "prints a link's decisions (no positions)",
    "links identities": "prints joint identities (no positions)",
    "links conflicts": "prints space-time conflicts of the owner's own data",
    "exchange import": "verifies a received package (no new data leaves)",
    "harmonise": "writes the owner's joint package (exact, for the owner)",
    "camtrap effort": "prints effort tables of the owner's data",
    "camtrap records": "prints record tables of the owner's data",
    "camtrap history": "prints detection histories of the owner's data",
    "camtrap activity": "prints activity overlap of the owner's data",
}
for _cmd, _why in _CLI_OWNER.items():
    register_output(f"cli:{_cmd}", description=_why, owner_only=True)
# Commands added by other issues, registered as local owner tools when they arrived; their
# authors confirm (or give them a producer) when they write data for anyone else.
_CLI_OWNER_LATE = {
    "run": "amurlink run: the owner's pipeline; its reports are report:* outputs (build_view); "
           "the rest of OUT/ stays with the owner (joint/, corridors/, secr_models/ density "
           "surfaces)",
    "init": "writes a commented study folder template (no data)",
    "corridors": "runs a Circuitscape job on the owner's rasters",
    "habitat resistance": "resistance surfaces from the owner's habitat rasters",
    "habitat corridors": "corridors on the owner's study grid (corridors.gpkg: border "
                         "segments, no stations; cores.tif: the parks beyond the core "
                         "setback, public geography)",
    "habitat model": "Poisson GLM coefficients of the owner's detections per deployment",
    "design expect": "SECR design: expected counts for a planned layout",
    "design spacing": "SECR design: optimal trap spacing",
    "design search": "SECR design: layout search (planned traps, not records)",
    "design power": "SECR design: power of a planned survey",
    "design theme": "SECR design: plot theme",
    "design national": "SECR design: joint vs national RSE and stations each country needs",
    "incidents import smart": "imports the owner's SMART export into incident tables",
    "incidents import earthranger": "imports the owner's EarthRanger export",
    "incidents summary": "prints the owner's incident summaries",
    "incidents warnings": "prints the owner's village warnings by distance level",
}
for _cmd, _why in _CLI_OWNER_LATE.items():
    register_output(f"cli:{_cmd}", description=_why, owner_only=True)
register_output("cli:exchange export", via="library:exchange-export",
                description="amurlink exchange export: export_exchange (release for the "
                            "agreement's recipient)")
register_output("cli:report", via="report:html",
                description="amurlink report: write_report for --audience (release inside)")
register_output("cli:demo", via="report:html",
                description="amurlink demo: the owner's report (release inside)")
register_output("cli:crossborder", via="library:crossborder", owner_only=True,
                description="amurlink crossborder: the owner's tables (--level coarsens "
                            "distances for sharing)")
register_output("cli:camtrap export", via="library:io-export-geopackage", owner_only=True,
                description="amurlink camtrap export: io.export through release() for an audience")

# -- web pages, API endpoints, maps, downloads and job files (URL names) ------------------------
_WEB_NO_DATA = ("home", "login", "logout", "account", "audit", "set_language", "static",
                "api-index", "api-openapi", "agreement-list", "agreement-detail",
                "agreement-create", "dataset-visibility", "dataset-upload", "upload-detail",
                "job-list", "job-start", "job-status", "link-review", "api-link-review",
                "api-agreements", "password-change")
for _url in _WEB_NO_DATA:
    register_output(f"web:{_url}", shows_data=False,
                    description="page without study data (accounts, agreements, uploads of "
                                "the reader's own organisation, job bookkeeping)")
register_output("web:public", via="web:dataset-list",
                description="public datasets list (summary after release)")
register_output("web:dataset-list", produce=f"{_W}:produce_dataset_summary",
                description="dataset list: counts from release() for each reader")
register_output("web:api-datasets", via="web:dataset-list",
                description="API dataset list: summaries from release()")
register_output("web:api-dataset", produce=f"{_W}:produce_dataset_summary",
                description="API dataset detail: summary from release()")
register_output("web:dataset-detail", produce=f"{_W}:produce_dataset_rows",
                description="dataset page: deployments, observations, media rows from release()")
register_output("web:api-deployments", produce=f"{_W}:produce_dataset_rows",
                description="API deployments from release()")
register_output("web:api-observations", via="web:api-deployments",
                description="API observations from release() (same selector)")
register_output("web:api-media", via="web:api-deployments",
                description="API media from release() (same selector)")
register_output("web:dataset-download", produce=f"{_W}:produce_dataset_rows",
                description="dataset download: the released package as Camtrap DP")
register_output("web:dataset-map", produce=f"{_W}:produce_map",
                description="dataset map (SVG) from release()")
register_output("web:joint-map", produce=f"{_W}:produce_map",
                description="joint map (SVG) from release() of the joint package")
_WORKING_GROUP = ("working group only (park and secretariat members): the joint catalogue's "
                  "IDs, links and decisions, no positions; each park's individuals and the "
                  "links touching them cut by the agreement it gives the reader "
                  "(scope_identities), identities and links derived from what is left")
for _url in ("catalogue", "api-identities", "link-list", "api-links", "link-detail", "history"):
    register_output(f"web:{_url}", description=_WORKING_GROUP,
                    produce="amurlink_web.apps.identities.producers:produce_catalogue")
register_output("web:job-detail", via="library:crossborder",
                description="job page: tables from Released.crossborder / the report")
register_output("web:job-download", via="report:html",
                description="job result zip: report or cross-border files from release()")
register_output("web:job-file", via="report:html",
                description="one job result file: report or cross-border files from release()")
# -- issue 16, data in / maps / jobs / home (helper P2) ----------------------------------------
register_output("web:joint-map-data", via="web:joint-map",
                description="interactive joint map's JSON: map_features of the joint map's "
                            "release, coordinates rounded to the reader's level; study layers")
register_output("web:dataset-map-data", via="web:dataset-map",
                description="interactive dataset map's JSON: map_features of the dataset "
                            "map's release, coordinates rounded to the reader's level")
# -- review with the evidence, individuals and photos (amurlink_web.apps.review): every page
# reads the joint package through jobs.selectors.joint_release (the data path of joint-map);
# photos are the media rows that survived that release, re-encoded on the server (no EXIF),
# only for readers whose agreements include the media table (403 otherwise). Their producer
# runs the review app's own selectors (photo rows, keyset pages, identified detections with the
# protected positions) on release() of a drawn case.
_R = "amurlink_web.apps.review.producers:produce_review"
register_output("web:review-queue",
                description="review queue: link IDs, species, scores and sign-off state of "
                            "the joint catalogue (no positions), working group only")
register_output("web:review-detail", produce=_R,
                description="review page: photos, DNA alleles, a detections timeline and a "
                            "map of the stations at the reader's level, from release()")
register_output("web:review-decide", shows_data=False,
                description="records a link decision (identities.services.link_review), "
                            "then redirects to the next proposal")
register_output("web:review-match", produce=_R,
                description="two flank photos side by side with the matched keypoints "
                            "(pixels only, re-encoded: no EXIF) of release()'s media rows")
register_output("web:individual-list",
                description="joint individuals (IDs and species, no positions) present in "
                            "the reader's release of the joint package")
register_output("web:individual-detail", produce=_R,
                description="individual page: detections at the reader's level, crossings "
                            "and distances from Released.crossborder, photos, samples, "
                            "link history")
register_output("web:media-browser", produce=_R,
                description="media browser: release()'s media rows (no positions), keyset "
                            "pages")
register_output("web:media-thumbnail", produce=_R,
                description="server-made thumbnail of one media row of release() "
                            "(re-encoded, no EXIF/GPS)")
register_output("web:home", via="library:crossborder",
                description="home page: per species the answer (amurlink.analysis.crossborder."
                            "answer, the report's opening) on the reader's joint release; "
                            "counts only, no positions; uploads and jobs of the reader's "
                            "organisations")
# -- a park's incident and disease books (issue #19, amurlink_web.apps.incidents) ---------------
register_output("web:incident-list",
                produce="amurlink_web.apps.incidents.producers:produce_incident_list",
                description="a park's incidents and disease tests: incidents.protect."
                            "release_incidents for the reader (owner, the agreement's "
                            "recipient, or the public): points generalised per species, "
                            "claimants, comments and patrol data for the owner only")
for _url in ("incident-create", "disease-test-create"):
    register_output(f"web:{_url}", shows_data=False,
                    description="a contributor's form: writes one row to the park's own "
                                "books (audited), then redirects to web:incident-list")
# -- theme results on the platform (issues 17 and 18; amurlink_web.apps.jobs.themes) -----------
register_output("web:joint-map-corridors", via="report:corridors",
                description="PNG overlay of the last run's corridor rasters (cumulative "
                            "current, least-cost corridor; amurlink.landscape.display): "
                            "landscape products, no station; working group only. Pinch points "
                            "go in web:joint-map-data, rounded to the reader's level")
register_output("web:design", via="library:release",
                description="survey-design page: tables without positions (layouts, joint vs "
                            "national, costing per country); proposed sites through release() "
                            "as tiger and leopard stations of their country at the reader's "
                            "JointAccess, each rounded to its level, withheld ones not drawn")
register_output("web:design-data", via="web:design",
                description="the design map's JSON: the same released sites as web:design, "
                            "border and public study layers")
