"""Private helpers of the identity-link log: checking frames, canonical pairs, event IDs."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from amurlink.exceptions import SchemaError
from amurlink.io import empty_table
from amurlink.schema import IDENTITY_LINKS, LINK_METHODS, LINK_STATUSES

#: Columns of the ``identityLinks`` table, in declared order.
LINK_COLUMNS: tuple[str, ...] = IDENTITY_LINKS.field_names
_REQUIRED: tuple[str, ...] = IDENTITY_LINKS.required_fields
#: Catalogue namespace of an ID such as ``CN-NTLNP:T012`` (see ``schema.INDIVIDUAL_ID_PATTERN``).
_NAMESPACE_RE = re.compile(r"^([A-Z]{2}-[A-Za-z0-9_]+):\S")
_SEP = "\x1f"


@functools.cache
def _dtypes() -> dict[str, Any]:
    return empty_table("identityLinks").dtypes.to_dict()


def empty_links() -> pd.DataFrame:
    """An empty ``identityLinks`` log with the declared columns and dtypes."""
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in _dtypes().items()})


def _first_row(mask: pd.Series) -> int:
    return int(np.flatnonzero(mask.to_numpy(bool))[0])


def check_links(links: pd.DataFrame, *, name: str = "links") -> pd.DataFrame:
    """Return a copy of an ``identityLinks`` log in the declared dtypes, or raise SchemaError.

    Missing optional columns are added (empty); values are never changed.
    """
    if not isinstance(links, pd.DataFrame):
        raise SchemaError(
            f"`{name}` must be a DataFrame with the identityLinks columns, got "
            f"{type(links).__name__}; start from `empty_links()`"
        )
    missing = [c for c in _REQUIRED if c not in links.columns]
    if missing:
        raise SchemaError(
            f"`{name}` lacks the identityLinks column(s) {missing}; expected "
            f"{list(LINK_COLUMNS)} (start from `empty_links()`)"
        )
    dtypes = _dtypes()
    out = links.reset_index(drop=True).copy()
    for col in LINK_COLUMNS:
        if col not in out.columns:
            out[col] = pd.Series(pd.NA, index=out.index, dtype=dtypes[col])
    for col in _REQUIRED:
        null = out[col].isna()
        if null.any():
            raise SchemaError(
                f"`{name}.{col}` is empty in {int(null.sum())} row(s) (first: row "
                f"{_first_row(null)}); every identity-link event needs a {col}"
            )
    out["timestamp"] = to_utc(out["timestamp"], what=f"`{name}.timestamp`")
    out["score"] = pd.to_numeric(out["score"], errors="raise").astype("float64")
    for col in LINK_COLUMNS:
        if col not in ("timestamp", "score") and out[col].dtype != dtypes[col]:
            out[col] = out[col].astype(dtypes[col])
    _check_vocab(out["status"], LINK_STATUSES, f"{name}.status")
    _check_vocab(out["method"], LINK_METHODS, f"{name}.method")
    dup = out["linkEventID"].duplicated()
    if dup.any():
        raise SchemaError(
            f"`{name}.linkEventID` repeats {out['linkEventID'][dup].iloc[0]!r} (row "
            f"{_first_row(dup)}); each event needs its own ID. Was the log concatenated twice?"
        )
    same = out["subjectA"] == out["subjectB"]
    if same.any():
        raise SchemaError(
            f"`{name}` links {out['subjectA'][same].iloc[0]!r} to itself (row {_first_row(same)}); "
            "a link joins two different subjects"
        )
    return out


def _check_vocab(values: pd.Series, allowed: tuple[str, ...], where: str) -> None:
    bad = values.notna() & ~values.isin(allowed)
    if bad.any():
        raise SchemaError(
            f"`{where}` holds {values[bad].iloc[0]!r} in {int(bad.sum())} row(s) (first: row "
            f"{_first_row(bad)}); expected one of {', '.join(allowed)}"
        )


def to_utc(values: pd.Series, *, what: str) -> pd.Series:
    """Parse datetimes to tz-aware UTC; naive values raise (their time zone is unknown)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_dtype(values.dtype):
        raise SchemaError(
            f"{what} has no time zone; store times as tz-aware UTC, e.g. "
            "`pd.to_datetime(col).dt.tz_localize('Asia/Vladivostok').dt.tz_convert('UTC')`"
        )
    try:
        parsed = pd.to_datetime(values, utc=False, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise SchemaError(f"{what} holds values that are not ISO 8601 datetimes ({exc})") from None
    if not isinstance(parsed.dtype, pd.DatetimeTZDtype):
        if parsed.notna().any():
            raise SchemaError(
                f"{what} has no UTC offset; write ISO 8601 with an offset, e.g. "
                "2024-03-01T22:00:00+08:00"
            )
        return parsed.dt.tz_localize("UTC")
    return parsed.dt.tz_convert("UTC")


def canonical_pair(a: Any, b: Any) -> tuple[str, str]:
    """``(a, b)`` as two strings in sorted order; a self-pair raises ValueError."""
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        raise ValueError(f"a link needs two subjects, got {a!r} and {b!r}")
    sa, sb = str(a).strip(), str(b).strip()
    if not sa or not sb:
        raise ValueError(f"a link needs two non-empty subject IDs, got {a!r} and {b!r}")
    if sa == sb:
        raise ValueError(f"cannot link {sa!r} to itself; a link joins two different subjects")
    return (sa, sb) if sa < sb else (sb, sa)


def pair_keys(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Canonical (sorted) ``subjectA``/``subjectB`` of every row, as plain object strings."""
    a = frame["subjectA"].astype(object).astype(str)
    b = frame["subjectB"].astype(object).astype(str)
    swap = (a > b).to_numpy(bool)
    lo = a.where(~swap, b)
    hi = b.where(~swap, a)
    return lo, hi


def with_keys(links: pd.DataFrame) -> pd.DataFrame:
    """Checked log plus ``_a``/``_b`` canonical pair columns and ``_pos`` (log position)."""
    out = links.copy()
    out["_a"], out["_b"] = pair_keys(links)
    out["_pos"] = np.arange(len(out))
    return out


def latest(keyed: pd.DataFrame) -> pd.DataFrame:
    """Latest event (last in log order) of every pair of a keyed log."""
    return keyed.drop_duplicates(["_a", "_b"], keep="last")


#: A decision's side, written at the end of ``reviewer``: ``Anna Petrova [RU]``.
_SIDE_RE = re.compile(r"\s*\[([A-Z]{2})\]\s*$")
_COUNTRY_RE = re.compile(r"^([A-Z]{2})-")


def side_of(reviewer: pd.Series) -> pd.Series:
    """The side (country code) a decision was made for, from ``reviewer``'s ``[CC]`` tag."""
    s = reviewer.astype(object).where(reviewer.notna(), "").astype(str)
    out = s.str.extract(_SIDE_RE, expand=False).astype(object)
    return out.where(out.notna(), None)


def with_side(reviewer: str, side: str | None) -> str:
    """``reviewer`` tagged with ``side`` (``"Anna [RU]"``); a different tag raises ValueError."""
    name = reviewer.strip()
    if side is None:
        return name
    side = str(side).strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", side):
        raise ValueError(f"side must be a two-letter country code such as CN or RU, got {side!r}")
    tagged = _SIDE_RE.search(name)
    if tagged:
        if tagged.group(1) != side:
            raise ValueError(f"reviewer {name!r} already names side {tagged.group(1)}, not "
                             f"{side}; give the name without a [CC] tag")
        return name
    return f"{name} [{side}]"


def country_of(catalogue: pd.Series) -> pd.Series:
    """Country code of catalogues such as ``CN-NTLNP`` (None for samples or other names)."""
    s = catalogue.astype(object).where(catalogue.notna(), "").astype(str)
    out = s.str.extract(_COUNTRY_RE, expand=False).astype(object)
    return out.where(out.notna(), None)


def pair_countries(a: pd.Series, b: pd.Series,
                   individuals: pd.DataFrame | None) -> tuple[pd.Series, pd.Series]:
    """Country of each side of the pairs (None for samples): from the catalogue of each ID."""
    if not len(a):
        empty = pd.Series([], dtype=object)
        return empty, empty
    table = subject_table(pd.concat([a, b], ignore_index=True), individuals)
    lookup = pd.Series(country_of(table["catalogue"]).to_numpy(object),
                       index=table["subject"].to_numpy(object))
    ca = a.astype(object).astype(str).map(lookup).astype(object)
    cb = b.astype(object).astype(str).map(lookup).astype(object)
    return ca.where(ca.notna(), None), cb.where(cb.notna(), None)


def effective_latest(keyed: pd.DataFrame, *, two_party: bool = True,
                     individuals: pd.DataFrame | None = None) -> pd.DataFrame:
    """Latest event of every pair with the pair's effective status under the two-party rule.

    Adds ``acceptedBy`` (sides that accepted since the pair's last other decision, e.g.
    ``"CN"`` or ``"CN RU"``) and ``awaiting`` (sides still to accept, None when none). A pair
    of two national IDs of different countries is ``confirmed`` only when a reviewer of each
    side accepted it after its last rejection or reopening; until then its ``status`` is
    ``proposed`` and ``awaiting`` names the missing side(s). Without ``two_party`` the latest
    event decides alone (``awaiting`` stays None).
    """
    cur = latest(keyed).copy()
    cur["acceptedBy"] = pd.Series([None] * len(cur), index=cur.index, dtype=object)
    cur["awaiting"] = pd.Series([None] * len(cur), index=cur.index, dtype=object)
    if not len(cur):
        return cur
    is_conf = (cur["status"].astype(object) == "confirmed").to_numpy(bool)
    if not is_conf.any():
        return cur
    # the events since each pair's last rejection or reopening ("runs" of confirmations)
    conf = (keyed["status"].astype(object) == "confirmed").to_numpy(bool)
    pair = pd.MultiIndex.from_arrays([keyed["_a"], keyed["_b"]])
    code = pd.Series(pd.factorize(pair)[0], index=keyed.index)
    run = pd.Series((~conf).astype(np.int64), index=keyed.index).groupby(code).cumsum()
    last_run = run.groupby(code).transform("max")
    sides = side_of(keyed["reviewer"])
    live = conf & (run == last_run).to_numpy(bool) & sides.notna().to_numpy(bool)
    acc = pd.DataFrame({"_a": keyed["_a"][live].to_numpy(object),
                        "_b": keyed["_b"][live].to_numpy(object),
                        "side": sides[live].to_numpy(object)}).drop_duplicates()
    key = pd.MultiIndex.from_arrays([cur["_a"], cur["_b"]])
    has: dict[str, np.ndarray] = {}  # side -> whether each current pair holds its acceptance
    for side in sorted(acc["side"].unique()):
        sub = acc[acc["side"] == side]
        has[side] = key.isin(pd.MultiIndex.from_arrays([sub["_a"], sub["_b"]])) & is_conf
    cur["acceptedBy"] = pd.Series(_joined(list(has.items()), len(cur)), index=cur.index,
                                  dtype=object)
    if not two_party:
        return cur
    ca, cb = pair_countries(cur["_a"], cur["_b"], individuals)
    ca, cb = ca.to_numpy(object), cb.to_numpy(object)
    cross = pd.notna(ca) & pd.notna(cb) & (ca != cb) & is_conf
    if not cross.any():
        return cur
    has_a = np.zeros(len(cur), bool)
    has_b = np.zeros(len(cur), bool)
    for side, flag in has.items():
        has_a |= flag & (ca == side)
        has_b |= flag & (cb == side)
    miss_a, miss_b = cross & ~has_a, cross & ~has_b
    xa = np.where(pd.notna(ca), ca, "").astype(str)
    xb = np.where(pd.notna(cb), cb, "").astype(str)
    first = xa <= xb  # the missing sides in code order: "CN RU"
    lo, hi = np.where(first, xa, xb).astype(object), np.where(first, xb, xa).astype(object)
    lo_miss = np.where(first, miss_a, miss_b)
    hi_miss = np.where(first, miss_b, miss_a)
    cur["awaiting"] = pd.Series(_joined([(None, lo_miss), (None, hi_miss)], len(cur),
                                        values=[lo, hi]), index=cur.index, dtype=object)
    cur.loc[cur["awaiting"].notna(), "status"] = "proposed"
    return cur


def _joined(parts: list[tuple[Any, np.ndarray]], n: int,
            values: list[np.ndarray] | None = None) -> np.ndarray:
    """Row-wise ``" ".join`` of the parts whose flag is set (None where none is)."""
    out = np.full(n, "", dtype=object)
    for i, (label, flag) in enumerate(parts):
        text = values[i] if values is not None else np.full(n, label, dtype=object)
        add = np.where(out == "", text, out + " " + text.astype(str)) if n else out
        out = np.where(flag, add, out)
    return np.where(out == "", None, out)


def confirmed_edges(keyed: pd.DataFrame, *, two_party: bool = False,
                    individuals: pd.DataFrame | None = None) -> pd.DataFrame:
    """Pairs whose (effective) status is confirmed: ``_a``, ``_b``, ``linkEventID``."""
    if two_party:
        cur = effective_latest(keyed, two_party=True, individuals=individuals)
    else:
        cur = latest(keyed)
    return cur.loc[cur["status"] == "confirmed", ["_a", "_b", "linkEventID"]]


def utc_now(now: Any = None) -> pd.Timestamp:
    """``now`` (or the clock) as a tz-aware UTC timestamp floored to whole seconds."""
    ts = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    if ts.tzinfo is None:
        raise ValueError(
            f"`now` must be timezone-aware, got {now!r}; e.g. pd.Timestamp('2024-03-01T10:00Z')"
        )
    return ts.tz_convert("UTC").floor("s")


def evidence_json(value: Any, *, where: str = "evidence") -> Any:
    """Evidence as a JSON object string (mapping dumped with sorted keys), or NA."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return pd.NA
    if isinstance(value, Mapping):
        try:
            return json.dumps(dict(value), sort_keys=True, ensure_ascii=False, default=_plain)
        except TypeError as exc:
            raise SchemaError(f"{where} cannot be written as JSON: {exc}") from None
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise SchemaError(
                f"{where} must be a JSON object, got {value[:60]!r} ({exc.msg}); pass a dict "
                "or a string such as '{\"images\": [\"a.jpg\"]}'"
            ) from None
        if not isinstance(parsed, dict):
            raise SchemaError(f"{where} must be a JSON object ({{...}}), got {value[:60]!r}")
        return value
    raise SchemaError(f"{where} must be a dict or a JSON string, got {type(value).__name__}")


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _field_text(value: Any) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def event_ids(previous: str | None, rows: pd.DataFrame) -> list[str]:
    """Deterministic IDs: ``L-`` + hash of the previous event's ID and this event's content.

    Chaining on the previous ID makes two identical decisions at different places in the log
    distinct, and keeps IDs reproducible (no clock or randomness beyond ``timestamp``).
    """
    ids: list[str] = []
    prev = previous or ""
    cols = [c for c in LINK_COLUMNS if c != "linkEventID"]
    for values in rows[cols].itertuples(index=False, name=None):
        text = _SEP.join([prev, *(_field_text(v) for v in values)])
        prev = "L-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        ids.append(prev)
    return ids


def append_events(links: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Give ``new`` events their IDs and append them to a checked log (a new frame)."""
    new = new.reset_index(drop=True).copy()
    previous = str(links["linkEventID"].iloc[-1]) if len(links) else None
    new["linkEventID"] = event_ids(previous, new)
    clash = new["linkEventID"].isin(links["linkEventID"])
    if clash.any():  # pragma: no cover - needs a 64-bit hash collision
        raise SchemaError(f"event ID {new['linkEventID'][clash].iloc[0]} exists already")
    for col in links.columns:
        if col not in new.columns:
            new[col] = pd.NA
    new = new[list(links.columns)].astype(links.dtypes.to_dict())
    if not len(links):
        return new
    return pd.concat([links, new], ignore_index=True)


def namespace_of(subjects: pd.Series) -> pd.Series:
    """Catalogue prefix of namespaced IDs (``CN-NTLNP`` of ``CN-NTLNP:T012``); NA for samples."""
    s = subjects.astype(object).astype(str)
    ns = s.str.extract(_NAMESPACE_RE, expand=False).astype(object)
    return ns.where(ns.notna(), None)


def subject_table(subjects: pd.Series, individuals: pd.DataFrame | None) -> pd.DataFrame:
    """One row per distinct subject: ``subject``, ``subjectType`` and ``catalogue``.

    A subject is an individual when the ``individuals`` table lists it or its ID is namespaced
    (``CN-NTLNP:T012``); anything else is a sample. The catalogue comes from
    ``individuals.catalogue`` where known, else from the namespace.
    """
    uniq = pd.Series(pd.unique(subjects.astype(object).astype(str)), dtype=object)
    ns = namespace_of(uniq)
    cat = ns
    listed = pd.Series(False, index=uniq.index)
    if individuals is not None and len(individuals):
        if "individualID" not in individuals.columns:
            raise SchemaError("`individuals` lacks the column 'individualID'")
        ind = individuals.dropna(subset=["individualID"])
        ids = ind["individualID"].astype(object).astype(str)
        listed = uniq.isin(ids)
        if "catalogue" in ind.columns:
            lookup = pd.Series(ind["catalogue"].astype(object).to_numpy(), index=ids.to_numpy())
            lookup = lookup[~lookup.index.duplicated()]
            from_table = uniq.map(lookup)
            cat = from_table.where(from_table.notna(), ns)
    is_ind = listed | ns.notna()
    return pd.DataFrame({
        "subject": uniq,
        "subjectType": np.where(is_ind, "individual", "sample"),
        "catalogue": cat.astype(object).where(cat.notna(), None),
    })
