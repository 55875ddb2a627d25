"""Model formulas and design matrices: map a beta vector (link scale) to real parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from amurlink.analysis.secr.capthist import CaptureHistory
from amurlink.analysis.secr.detectfn import DetectFn, get_detectfn
from amurlink.analysis.secr.links import LINKS, untransform
from amurlink.analysis.secr.mask import Mask

__all__ = ["Design", "parse_formula"]

#: Terms allowed in detection-parameter formulas.
DETECTION_TERMS = ("session", "Session", "t", "T", "b", "bk", "B", "Bk", "k", "K", "h2", "h3")
#: time effects: occasion as a factor (t) or a linear trend from 0 (T)
TIME_TERMS = ("t", "T")
#: numeric individual covariates: one known class per distinct value (a warning above 50)
MAX_ICOV_VALUES = 1000
#: behavioural responses (secr): b learned, B transient (previous occasion), bk/Bk the same
#: per detector, k/K site responses (any animal at the detector before / on the previous
#: occasion)
RESPONSES = ("b", "bk", "B", "Bk", "k", "K")
#: Terms allowed in the density formula besides mask covariates.
DENSITY_TERMS = ("session", "Session", "x", "y", "x2", "y2", "xy")
#: Coordinate terms of the density formula: standardised per mask as secr (``meanSD``).
COORD_TERMS = ("x", "y", "x2", "y2", "xy")


def mask_mean_sd(mask: Mask) -> np.ndarray:
    """secr's ``meanSD`` of a mask: rows mean and SD (n - 1), columns x and y."""
    xy = np.asarray(mask.xy, dtype=float)
    sd = xy.std(axis=0, ddof=1) if xy.shape[0] > 1 else np.ones(2)
    sd = np.where(sd > 0, sd, 1.0)
    return np.vstack([xy.mean(axis=0), sd])


def coordinate_columns(xy: np.ndarray, meansd: np.ndarray) -> dict[str, np.ndarray]:
    """Standardised coordinate terms ``x, y, x2, y2, xy`` of points (secr's D.designdata)."""
    xs = (np.asarray(xy[:, 0], dtype=float) - meansd[0, 0]) / meansd[1, 0]
    ys = (np.asarray(xy[:, 1], dtype=float) - meansd[0, 1]) / meansd[1, 1]
    return {"x": xs, "y": ys, "x2": xs * xs, "y2": ys * ys, "xy": xs * ys}


_NO_INTERCEPT = re.compile(r"(-\s*1\b|\+\s*0\b|^\s*0\s*\+?)")


def has_intercept(formula: str | None) -> bool:
    """False for formulas that drop the intercept (``~ res - 1``, ``~ 0 + res``)."""
    if formula is None:
        return True
    text = str(formula).partition("~")[2] if "~" in str(formula) else str(formula)
    return _NO_INTERCEPT.search(text) is None


def parse_formula(formula: str | None) -> tuple[str, ...]:
    """Terms of a formula ``"~ a + b"``, with interactions ``a:b`` and ``a*b`` (= a + b + a:b)
    (``"~1"`` gives no terms)."""
    if formula is None:
        return ()
    text = str(formula).strip()
    if "~" in text:
        lhs, _, text = text.partition("~")
    text = _NO_INTERCEPT.sub("", text)
    terms = []
    for raw in text.split("+"):
        term = raw.strip()
        if term in ("", "1"):
            continue
        if any(ch in term for ch in "()^-/|"):
            raise ValueError(
                f"formula {formula!r}: terms are a, a + b, a:b or a*b; got {term!r}"
            )
        if "*" in term:
            parts = [p.strip() for p in term.split("*")]
            if len(parts) != 2 or not all(parts):
                raise ValueError(f"formula {formula!r}: write a*b with two terms, got {term!r}")
            terms += [parts[0], parts[1], f"{parts[0]}:{parts[1]}"]
            continue
        if ":" in term:
            parts = [p.strip() for p in term.split(":")]
            if len(parts) != 2 or not all(parts):
                raise ValueError(f"formula {formula!r}: write a:b with two terms, got {term!r}")
            term = f"{parts[0]}:{parts[1]}"
        terms.append(term)
    return tuple(dict.fromkeys(terms))


#: every detection-parameter name of secr's detection functions
_DETECTION_NAMES = ("g0", "lambda0", "sigma", "z", "w", "b0", "b1", "beta0", "beta1", "sdS")


@dataclass(frozen=True)
class _Block:
    name: str  # real parameter
    link: str
    columns: tuple[str, ...]  # design column names (beta names after the parameter prefix)
    start: int  # index of first beta


def _factor_levels(values: pd.Series) -> list:
    return sorted(pd.unique(values.dropna()), key=lambda v: (str(type(v)), v))


class Design:
    """Design of an SECR model: which betas drive D, the detection parameters and pmix.

    Detection parameters vary only by session, latent/known class (``h2``) and learned
    response state (``b`` per animal, ``bk`` per animal and detector).
    """

    def __init__(
        self,
        sessions: Sequence[CaptureHistory],
        masks: Sequence[Mask],
        *,
        detectfn: str | int | DetectFn = "HN",
        model: Mapping[str, str] | None = None,
        link: Mapping[str, str] | None = None,
        conditional: bool = False,
        hcov: str | None = None,
        timecov: Any = None,
    ) -> None:
        self.sessions = list(sessions)
        self.timecov = self._time_covariates(timecov)
        self.masks = list(masks)
        self.detectfn = get_detectfn(detectfn)
        self.conditional = bool(conditional)
        self.hcov = hcov
        model = dict(model or {})
        icpt, scale = self.detectfn.parameters
        extra = self.detectfn.extra
        self.det_params = (icpt, scale) + ((extra,) if extra else ())
        for key in list(model):
            if key in _DETECTION_NAMES and key not in self.det_params:
                raise ValueError(
                    f"model names {key!r} but detection function {self.detectfn.name} has "
                    f"{', '.join(self.det_params)}"
                )
            if key not in ("D", *self.det_params, "pmix", "noneuc"):
                raise ValueError(
                    f"model has unknown parameter {key!r}; expected D, "
                    f"{', '.join(self.det_params)}, pmix or noneuc"
                )
        terms = {p: parse_formula(model.get(p))
                 for p in ("D", *self.det_params, "pmix", "noneuc")}
        #: non-Euclidean distance: friction per mask point modelled on mask covariates
        self.has_noneuc = "noneuc" in model
        self.noneuc_intercept = has_intercept(model.get("noneuc"))
        if self.conditional and terms["D"]:
            raise ValueError("a density model cannot be fitted with the conditional likelihood")
        #: detector-covariate terms of each detection parameter (e.g. lambda0 ~ trail)
        self.kterms: dict[str, list[str]] = {p: [] for p in self.det_params}
        icov: set[str] = set()
        for p in self.det_params:
            for t in terms[p]:
                if t in DETECTION_TERMS or t in self.timecov:
                    continue
                if all(ch.trap_covariates is not None and t in ch.trap_covariates.columns
                       for ch in self.sessions):
                    self.kterms[p].append(t)
                    continue
                if all(ch.covariates is not None and t in ch.covariates.columns
                       for ch in self.sessions):
                    icov.add(t)
                    continue
                raise ValueError(
                    f"term {t!r} in the {p} model is neither one of "
                    f"{', '.join(DETECTION_TERMS)} nor a detector covariate or individual "
                    "covariate of every session"
                )
        self.has_kcov = any(self.kterms.values())
        self.tterms = {p: [t for t in terms[p] if t in TIME_TERMS or t in self.timecov]
                       for p in self.det_params}
        self.has_time = any(self.tterms.values())
        if any("t" in v for v in self.tterms.values()):
            occ = {ch.counts.shape[1] for ch in self.sessions}
            if len(occ) > 1:
                raise ValueError(f"t needs the same number of occasions in every session, got "
                                 f"{sorted(occ)}; use T (a trend) instead")
        learned = {t for p in self.det_params for t in terms[p] if t in RESPONSES}
        if len(learned) > 1:
            raise ValueError(f"use one behavioural response ({', '.join(RESPONSES)}), got "
                             f"{sorted(learned)}")
        self.learned: str | None = learned.pop() if learned else None
        has3 = any("h3" in terms[p] for p in terms)
        if has3 and any("h2" in terms[p] for p in terms):
            raise ValueError("use either h2 or h3 (2 or 3 latent classes), not both")
        if has3 and hcov is not None:
            raise ValueError("hcov gives 2 known classes; it cannot be used with h3")
        self.nmix = 3 if has3 else (
            2 if (hcov is not None or any("h2" in terms[p] for p in terms)) else 1)
        self.mixterm = "h3" if has3 else "h2"
        #: individual covariate (a factor) of the detection model: its levels are known
        #: classes without a mixing proportion (CL only, as secr)
        self.icov: str | None = None
        self.icov_numeric = False
        if icov:
            if len(icov) > 1:
                raise ValueError(f"one individual covariate per model, got {sorted(icov)}")
            if not self.conditional:
                raise ValueError("individual covariates in detection models need the "
                                 "conditional likelihood (conditional=True / --cl), as in secr")
            if self.nmix > 1:
                raise ValueError("individual covariates cannot be combined with h2, h3 or hcov")
            (self.icov,) = icov
        for t in terms["pmix"]:
            if t not in ("h2", "h3"):
                raise ValueError(f"pmix supports only ~h2 or ~h3, got term {t!r}")
        # class labels and known classes
        self.class_levels: list[str] = [str(i + 1) for i in range(max(self.nmix, 2))]
        self.knownclass: list[np.ndarray] = [np.full(ch.n, -1) for ch in self.sessions]
        if hcov is not None:
            levels: list = []
            for ch in self.sessions:
                if ch.covariates is None or hcov not in ch.covariates.columns:
                    raise ValueError(
                        f"hcov={hcov!r} but session {ch.session!r} has no individual covariate "
                        f"{hcov!r}"
                    )
                levels += list(ch.covariates[hcov].dropna())
            lev = sorted(set(map(str, levels)))
            if len(lev) != 2:
                raise ValueError(f"hcov {hcov!r} must have exactly 2 levels, got {lev}")
            self.class_levels = lev
            self.knownclass = []
            for ch in self.sessions:
                vals = ch.covariates[hcov]
                kc = np.array(
                    [lev.index(str(v)) if pd.notna(v) else -1 for v in vals], dtype=np.int64
                )
                self.knownclass.append(kc)
        if self.icov is not None:
            vals = pd.concat([ch.covariates[self.icov] for ch in self.sessions],
                             ignore_index=True)
            if vals.isna().any():
                raise ValueError(f"individual covariate {self.icov!r} is missing for some "
                                 "animals; give a value for every detected animal")
            self.icov_numeric = bool(pd.api.types.is_numeric_dtype(vals))
            if self.icov_numeric:
                # a linear term: one class per distinct value (each its own parameters)
                uniq = np.unique(vals.to_numpy(dtype=float))
                if uniq.size > MAX_ICOV_VALUES:
                    raise ValueError(f"individual covariate {self.icov!r} has {uniq.size} "
                                     f"distinct values; at most {MAX_ICOV_VALUES} are "
                                     "supported (round it or group it)")
                if uniq.size > 50:
                    import warnings

                    from amurlink.exceptions import AmurlinkWarning

                    warnings.warn(
                        f"individual covariate {self.icov!r} has {uniq.size} distinct values: "
                        "each is a class with its own detection, so the fit costs about "
                        f"{uniq.size} times one without it (169 animals, 166 values, 5,289 "
                        "mask points: 2 minutes); rounding it to fewer values is faster",
                        AmurlinkWarning, stacklevel=4)
                self.icov_values = uniq
                self.class_levels = [f"{v:g}" for v in uniq]
                self.nmix = uniq.size
                self.knownclass = [np.searchsorted(uniq, ch.covariates[self.icov].to_numpy(
                    dtype=float)).astype(np.int64) for ch in self.sessions]
            else:
                if vals.nunique() > 50:
                    raise ValueError(f"individual covariate {self.icov!r} has more than 50 "
                                     "levels")
                lev = sorted(set(map(str, vals)))
                self.class_levels = lev
                self.nmix = len(lev)
                self.knownclass = [np.array([lev.index(str(v)) for v in
                                             ch.covariates[self.icov]], dtype=np.int64)
                                   for ch in self.sessions]
        self.n_states = 2 if self.learned else 1
        self.terms = terms
        default_link = {"D": "log", "g0": "logit", "lambda0": "log", "sigma": "log",
                        "pmix": "logit", "noneuc": "log", "z": "log", "w": "log",
                        # secr's links of the signal-strength parameters
                        "b0": "log", "b1": "neglog", "beta0": "identity",
                        "beta1": "neglog", "sdS": "log"}
        link = {**default_link, **dict(link or {})}
        for p, lk in link.items():
            if lk not in LINKS:
                raise ValueError(f"link for {p!r} must be one of {', '.join(LINKS)}, got {lk!r}")
        self.link = {p: link[p] for p in ("D", *self.det_params, "pmix", "noneuc")}
        # parameters in secr's order
        self.parameters: list[str] = ([] if self.conditional else ["D"]) + list(self.det_params)
        if self.has_noneuc:
            self.parameters.append("noneuc")
        if self.nmix > 1 and self.icov is None:
            self.parameters.append("pmix")
        self._build()

    # ------------------------------------------------------------------ design building
    def _session_columns(self, terms: tuple[str, ...]) -> list[str]:
        cols = []
        labels = [ch.session for ch in self.sessions]
        for t in terms:
            if t == "session":
                cols += [f"session{lab}" for lab in labels[1:]]
            elif t == "Session":
                cols.append("Session")
        return cols

    def _det_row(self, terms: tuple[str, ...], j: int, x: int, st: int) -> list[float]:
        row = [1.0]
        for t in terms:
            if t == "session":
                row += [1.0 if j == jj else 0.0 for jj in range(1, len(self.sessions))]
            elif t == "Session":
                row.append(float(j))
            elif t in RESPONSES:
                row.append(float(st))
            elif t == "h2":
                row.append(float(x == 1))
            elif t == "h3":
                row += [float(x == 1), float(x == 2)]
            elif t == self.icov:
                if self.icov_numeric:
                    row.append(float(self.icov_values[x]))
                else:
                    row += [float(x == i) for i in range(1, len(self.class_levels))]
        return row

    def _det_columns(self, terms: tuple[str, ...]) -> list[str]:
        cols = []
        labels = [ch.session for ch in self.sessions]
        for t in terms:
            if t == "session":
                cols += [f"session{lab}" for lab in labels[1:]]
            elif t == "Session":
                cols.append("Session")
            elif t in RESPONSES:
                cols.append(f"{t}TRUE")
            elif t == "h2":
                cols.append(f"h2{self.class_levels[1]}")
            elif t == "h3":
                cols += ["h32", "h33"]
            elif t == self.icov:
                cols += ([t] if self.icov_numeric
                         else [f"{t}{lev}" for lev in self.class_levels[1:]])
        return cols

    def _density_design(self, terms: tuple[str, ...]) -> tuple[list[str], list[np.ndarray]]:
        """Density design per session mask.

        Coordinates ``x, y`` (and ``x2, y2, xy``) are standardised by each mask's mean and SD
        as secr does (so ``D.x`` is per SD of the mask x); mask covariates are used as they
        are. Records which columns are continuous (``self.D_continuous``: column index ->
        per-session default value, the value secr's ``predict`` uses: 0 for coordinates,
        the mean of the distinct covariate values) and a scale per column
        (``self.D_scale``) for the optimiser and the Hessian.
        """
        cols: list[str] = []
        mats: list[list[np.ndarray]] = [[np.ones(m.n_points)] for m in self.masks]
        J = len(self.sessions)
        self.mean_sd = [mask_mean_sd(m) for m in self.masks]
        self.D_continuous: dict[int, list[float]] = {}
        self.D_covariates: dict[str, str] = {}  # design column -> covariate (or coordinate)
        self.D_levels: dict[str, list] = {}  # factor covariate -> its levels (first = base)
        scale: list[float] = [1.0]
        self.D_interactions: dict[int, tuple[int, int]] = {}
        span: dict[str, tuple[int, int]] = {}  # term -> its design columns [a, b)
        for t in terms:
            first_col = len(cols) + 1
            if ":" in t:
                continue
            if t == "session":
                for jj in range(1, J):
                    cols.append(f"session{self.sessions[jj].session}")
                    scale.append(1.0)
                    for j, m in enumerate(self.masks):
                        mats[j].append(np.full(m.n_points, float(j == jj)))
            elif t == "Session":
                cols.append("Session")
                scale.append(1.0)
                for j, m in enumerate(self.masks):
                    mats[j].append(np.full(m.n_points, float(j)))
            elif t in COORD_TERMS:
                self.D_continuous[len(cols) + 1] = [0.0] * J
                self.D_covariates[t] = t
                cols.append(t)
                scale.append(1.0)
                for j, m in enumerate(self.masks):
                    mats[j].append(coordinate_columns(m.xy, self.mean_sd[j])[t])
            else:
                for j, m in enumerate(self.masks):
                    if m.covariates is None or t not in m.covariates.columns:
                        raise ValueError(
                            f"density term {t!r} is neither session, Session, x, y nor a "
                            f"covariate of the mask of session {self.sessions[j].session!r}"
                        )
                first = self.masks[0].covariates[t]
                if pd.api.types.is_numeric_dtype(first):
                    vals = []
                    for j, m in enumerate(self.masks):
                        v = m.covariates[t].to_numpy(dtype=float)
                        if not np.all(np.isfinite(v)):
                            raise ValueError(f"mask covariate {t!r} has missing values")
                        mats[j].append(v)
                        vals.append(v)
                    self.D_continuous[len(cols) + 1] = [float(np.mean(np.unique(v)))
                                                        for v in vals]
                    self.D_covariates[t] = t
                    cols.append(t)
                    scale.append(_column_scale(np.concatenate(vals)))
                else:
                    levels = _factor_levels(
                        pd.concat([m.covariates[t] for m in self.masks], ignore_index=True)
                    )
                    self.D_levels[t] = levels
                    for lev in levels[1:]:
                        cols.append(f"{t}{lev}")
                        scale.append(1.0)
                        for j, m in enumerate(self.masks):
                            mats[j].append((m.covariates[t] == lev).to_numpy(dtype=float))
            span[t] = (first_col, len(cols) + 1)
        for t in terms:
            if ":" not in t:
                continue
            a, b = t.split(":")
            if a not in span or b not in span:
                raise ValueError(f"density term {t!r}: give the main effects too (write "
                                 f"{a}*{b} or {a} + {b} + {t})")
            for ca in range(*span[a]):
                for cb in range(*span[b]):
                    idx = len(cols) + 1
                    cols.append(f"{cols[ca - 1]}:{cols[cb - 1]}")
                    self.D_interactions[idx] = (ca, cb)
                    scale.append(float(scale[ca] * scale[cb]))
                    for j in range(len(self.masks)):
                        mats[j].append(mats[j][ca] * mats[j][cb])
        self.D_scale = np.asarray(scale, dtype=float)
        return cols, [np.column_stack(mm) for mm in mats]

    def _time_covariates(self, timecov: Any) -> dict[str, list[pd.Series]]:
        """Time covariates per session: ``timecov`` (a frame or mapping of columns with one
        value per occasion, for every session; or a mapping session -> frame) plus
        ``dettype``, the detector type of each occasion."""
        out: dict[str, list[pd.Series]] = {}
        if timecov is not None:
            if isinstance(timecov, Mapping) and all(
                    str(k) in {ch.session for ch in self.sessions} for k in timecov):
                frames = [pd.DataFrame(timecov[ch.session]) for ch in self.sessions]
            else:
                frames = [pd.DataFrame(timecov)] * len(self.sessions)
            for f, ch in zip(frames, self.sessions, strict=True):
                if len(f) != ch.counts.shape[1]:
                    raise ValueError(f"timecov needs one row per occasion ({ch.counts.shape[1]} "
                                     f"in session {ch.session!r}), got {len(f)}")
            for c in frames[0].columns:
                out[str(c)] = [f[c].reset_index(drop=True) for f in frames]
        if any(ch.occasion_detectors is not None for ch in self.sessions):
            out["dettype"] = [pd.Series(ch.occasion_detectors if ch.occasion_detectors
                                        is not None else [ch.detector] * ch.counts.shape[1])
                              for ch in self.sessions]
        return out

    def _time_design(self, terms: list[str]) -> tuple[list[str], list[np.ndarray]]:
        """Time columns (``t``: indicators of occasions 2..S; ``T``: 0..S-1; time covariates:
        numeric as they are, factors as indicators of their levels after the first) and their
        (S, c) matrices per session."""
        cols: list[str] = []
        mats: list[list[np.ndarray]] = [[] for _ in self.sessions]
        for t in terms:
            if t in self.timecov:
                vals = self.timecov[t]
                if pd.api.types.is_numeric_dtype(vals[0]):
                    cols.append(t)
                    for j, v in enumerate(vals):
                        mats[j].append(v.to_numpy(dtype=float))
                else:
                    levels = _factor_levels(pd.concat(vals, ignore_index=True))
                    cols += [f"{t}{lev}" for lev in levels[1:]]
                    for j, v in enumerate(vals):
                        mats[j] += [(v == lev).to_numpy(dtype=float) for lev in levels[1:]]
            elif t == "t":
                S = self.sessions[0].counts.shape[1]
                cols += [f"t{s + 1}" for s in range(1, S)]
                for j, ch in enumerate(self.sessions):
                    occ = np.arange(ch.counts.shape[1])
                    mats[j] += [(occ == s).astype(float) for s in range(1, S)]
            else:
                cols.append("T")
                for j, ch in enumerate(self.sessions):
                    mats[j].append(np.arange(ch.counts.shape[1], dtype=float))
        out = [np.column_stack(m) if m else np.zeros((ch.counts.shape[1], 0))
               for m, ch in zip(mats, self.sessions, strict=True)]
        return cols, out

    def occasion_groups(self, j: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Occasions of session ``j`` grouped by equal time-design rows: the group of each
        occasion and, per detection parameter, the time-design row of each group."""
        rows = np.hstack([self.Xt[p][j] for p in self.det_params])
        _, first, grp = np.unique(rows, axis=0, return_index=True, return_inverse=True)
        grp = np.asarray(grp).reshape(-1)
        return grp, {p: self.Xt[p][j][first] for p in self.det_params}

    def _kcov_design(self, terms: list[str]) -> tuple[list[str], list[np.ndarray]]:
        """Columns of detector covariates (numeric as they are, factors as indicators of
        their levels after the first) and their (K, c) matrices per session."""
        cols: list[str] = []
        mats: list[list[np.ndarray]] = [[] for _ in self.sessions]
        for t in terms:
            vals = [ch.trap_covariates[t] for ch in self.sessions]
            if pd.api.types.is_numeric_dtype(vals[0]):
                cols.append(t)
                for j, v in enumerate(vals):
                    a = v.to_numpy(dtype=float)
                    if not np.all(np.isfinite(a)):
                        raise ValueError(f"detector covariate {t!r} has missing values")
                    mats[j].append(a)
            else:
                levels = _factor_levels(pd.concat(vals, ignore_index=True))
                for lev in levels[1:]:
                    cols.append(f"{t}{lev}")
                    for j, v in enumerate(vals):
                        mats[j].append((v == lev).to_numpy(dtype=float))
        out = [np.column_stack(m) if m else np.zeros((ch.traps.shape[0], 0))
               for m, ch in zip(mats, self.sessions, strict=True)]
        return cols, out

    def _build(self) -> None:
        blocks: dict[str, _Block] = {}
        names: list[str] = []
        start = 0
        self.XD: list[np.ndarray] = []
        self.mean_sd = [mask_mean_sd(m) for m in self.masks]
        self.D_continuous, self.D_covariates, self.D_levels = {}, {}, {}
        self.D_interactions = {}
        self.D_scale = np.ones(1)
        if not self.conditional:
            cols, self.XD = self._density_design(self.terms["D"])
            cols = ["(Intercept)"] + cols
            blocks["D"] = _Block("D", self.link["D"], tuple(cols), start)
            names += ["D"] + [f"D.{c}" for c in cols[1:]]
            start += len(cols)
        J = len(self.sessions)
        self.Xdet: dict[str, np.ndarray] = {}
        self.Xk: dict[str, list[np.ndarray]] = {}
        self.n_base: dict[str, int] = {}
        self.Xt: dict[str, list[np.ndarray]] = {}
        self.n_time: dict[str, int] = {}
        for p in self.det_params:
            base = tuple(t for t in self.terms[p]
                         if t not in self.kterms[p] and t not in TIME_TERMS)
            cols = ["(Intercept)"] + self._det_columns(base)
            tcols, Xt = self._time_design(self.tterms[p])
            kcols, Xk = self._kcov_design(self.kterms[p])
            blocks[p] = _Block(p, self.link[p], tuple(cols + tcols + kcols), start)
            names += [p] + [f"{p}.{c}" for c in cols[1:] + tcols + kcols]
            start += len(cols) + len(tcols) + len(kcols)
            self.Xt[p] = Xt
            self.n_time[p] = len(tcols)
            X = np.zeros((J, self.nmix, self.n_states, len(cols)))
            for j in range(J):
                for x in range(self.nmix):
                    for st in range(self.n_states):
                        X[j, x, st] = self._det_row(base, j, x, st)
            self.Xdet[p] = X
            self.n_base[p] = len(cols)
            self.Xk[p] = Xk
        self.XN: list[np.ndarray] = []
        if self.has_noneuc:
            keep_D = (self.D_continuous, self.D_covariates, self.D_levels, self.D_scale,
                      self.D_interactions)
            cols, XN = self._density_design(self.terms["noneuc"])
            (self.D_continuous, self.D_covariates, self.D_levels, self.D_scale,
             self.D_interactions) = keep_D
            cols = ["(Intercept)"] + cols
            if not self.noneuc_intercept:
                cols, XN = cols[1:], [X[:, 1:] for X in XN]
            if not cols:
                raise ValueError("the noneuc model has no term; write e.g. 'noneuc ~ res - 1'")
            self.XN = XN
            blocks["noneuc"] = _Block("noneuc", self.link["noneuc"], tuple(cols), start)
            names += [f"noneuc.{c}" if c != "(Intercept)" else "noneuc" for c in cols]
            start += len(cols)
        if self.nmix > 1 and self.icov is None:
            pcols = (("h32", "h33") if self.nmix == 3 else (f"h2{self.class_levels[1]}",))
            blocks["pmix"] = _Block("pmix", self.link["pmix"], pcols, start)
            names += [f"pmix.{c}" for c in pcols]
            start += len(pcols)
        self.blocks = blocks
        self.beta_names = names
        self.npar = start
        # scale of each beta for the optimiser and the Hessian (beta * scale is per SD of a
        # covariate in large units); 1 everywhere else
        self.beta_scale = np.ones(self.npar)
        if not self.conditional:
            b = blocks["D"]
            self.beta_scale[b.start : b.start + len(b.columns)] = self.D_scale

    def density_matrix(
        self,
        j: int,
        xy: np.ndarray | None = None,
        covariates: pd.DataFrame | Mapping[str, Sequence] | None = None,
        n: int | None = None,
    ) -> np.ndarray:
        """Density design rows of session ``j`` at new points or covariate values.

        ``xy`` (metres) gives the coordinate terms (standardised by the session mask's
        ``meanSD``, as the fit); ``covariates`` the mask covariates of the formula. Used by
        ``predict(newdata=)``, ``region_N`` on a region mask and density surfaces.
        """
        if n is None:
            n = len(xy) if xy is not None else len(next(iter(covariates.values()))
                                                         if isinstance(covariates, Mapping)
                                                         else covariates)
        cols = [np.ones(n)]
        J = len(self.sessions)
        for t in self.terms["D"]:
            if ":" in t:
                continue
            if t == "session":
                cols += [np.full(n, float(j == jj)) for jj in range(1, J)]
            elif t == "Session":
                cols.append(np.full(n, float(j)))
            elif t in COORD_TERMS:
                if xy is None:
                    raise ValueError(f"density term {t!r} needs coordinates x and y")
                cols.append(coordinate_columns(np.asarray(xy, dtype=float),
                                               self.mean_sd[j])[t])
            else:
                if covariates is None or t not in covariates:
                    raise ValueError(f"density term {t!r} needs the covariate {t!r}")
                v = pd.Series(np.asarray(covariates[t])).reset_index(drop=True)
                if t in self.D_levels:
                    levels = self.D_levels[t]
                    bad = set(v.dropna()) - set(levels)
                    if bad:
                        raise ValueError(f"covariate {t!r} has levels {sorted(map(str, bad))} "
                                         f"not in the fitted mask ({levels})")
                    cols += [(v == lev).to_numpy(dtype=float) for lev in levels[1:]]
                else:
                    cols.append(v.to_numpy(dtype=float))
        for ca, cb in self.D_interactions.values():
            cols.append(cols[ca] * cols[cb])
        return np.column_stack(cols)

    # ------------------------------------------------------------------ evaluation
    def block_beta(self, beta: np.ndarray, p: str) -> np.ndarray:
        b = self.blocks[p]
        return beta[b.start : b.start + len(b.columns)]

    def detection(self, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Real intercept and sigma, each of shape (sessions, classes, states)."""
        out = []
        for p in self.detectfn.parameters:
            eta = self.Xdet[p] @ self.block_beta(beta, p)[: self.n_base[p]]
            out.append(untransform(eta, self.link[p]))
        return out[0], out[1]

    def special_parts(self, *, mixtures: bool) -> list[str]:
        """The parts of this model beyond constant-per-session detection that a session kind
        may not support, named for an error message: behavioural responses, time effects,
        noneuc and (with ``mixtures``) finite mixtures."""
        out = []
        if mixtures and self.nmix != 1:
            out.append("finite mixtures (h2, h3, hcov)")
        if self.learned is not None or self.n_states != 1:
            out.append(f"behavioural response ({self.learned})")
        if self.has_time:
            out.append("time effects (t, T, time covariates)")
        if self.has_noneuc:
            out.append("non-Euclidean distance (noneuc)")
        return out

    def detection_k(self, beta: np.ndarray, j: int) -> list[np.ndarray] | None:
        """Detection parameters per detector of session ``j`` (detector covariates): one
        array (classes, states, K) per parameter of ``det_params``; None without them."""
        if not self.has_kcov:
            return None
        out = []
        for p in self.det_params:
            b = self.block_beta(beta, p)
            nb = self.n_base[p]
            nt = self.n_time.get(p, 0)
            eta = ((self.Xdet[p][j] @ b[:nb])[..., None]
                   + (self.Xk[p][j] @ b[nb + nt:])[None, None])
            out.append(untransform(eta, self.link[p]))
        return out

    def det_row(self, p: str, j: int, x: int = 0, st: int = 0,
                kvalues: Mapping[str, float] | None = None) -> np.ndarray:
        """Full design row of detection parameter ``p`` (detector covariates at ``kvalues``,
        default 0 / first level)."""
        row = list(self.Xdet[p][j, x, st])
        cols = self.blocks[p].columns[self.n_base[p]:]
        for c in cols:
            v = 0.0
            if kvalues:
                for t in self.kterms[p]:
                    if c == t and t in kvalues:
                        v = float(kvalues[t])
                    elif c.startswith(t) and t in kvalues and c == f"{t}{kvalues[t]}":
                        v = 1.0
            row.append(v)
        return np.asarray(row)

    def detection_z(self, beta: np.ndarray) -> np.ndarray | None:
        """Shape parameter z (HR, HHR, HVP) of shape (sessions, classes, states), or None."""
        p = self.detectfn.extra
        if p is None:
            return None
        return untransform(self.Xdet[p] @ self.block_beta(beta, p)[: self.n_base[p]],
                           self.link[p])

    def density(self, beta: np.ndarray) -> list[np.ndarray] | None:
        """Density (animals/ha) at each mask point, per session; None for CL."""
        if self.conditional:
            return None
        b = self.block_beta(beta, "D")
        link = self.link["D"]
        out = []
        for X in self.XD:
            d = untransform(X @ b, link)
            if link == "identity":
                d = np.maximum(d, 0.0)
            out.append(d)
        return out

    def noneuc(self, beta: np.ndarray) -> list[np.ndarray] | None:
        """Friction (real ``noneuc``) at each mask point, per session; None without noneuc."""
        if not self.has_noneuc:
            return None
        b = self.block_beta(beta, "noneuc")
        return [untransform(X @ b, self.link["noneuc"]) for X in self.XN]

    def pmix(self, beta: np.ndarray) -> np.ndarray:
        """Mixing proportions of the latent classes (length nmix)."""
        if self.nmix == 1:
            return np.ones(1)
        if self.icov is not None:  # known classes: no mixing proportion
            return np.full(self.nmix, 1.0 / self.nmix)
        if self.nmix == 3:  # multinomial logit, class 1 the reference (secr's mlogit)
            b = self.block_beta(beta, "pmix")
            m = max(0.0, float(b.max()))
            e = np.exp(np.concatenate([[0.0], b]) - m)
            return e / e.sum()
        p2 = float(untransform(self.block_beta(beta, "pmix")[0], self.link["pmix"]))
        return np.array([1.0 - p2, p2])

    # ------------------------------------------------------------------ real-parameter rows
    def real_rows(self) -> list[tuple[str, str, np.ndarray, str]]:
        """Distinct design rows per real parameter: (parameter, label, row, link)."""
        rows = []
        if not self.conditional:
            seen = set()
            cols = self.blocks["D"].columns
            for j, X in enumerate(self.XD):
                if self.D_continuous:
                    # continuous terms at secr's predict() default (mask mean), factors and
                    # sessions at each of their values
                    X = X.copy()
                    for c, vals in self.D_continuous.items():
                        X[:, c] = vals[j]
                    for c, (ca, cb) in self.D_interactions.items():
                        X[:, c] = X[:, ca] * X[:, cb]
                Xu = np.unique(X, axis=0) if X.shape[1] > 1 else X[:1]
                for r in Xu:
                    key = tuple(r)
                    if key in seen:
                        continue
                    seen.add(key)
                    rows.append(("D", _label(cols, r), r, self.link["D"]))
        for p in self.det_params:
            X = self.Xdet[p].reshape(-1, self.Xdet[p].shape[-1])
            extra = len(self.blocks[p].columns) - X.shape[1]
            if extra:
                X = np.hstack([X, np.zeros((X.shape[0], extra))])
            cols = self.blocks[p].columns
            seen = set()
            for r in X:
                key = tuple(r)
                if key in seen:
                    continue
                seen.add(key)
                rows.append((p, _label(cols, r), r, self.link[p]))
        if self.has_noneuc:
            # at the mean of the distinct covariate values, as secr's predict
            X = self.XN[0]
            r = np.array([float(np.mean(np.unique(X[:, c]))) for c in range(X.shape[1])])
            rows.append(("noneuc", _label(self.blocks["noneuc"].columns, r), r,
                         self.link["noneuc"]))
        if self.nmix == 2 and self.icov is None:  # (h3: multinomial logit, in predict)
            rows.append(("pmix", _label(self.blocks["pmix"].columns, np.array([1.0])),
                         np.array([1.0]), self.link["pmix"]))
        return rows


def _column_scale(v: np.ndarray) -> float:
    """Scale of a numeric covariate column for the optimiser and the Hessian: its SD where
    that is far from 1 (outside 0.1-10, e.g. metres or elevation), else 1 (secr's own scale,
    which R's forward-difference Hessian is computed on)."""
    sd = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
    if not np.isfinite(sd) or sd <= 0 or 0.1 <= sd <= 10.0:
        return 1.0
    return sd


def _label(cols: Sequence[str], row: np.ndarray) -> str:
    parts = [f"{c}={v:g}" for c, v in zip(cols, row, strict=True) if c != "(Intercept)"]
    return ", ".join(parts)
