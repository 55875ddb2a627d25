"""Readers for detector, detection and mask files (reference CSV layout and secr text formats)."""

from __future__ import annotations

import io as _io
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from amurlink.analysis.secr.capthist import (
    AREA_DETECTORS,
    CaptureHistory,
    signal_values,
    usage_columns,
)
from amurlink.analysis.secr.mask import Mask, infer_spacing
from amurlink.exceptions import DataError

__all__ = ["read_traps", "read_captures", "read_mask", "read_capthist", "read_area_capthist",
           "write_traps", "write_captures", "write_capthist"]


def _read_text(path: str | Path) -> str:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found; give the path of an existing file")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc}); save the file as UTF-8") from None


def _is_csv_with_header(text: str, expected: set[str]) -> bool:
    first = next((ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")),
                 "")
    cols = {c.strip().strip('"').strip("'") for c in first.split(",")}
    return "," in first and bool(cols & expected)


def _strip_comments(text: str) -> list[str]:
    return [ln.split("#", 1)[0].rstrip() for ln in text.splitlines()
            if ln.split("#", 1)[0].strip()]


def read_traps(path: str | Path) -> pd.DataFrame:
    """Read a detector layout file.

    Two layouts are accepted:

    * CSV with a header: ``[session,]trap_id,x,y`` then optional usage columns
      ``usage_1..usage_S`` or ``occ1..occS`` and trap covariates (the layout of the secr
      reference data);
    * secr's text format (``read.traps``): whitespace-separated ``trapID x y`` per line,
      optionally followed by a usage string of digits (``11011``) and ``/ covariates``;
      ``#`` starts a comment.

    Parameters
    ----------
    path : str or Path
        File name.

    Returns
    -------
    DataFrame
        Columns ``trap_id`` (str), ``x``, ``y`` (metres), then ``usage_1..usage_S`` if any
        usage is given, then covariates (and a leading ``session`` column if present).

    Raises
    ------
    DataError
        With the file, row and what was expected when the file cannot be read.
    """
    text = _read_text(path)
    if _is_csv_with_header(text, {"trap_id", "x", "y", "trapID"}):
        try:
            df = pd.read_csv(_io.StringIO(text), dtype={"trap_id": str, "trapID": str,
                                                       "session": str}, comment="#",
                             float_precision="round_trip")
        except (pd.errors.ParserError, ValueError) as exc:
            raise DataError(f"{path}: cannot parse as CSV ({exc})") from None
        df = df.rename(columns={"trapID": "trap_id"})
        for col in ("trap_id", "x", "y"):
            if col not in df.columns:
                raise DataError(
                    f"{path}: missing column {col!r}; expected a header trap_id,x,y[,usage_1..]"
                )
        for col in ("x", "y"):
            v = pd.to_numeric(df[col], errors="coerce")
            if v.isna().any():
                row = int(np.flatnonzero(v.isna().to_numpy())[0])
                raise DataError(
                    f"{path}, row {row + 2}: {col} = {df[col].iloc[row]!r} is not a number; "
                    "give coordinates in metres"
                )
            df[col] = v.astype(float)
        df["trap_id"] = df["trap_id"].astype(str).str.strip()
        ucols = usage_columns(df.columns)
        for c in ucols:
            v = pd.to_numeric(df[c], errors="coerce")
            if v.isna().any() or (v < 0).any():
                row = int(np.flatnonzero((v.isna() | (v < 0)).to_numpy())[0])
                raise DataError(
                    f"{path}, row {row + 2}: usage column {c!r} must be a number >= 0, got "
                    f"{df[c].iloc[row]!r}"
                )
            df[c] = v.astype(float)
        rename = {c: f"usage_{i + 1}" for i, c in enumerate(ucols)}
        df = df.rename(columns=rename)
        if df["trap_id"].duplicated().any() and "session" not in df.columns:
            dup = df["trap_id"][df["trap_id"].duplicated()].iloc[0]
            raise DataError(f"{path}: detector {dup!r} appears twice; trap_id must be unique")
        return df
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        body = line.split("#", 1)[0]
        if not body.strip():
            continue
        main, _, covs = body.partition("/")
        parts = main.split()
        if len(parts) < 3:
            raise DataError(
                f"{path}, line {lineno}: expected 'trapID x y [usage]', got {line.strip()!r}"
            )
        try:
            x, y = float(parts[1]), float(parts[2])
        except ValueError:
            raise DataError(
                f"{path}, line {lineno}: x and y must be numbers (metres), got {parts[1]!r} "
                f"{parts[2]!r}"
            ) from None
        rec = {"trap_id": parts[0], "x": x, "y": y}
        if len(parts) > 3:
            usage = "".join(parts[3:])
            if not usage.isdigit():
                raise DataError(
                    f"{path}, line {lineno}: usage must be a string of digits (e.g. 11011), got "
                    f"{usage!r}"
                )
            for s, ch in enumerate(usage):
                rec[f"usage_{s + 1}"] = float(ch)
        for c, v in enumerate(covs.split()):
            rec[f"cov{c + 1}"] = v
        rows.append(rec)
    if not rows:
        raise DataError(f"{path}: no detector found; expected lines 'trapID x y'")
    df = pd.DataFrame(rows)
    ucols = [c for c in df.columns if c.startswith("usage_")]
    if ucols and df[ucols].isna().any().any():
        raise DataError(f"{path}: usage strings must have the same length on every line")
    if df["trap_id"].duplicated().any():
        dup = df["trap_id"][df["trap_id"].duplicated()].iloc[0]
        raise DataError(f"{path}: detector {dup!r} appears twice; trap IDs must be unique")
    return df


def read_captures(path: str | Path) -> pd.DataFrame:
    """Read a detections file.

    Accepts the reference CSV layout (header ``session,animal_id,occasion,trap_id[,dead]``,
    one row per detection) or secr's text format (whitespace- or comma-separated
    ``Session ID Occasion Detector`` without header; ``#`` comments; a negative occasion
    marks a removal).

    Returns
    -------
    DataFrame
        Columns ``session``, ``animal_id``, ``trap_id`` (str), ``occasion`` (int, 1-based),
        ``dead`` (0/1).

    Raises
    ------
    DataError
        With file and row when a value is not as expected.
    """
    text = _read_text(path)
    if _is_csv_with_header(text, {"animal_id", "occasion", "trap_id"}):
        try:
            df = pd.read_csv(_io.StringIO(text), dtype=str, comment="#")
        except (pd.errors.ParserError, ValueError) as exc:
            raise DataError(f"{path}: cannot parse as CSV ({exc})") from None
        offset = 2
        for col in ("animal_id", "occasion", "trap_id"):
            if col not in df.columns:
                raise DataError(
                    f"{path}: missing column {col!r}; expected a header "
                    "session,animal_id,occasion,trap_id"
                )
        if "session" not in df.columns:
            df.insert(0, "session", "1")
    else:
        rows = []
        for lineno, line in enumerate(text.splitlines(), start=1):
            body = line.split("#", 1)[0].replace(",", " ").split()
            if not body:
                continue
            if len(body) < 4:
                raise DataError(
                    f"{path}, line {lineno}: expected 'Session ID Occasion Detector', got "
                    f"{line.strip()!r}"
                )
            rows.append(body[:4] + [lineno])
        if not rows:
            raise DataError(f"{path}: no detection found")
        df = pd.DataFrame(rows, columns=["session", "animal_id", "occasion", "trap_id", "_line"])
        offset = None
    occ = pd.to_numeric(df["occasion"], errors="coerce")
    bad = occ.isna() | (occ == 0) | (occ != occ.round())
    if bad.any():
        r = int(np.flatnonzero(bad.to_numpy())[0])
        where = f"row {r + offset}" if offset else f"line {df['_line'].iloc[r]}"
        raise DataError(
            f"{path}, {where}: occasion must be a whole number >= 1 (negative marks a removal), "
            f"got {df['occasion'].iloc[r]!r}"
        )
    dead = (occ < 0).astype(int)
    if "dead" in df.columns:
        dv = pd.to_numeric(df["dead"], errors="coerce").fillna(0).astype(int)
        dead = np.maximum(dead, dv)
    out = pd.DataFrame(
        {
            "session": df["session"].astype(str).str.strip(),
            "animal_id": df["animal_id"].astype(str).str.strip(),
            "occasion": occ.abs().astype(int),
            "trap_id": df["trap_id"].astype(str).str.strip(),
            "dead": np.asarray(dead, dtype=int),
        }
    )
    if "signal" in df.columns:  # signal detectors: the measured signal (empty: not measured)
        val, r = signal_values(df["signal"])
        if r is not None:
            raise DataError(f"{path}, row {r + offset}: signal must be a number (the "
                            f"measured signal strength, e.g. dB), got "
                            f"{str(df['signal'].iloc[r]).strip()!r}; leave it empty where it "
                            "was not measured")
        out["signal"] = val
    return out


def read_mask(path: str | Path, *, spacing: float | None = None) -> Mask:
    """Read mask points (CSV with header ``x,y[,covariates]`` or whitespace text ``x y``).

    The spacing is inferred from the grid when not given.

    Returns
    -------
    Mask
    """
    text = _read_text(path)
    if _is_csv_with_header(text, {"x", "y"}):
        df = pd.read_csv(_io.StringIO(text), comment="#")
    else:
        lines = _strip_comments(text)
        first = lines[0].split() if lines else []
        header = first if first and not _isnum(first[0]) else None
        body = lines[1:] if header else lines
        df = pd.read_csv(_io.StringIO("\n".join(body)), sep=r"\s+", header=None)
        names = header or (["x", "y"] + [f"cov{i}" for i in range(1, df.shape[1] - 1)])
        if len(names) != df.shape[1]:
            raise DataError(f"{path}: header has {len(names)} names but rows {df.shape[1]} values")
        df.columns = names
    if not {"x", "y"} <= set(df.columns):
        raise DataError(f"{path}: mask needs columns x and y (metres)")
    for col in ("x", "y"):
        v = pd.to_numeric(df[col], errors="coerce")
        if v.isna().any():
            r = int(np.flatnonzero(v.isna().to_numpy())[0])
            raise DataError(f"{path}, row {r + 2}: {col} is not a number ({df[col].iloc[r]!r})")
        df[col] = v
    try:
        return Mask.from_frame(df, spacing=spacing)
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None


def _isnum(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def read_capthist(
    traps: str | Path,
    captures: str | Path,
    *,
    detector: str,
    animals: str | Path | None = None,
    n_occasions: int | Mapping[str, int] | None = None,
    snap: float = 0.0,
    cutval: float | None = None,
) -> CaptureHistory | list[CaptureHistory]:
    """Read detector and detection files into capture histories.

    Parameters
    ----------
    traps, captures : str or Path
        Files for :func:`read_traps` and :func:`read_captures`.
    detector : {"multi", "single", "proximity", "count", "signal", "polygon", "polygonX", \
"transect", "transectX"}
        Detector type (area and line detectors: :func:`read_area_capthist`; ``signal``: the
        detections file has a ``signal`` column, the measured signal strength, empty where
        it was not measured).
    animals : str or Path, optional
        CSV of individual covariates with columns ``[session,]animal_id, ...``.
    n_occasions : int or dict, optional
        Occasions per session; default from usage columns, else the last occasion detected.
    snap : float, default 0
        Area and line detectors: tolerance in metres for detection locations beside their
        detector (:meth:`CaptureHistory.from_locations`).
    cutval : float, optional
        Signal detectors: the detection threshold of the signal (required with them).

    Returns
    -------
    CaptureHistory or list of CaptureHistory
        One per session (a list when the files hold several sessions).
    """
    if (detector == "signal") != (cutval is not None):
        raise DataError("signal detectors need cutval (the detection threshold of the "
                        "signal), and cutval goes only with signal detectors")
    if detector in AREA_DETECTORS:
        return read_area_capthist(traps, captures, detector=detector, animals=animals,
                                  n_occasions=n_occasions, snap=snap)
    tdf = read_traps(traps)
    cdf = read_captures(captures)
    adf = None
    if animals is not None:
        adf = pd.read_csv(animals, dtype={"animal_id": str, "session": str})
    if "session" in tdf.columns:
        labels = list(dict.fromkeys(tdf["session"].astype(str)))
    else:
        labels = list(dict.fromkeys(cdf["session"]))
    unknown = set(cdf["session"]) - set(labels)
    if "session" in tdf.columns and unknown:
        raise DataError(
            f"{captures}: sessions {sorted(unknown)} have no detectors in {traps}; add them"
        )
    out = []
    for lab in labels:
        t = tdf[tdf["session"].astype(str) == lab] if "session" in tdf.columns else tdf
        t = t.drop(columns=["session"], errors="ignore").reset_index(drop=True)
        ucols = [c for c in t.columns if c.startswith("usage_")]
        if ucols:
            t = t.dropna(axis=1, how="all")
        c = cdf[cdf["session"] == lab] if len(labels) > 1 else cdf
        a = None
        if adf is not None:
            a = adf[adf["session"].astype(str) == lab] if "session" in adf.columns else adf
        S = n_occasions.get(lab) if isinstance(n_occasions, Mapping) else n_occasions
        try:
            ch = CaptureHistory.from_frames(
                c.reset_index(drop=True), t, detector=detector, n_occasions=S, animals=a,
                session=lab, cutval=cutval,
            )
        except DataError as exc:
            raise DataError(f"{captures} (session {lab}): {exc}") from None
        out.append(ch)
    return out[0] if len(out) == 1 else out


def _read_csv(path: str | Path, what: str, required: tuple[str, ...]) -> pd.DataFrame:
    import warnings

    text = _read_text(path)
    try:
        with warnings.catch_warnings():  # more fields than the header: an error, not a loss
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(_io.StringIO(text), dtype=str, comment="#", index_col=False)
    except (pd.errors.ParserError, pd.errors.ParserWarning, ValueError) as exc:
        raise DataError(f"{path}: cannot parse as CSV ({exc}); a WKT shape holds commas, "
                        "so quote it (\"POLYGON ((...))\")") from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(f"{path}: the {what} file lacks column {missing[0]!r}; expected a "
                        f"header with {', '.join(required)}")
    return df


def _numbers(df: pd.DataFrame, cols: tuple[str, ...], path, what: str) -> None:
    for col in cols:
        v = pd.to_numeric(df[col], errors="coerce")
        if v.isna().any():
            r = int(np.flatnonzero(v.isna().to_numpy())[0])
            raise DataError(f"{path}, row {r + 2}: {what} {col} must be a number (metres), "
                            f"got {df[col].iloc[r]!r}")
        df[col] = v.astype(float)


def read_area_capthist(
    traps: str | Path,
    captures: str | Path,
    *,
    detector: str,
    animals: str | Path | None = None,
    n_occasions: int | Mapping[str, int] | None = None,
    snap: float = 0.0,
) -> CaptureHistory | list[CaptureHistory]:
    """Read area or line detectors (``polygon``, ``polygonX``, ``transect``, ``transectX``)
    and their located detections.

    * Detector file (CSV with a header): ``[session,]trap_id,x,y`` with one row per vertex,
      in order (secr's polygon and transect layout: consecutive rows of one ``trap_id`` trace
      its area's boundary or its route; a ``part`` column separates the parts of one
      detector), or ``[session,]trap_id,wkt`` with the shape as WKT; both in metres.
      Optional usage columns ``usage_1..usage_S`` (one value per detector: the first row of
      each ``trap_id``) and detector covariates.
    * Detections file (CSV): ``[session,]animal_id,occasion,x,y[,trap_id]``: where each
      sample was found; without ``trap_id`` the detector is the one whose shape holds the
      point (within 1 cm, or the nearest within ``snap`` metres).

    ``snap``: see :meth:`CaptureHistory.from_locations` (GPS positions beside a route).

    Returns
    -------
    CaptureHistory or list of CaptureHistory
        One per session.

    Raises
    ------
    DataError
        Naming the file, row and field, when a value is missing or not as expected.
    """
    import shapely
    from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon

    if detector not in AREA_DETECTORS:
        raise DataError(f"read_area_capthist reads {', '.join(AREA_DETECTORS)}; got "
                        f"{detector!r}")
    tdf = _read_csv(traps, "detector", ("trap_id",))
    if "wkt" not in tdf.columns and not {"x", "y"} <= set(tdf.columns):
        raise DataError(f"{traps}: area and line detectors need columns trap_id,x,y (one row "
                        "per vertex) or trap_id,wkt")
    if "wkt" not in tdf.columns:
        _numbers(tdf, ("x", "y"), traps, "vertex")
    cdf = _read_csv(captures, "detections", ("animal_id", "occasion", "x", "y"))
    if "session" not in cdf.columns:
        cdf.insert(0, "session", "1")
    cdf["session"] = cdf["session"].astype(str).str.strip()
    per_session = "session" in tdf.columns
    if per_session:
        tdf["session"] = tdf["session"].astype(str).str.strip()
        unknown = sorted(set(cdf["session"]) - set(tdf["session"]))
        if unknown:
            raise DataError(f"{captures}: sessions {unknown} have no detectors in {traps}; "
                            "add them")
        labels = list(dict.fromkeys(tdf["session"]))
    else:  # one detector layout for every session of the detections (as read_capthist)
        labels = list(dict.fromkeys(cdf["session"])) or ["1"]
    _numbers(cdf, ("x", "y"), captures, "detection")
    occ = pd.to_numeric(cdf["occasion"], errors="coerce")
    bad = occ.isna() | (occ < 1) | (occ != occ.round())
    if bad.any():
        r = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{captures}, row {r + 2}: occasion must be a whole number >= 1, got "
                        f"{cdf['occasion'].iloc[r]!r}")
    cdf["occasion"] = occ.astype(int)
    adf = None
    if animals is not None:
        adf = pd.read_csv(animals, dtype={"animal_id": str, "session": str})
    polygonal = detector.startswith("polygon")
    out = []
    for lab in labels:
        t = tdf[tdf["session"] == lab] if per_session else tdf
        ids = list(dict.fromkeys(t["trap_id"].astype(str).str.strip()))
        geoms = []
        for tid in ids:
            rows = t[t["trap_id"].astype(str).str.strip() == tid]
            first = int(rows.index[0]) + 2
            try:
                if "wkt" in t.columns:
                    g = shapely.from_wkt(str(rows["wkt"].iloc[0]))
                else:
                    parts = (rows.groupby("part", sort=False) if "part" in rows.columns
                             else [(None, rows)])
                    rings = [p[["x", "y"]].to_numpy() for _, p in parts]
                    if polygonal:
                        polys = [Polygon(r) for r in rings]
                        g = polys[0] if len(polys) == 1 else MultiPolygon(polys)
                    else:
                        lines = [LineString(r) for r in rings]
                        g = lines[0] if len(lines) == 1 else MultiLineString(lines)
            except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
                raise DataError(f"{traps}, row {first}: detector {tid!r} is not a valid "
                                f"{'area' if polygonal else 'line'} ({exc}); give at least "
                                f"{3 if polygonal else 2} vertices in order") from None
            geoms.append(g)
        ucols = usage_columns(t.columns)
        firsts = t.groupby(t["trap_id"].astype(str).str.strip(), sort=False).head(1)
        usage = None
        if ucols:
            uf = firsts[ucols].apply(pd.to_numeric, errors="coerce")
            if uf.isna().any().any():
                raise DataError(f"{traps}: usage of session {lab} must be numbers for every "
                                "detector (0 = not searched)")
            usage = uf.to_numpy(dtype=float)
        tcols = [c for c in t.columns if c not in ("session", "trap_id", "x", "y", "wkt",
                                                   "part") and c not in ucols]
        tcov = firsts[tcols].reset_index(drop=True) if tcols else None
        if tcov is not None:  # numeric where every value is a number, else a factor
            for col in tcov.columns:
                num = pd.to_numeric(tcov[col], errors="coerce")
                if not num.isna().any():
                    tcov[col] = num
        c = cdf[cdf["session"] == lab]
        file_row = c.index.to_numpy() + 2  # row numbers in the file (header row 1)
        c = c.reset_index(drop=True)
        pts = shapely.points(c[["x", "y"]].to_numpy())
        if "trap_id" in c.columns:
            index = {tid: k for k, tid in enumerate(ids)}
            tid = c["trap_id"].astype(str).str.strip()
            unknown = ~tid.isin(index)
            if unknown.any():
                r = int(np.flatnonzero(unknown.to_numpy())[0])
                raise DataError(f"{captures}: detection row {file_row[r]} names detector "
                                f"{tid.iloc[r]!r}, which is not in {traps} (session {lab})")
            kidx = tid.map(index).to_numpy()
        else:
            dist = np.stack([shapely.distance(g, pts) for g in geoms], axis=1) if len(c) else \
                np.zeros((0, len(geoms)))
            near = dist <= 0.01
            nhit = near.sum(axis=1)
            if snap > 0:  # off every detector: the nearest within snap, if only one is
                off = nhit == 0
                dmin = dist.min(axis=1) if len(c) else np.zeros(0)
                close = (dist <= np.maximum(dmin, 0.01)[:, None] + 1e-9) & (dist <= snap)
                near = np.where(off[:, None], close, near)
                nhit = near.sum(axis=1)
            if np.any(nhit != 1):
                r = int(np.flatnonzero(nhit != 1)[0])
                why = "no detector holds it" if nhit[r] == 0 else "several detectors hold it"
                raise DataError(f"{captures}, row {file_row[r]}: the detection at "
                                f"({c['x'].iloc[r]}, "
                                f"{c['y'].iloc[r]}) has no single detector ({why}); add a "
                                "trap_id column, fix the location or give a tolerance "
                                "(--snap)")
            kidx = near.argmax(axis=1)
        aid = c["animal_id"].astype(str).str.strip()
        animal_ids = list(dict.fromkeys(aid))
        covariates = None
        if adf is not None:
            a = adf[adf["session"].astype(str) == lab] if "session" in adf.columns else adf
            cov = a.assign(animal_id=a["animal_id"].astype(str)).set_index("animal_id")
            missing = [x for x in animal_ids if x not in cov.index]
            if missing:
                raise DataError(f"{animals}: animal {missing[0]!r} has detections but no row")
            covariates = cov.loc[animal_ids].reset_index(drop=True)
        S = n_occasions.get(lab) if isinstance(n_occasions, Mapping) else n_occasions
        try:
            ch = CaptureHistory.from_locations(
                geoms, aid.map({x: i for i, x in enumerate(animal_ids)}).to_numpy(),
                c["occasion"].to_numpy() - 1, kidx, c[["x", "y"]].to_numpy(),
                detector=detector, n_occasions=S, usage=usage, trap_ids=ids,
                animal_ids=animal_ids, covariates=covariates, session=lab,
                trap_covariates=tcov, snap=snap)
        except DataError as exc:
            raise DataError(f"{captures} (session {lab}): {exc}") from None
        out.append(ch)
    return out[0] if len(out) == 1 else out


def mask_spacing_from(xy: np.ndarray) -> float:
    """Spacing of a regular grid of points (see :func:`infer_spacing`)."""
    return infer_spacing(xy)


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------
def _check_format(fmt: str) -> None:
    if fmt not in ("text", "csv"):
        raise ValueError(f"format must be 'text' (secr) or 'csv', got {fmt!r}")


def _no_space(labels: tuple[str, ...], what: str) -> None:
    bad = [x for x in labels if not x or any(c.isspace() for c in x) or "#" in x or "/" in x]
    if bad:
        raise DataError(
            f"{what} {bad[0]!r} contains whitespace, '#' or '/', which secr's text format "
            "cannot hold; write format='csv' instead"
        )


def write_traps(capthist: CaptureHistory, path: str | Path, *, format: str = "text") -> Path:
    """Write the detector layout in secr's text format or the reference CSV layout.

    ``text`` (secr ``read.traps``): ``trapID x y [usage]`` per line, the usage a string of
    0/1 digits, one per occasion (binary usage only). ``csv``: header
    ``trap_id,x,y[,usage_1..usage_S]`` with usage written in full (any non-negative value).
    Both read back with :func:`read_traps`. Area and line detectors: ``csv`` only,
    ``trap_id,wkt[,usage..][,covariates]`` (read back by :func:`read_area_capthist`).

    Raises
    ------
    DataError
        ``text`` with non-binary usage, or labels with whitespace.
    """
    _check_format(format)
    path = Path(path)
    K, S = capthist.traps.shape[0], capthist.counts.shape[1]
    usage = capthist.usage
    if capthist.geometry is not None:  # area and line detectors: their shapes as WKT
        if format != "csv":
            raise DataError(f"{capthist.detector} detectors are written as CSV (their shapes "
                            "as WKT); give format='csv'")
        df = pd.DataFrame({"trap_id": list(capthist.trap_ids),
                           "wkt": [g.wkt for g in capthist.geometry]})
        if usage is not None:
            for s in range(S):
                df[f"usage_{s + 1}"] = usage[:, s]
        if capthist.trap_covariates is not None:
            df = pd.concat([df, capthist.trap_covariates.reset_index(drop=True)], axis=1)
        df.to_csv(path, index=False, float_format="%.17g")
        return path
    if format == "csv":
        df = pd.DataFrame({"trap_id": list(capthist.trap_ids), "x": capthist.traps[:, 0],
                           "y": capthist.traps[:, 1]})
        if usage is not None:
            for s in range(S):
                df[f"usage_{s + 1}"] = usage[:, s]
        df.to_csv(path, index=False, float_format="%.17g")
        return path
    _no_space(capthist.trap_ids, "detector ID")
    if usage is not None and not np.all((usage == 0) | (usage == 1)):
        raise DataError(
            "secr's text format holds binary usage (0/1 per occasion) only; this capture "
            "history has fractional usage: write format='csv' instead"
        )
    lines = [f"# {K} detectors, {S} occasions, detector type {capthist.detector}"]
    for k in range(K):
        x, y = float(capthist.traps[k, 0]), float(capthist.traps[k, 1])
        line = f"{capthist.trap_ids[k]} {x!r} {y!r}"
        if usage is not None:
            line += " " + "".join(str(int(u)) for u in usage[k])
        lines.append(line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _capture_rows(capthist: CaptureHistory) -> pd.DataFrame:
    counts = capthist.counts
    i, s, k = np.nonzero(counts)
    reps = counts[i, s, k]
    i, s, k = np.repeat(i, reps), np.repeat(s, reps), np.repeat(k, reps)
    dead = np.zeros(i.size, dtype=int)
    if i.size and np.any(capthist.dead >= 0):
        # the last detection on the removal occasion carries the removal
        last = np.ones(i.size, dtype=bool)
        last[:-1] = (i[1:] != i[:-1]) | (s[1:] != s[:-1])
        dead = (last & (capthist.dead[i] == s)).astype(int)
    return pd.DataFrame({
        "session": capthist.session,
        "animal_id": np.asarray(capthist.animal_ids, dtype=object)[i] if i.size else [],
        "occasion": s + 1,
        "trap_id": np.asarray(capthist.trap_ids, dtype=object)[k] if k.size else [],
        "dead": dead,
    })


def write_captures(capthist: CaptureHistory, path: str | Path, *, format: str = "text"
                   ) -> Path:
    """Write the detections, one line per detection (a count of 3 is 3 lines).

    ``text`` (secr ``make.capthist`` input): ``Session ID Occasion Detector``, a negative
    occasion marking a removal. ``csv``: header ``session,animal_id,occasion,trap_id,dead``
    (area and line detectors: ``x,y`` instead of ``dead``; signal detectors: ``signal``).
    Both read back with :func:`read_captures`; with :func:`write_traps` the pair reads back
    with :func:`read_capthist` (give ``n_occasions`` when the traps carry no usage and the
    last occasions had no detection).
    """
    _check_format(format)
    path = Path(path)
    rows = _capture_rows(capthist)
    if capthist.detection_xy is not None:  # area and line detectors: where
        if format != "csv":
            raise DataError(f"{capthist.detector} detections are written as CSV (with x, y); "
                            "give format='csv'")
        rows["x"] = capthist.detection_xy[:, 0]
        rows["y"] = capthist.detection_xy[:, 1]
        rows.drop(columns=["dead"]).to_csv(path, index=False, float_format="%.17g")
        return path
    if capthist.signal is not None:  # signal detectors: the measured signal (empty: none)
        if format != "csv":
            raise DataError("signal detections are written as CSV (with a signal column); "
                            "give format='csv'")
        i, s, k = np.nonzero(capthist.counts)
        rows["signal"] = capthist.signal[i, s, k]
        rows.drop(columns=["dead"]).to_csv(path, index=False, float_format="%.17g")
        return path
    if format == "csv":
        rows.to_csv(path, index=False)
        return path
    _no_space(capthist.animal_ids, "animal ID")
    _no_space(capthist.trap_ids, "detector ID")
    _no_space((capthist.session,), "session")
    occ = np.where(rows["dead"].to_numpy(int) == 1, -rows["occasion"], rows["occasion"])
    lines = [f"# Session ID Occasion Detector ({len(rows)} detections)"]
    lines += [f"{a} {b} {c} {d}" for a, b, c, d in zip(
        rows["session"], rows["animal_id"], occ, rows["trap_id"], strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_capthist(capthist: CaptureHistory, traps: str | Path, captures: str | Path, *,
                   format: str = "text") -> tuple[Path, Path]:
    """Write :func:`write_traps` and :func:`write_captures`; returns both paths."""
    return (write_traps(capthist, traps, format=format),
            write_captures(capthist, captures, format=format))
