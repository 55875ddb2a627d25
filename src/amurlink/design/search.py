"""Layout search: choose k of n candidate camera sites to maximise an expected-count criterion.

Greedy construction followed by best-improvement swap search (iterated, with random
perturbations, until a time or iteration budget is spent). Every swap neighbourhood (remove
one chosen site, add one free site) is scored at once: with the hazards ``h_k(x)`` of the
candidates precomputed, E(n) of every swap is a matrix product of ``exp(-S (A - h_i))`` (the
chosen set less i) with ``exp(-S h_j)`` (the candidates), so one iteration costs one
``k x M x n`` GEMM instead of ``k (n - k)`` evaluations. Constraints: per-country camera
budgets (a paired station costs two cameras), a minimum distance between chosen sites, sites
fixed in the layout (cameras already out), and eligibility (e.g. within a distance of roads or
tracks, :func:`near_lines`).

Criteria (secrdesign ``GAoptim`` and Durbach et al. 2021): ``"min_nr"`` min(E(n), E(r))
(default; maximising it minimises the rule-of-thumb RSE), ``"En"``, ``"Er"``, ``"En2"``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from amurlink.analysis.secr.mask import Mask
from amurlink.design.expectations import cast_to_hazard, expected_counts, hazard_matrix
from amurlink.exceptions import DataError

__all__ = [
    "CRITERIA",
    "LayoutProblem",
    "SearchResult",
    "near_lines",
    "regular_layout",
    "search_layout",
]

CRITERIA = ("min_nr", "En", "Er", "En2")


def near_lines(xy: Any, lines: Any, max_distance: float) -> np.ndarray:
    """Boolean per site: within ``max_distance`` metres of any of ``lines`` (shapely geometry
    or a sequence of them, e.g. roads and tracks of the study's map layers)."""
    import shapely

    xy = np.asarray(xy, dtype=float)
    if lines is None:
        raise DataError("no road or track geometry given")
    geom = lines if hasattr(lines, "geom_type") else shapely.union_all(list(lines))
    if geom.is_empty:
        raise DataError("the road and track layer is empty")
    return np.asarray(shapely.dwithin(geom, shapely.points(xy), max_distance), dtype=bool)


@dataclass
class LayoutProblem:
    """Precomputed quantities of a k-of-n search (see :func:`search_layout`)."""

    xy: np.ndarray
    country: np.ndarray
    cost: np.ndarray
    eligible: np.ndarray
    fixed: np.ndarray
    Dc: np.ndarray
    S: int
    detector: str
    criterion: str
    E: np.ndarray  # exp(-S h) (M, n)
    Cb: np.ndarray  # sum_m Dc * per-detector expected detections (n,) (proximity/count)
    Eh: np.ndarray | None  # exp(-h) (M, n) for multi
    G: np.ndarray | None  # expm1(S h) (M, n) for En2
    Sh: np.ndarray  # S h (M, n)
    conflict: Any  # sparse-ish: list of arrays of conflicting sites (within min distance)
    budgets: dict[str, float]
    tb_weight: float = 0.0  # weight of the expected transboundary animals in the objective


def _counts(p: LayoutProblem, chosen: np.ndarray) -> dict[str, float]:
    A = p.Sh[:, chosen].sum(axis=1)
    Dtot = p.Dc.sum()
    e = np.exp(-A)
    En = float(Dtot - p.Dc @ e)
    if p.detector == "multi":
        lam = A / p.S
        Er = float(p.S * (Dtot - p.Dc @ np.exp(-lam))) - En
    else:
        Er = float(p.Cb[chosen].sum()) - En
    out = {"En": En, "Er": Er, "min_nr": min(En, Er)}
    if p.G is not None:
        g = p.G[:, chosen].sum(axis=1)
        out["En2"] = float(Dtot - p.Dc @ (e * (1.0 + g)))
    codes = sorted(set(p.country))
    if len(codes) >= 2:
        # animals detected in two countries: sum of each country's E(n) minus E(n)
        # (exact for two countries: detections at different detectors are independent)
        enc = 0.0
        for c in codes:
            sel = chosen[p.country[chosen] == c]
            Ac = p.Sh[:, sel].sum(axis=1) if len(sel) else np.zeros(len(p.Dc))
            enc += float(Dtot - p.Dc @ np.exp(-Ac))
        out["transboundary"] = enc - En
    return out


def _objective(p: LayoutProblem, counts: Mapping[str, float]) -> float:
    return counts[p.criterion] + p.tb_weight * counts.get("transboundary", 0.0)


def _score(p: LayoutProblem, chosen: np.ndarray) -> float:
    return _objective(p, _counts(p, chosen))


def _tb_swap(p: LayoutProblem, chosen: np.ndarray, En: np.ndarray) -> np.ndarray:
    """Expected transboundary animals after each swap (k, n): sum_c E(n_c) - E(n)."""
    Dtot = p.Dc.sum()
    total = np.zeros_like(En)
    for c in sorted(set(p.country)):
        in_c = p.country[chosen] == c
        Ac = p.Sh[:, chosen[in_c]].sum(axis=1)
        # W_c[m, i]: Dc exp(-A_c) with site i removed when it is in c
        W = np.exp(-Ac)[:, None] * np.ones((1, len(chosen)))
        if in_c.any():
            W[:, in_c] = np.exp(-(Ac[:, None] - p.Sh[:, chosen[in_c]]))
        W *= p.Dc[:, None]
        jc = p.country == c
        part = np.empty_like(En)
        part[:, jc] = Dtot - W.T @ p.E[:, jc]
        part[:, ~jc] = (Dtot - W.sum(axis=0))[:, None]
        total += part
    return total - En


def _tb_add(p: LayoutProblem, chosen: np.ndarray, En: np.ndarray) -> np.ndarray:
    """Expected transboundary animals after adding each site j (n,)."""
    Dtot = p.Dc.sum()
    total = np.zeros_like(En)
    for c in sorted(set(p.country)):
        sel = chosen[p.country[chosen] == c] if len(chosen) else chosen
        Ac = p.Sh[:, sel].sum(axis=1) if len(sel) else np.zeros(len(p.Dc))
        w = p.Dc * np.exp(-Ac)
        jc = p.country == c
        part = np.full(len(En), Dtot - w.sum())
        # one product over every column, then the country's columns: p.E[:, jc] would copy
        # the whole (mask x candidates) block at each greedy step (84 of 93 s on neaspec)
        part[jc] = (Dtot - w @ p.E)[jc]
        total += part
    return total - En


def _swap_base(p: LayoutProblem, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Criterion and E(n) after removing chosen[i] and adding site j (len(chosen), n)."""
    Sh_c = p.Sh[:, chosen]
    A = Sh_c.sum(axis=1)
    Dtot = p.Dc.sum()
    # W[m, i] = Dc exp(-S (A - h_i)): the chosen set without i
    W = np.exp(-(A[:, None] - Sh_c))
    W *= p.Dc[:, None]
    En = Dtot - W.T @ p.E  # (k, n)
    if p.criterion == "En":
        return En, En
    if p.criterion == "En2":
        g = p.G[:, chosen].sum(axis=1)
        base = (1.0 + g[:, None] - p.G[:, chosen]) * W
        return Dtot - base.T @ p.E - W.T @ (p.E * p.G), En
    if p.detector == "multi":
        lam = A / p.S
        Wl = np.exp(-(lam[:, None] - Sh_c / p.S)) * p.Dc[:, None]
        Ec = p.S * (Dtot - Wl.T @ p.Eh)
    else:
        cb = p.Cb[chosen].sum()
        Ec = cb - p.Cb[chosen][:, None] + p.Cb[None, :]
    Er = Ec - En
    if p.criterion == "Er":
        return Er, En
    return np.minimum(En, Er), En


def _swap_scores(p: LayoutProblem, chosen: np.ndarray) -> np.ndarray:
    """Objective after removing chosen[i] and adding site j: matrix (len(chosen), n)."""
    base, En = _swap_base(p, chosen)
    if p.tb_weight:
        base = base + p.tb_weight * _tb_swap(p, chosen, En)
    return base


def _add_scores(p: LayoutProblem, A: np.ndarray, g: np.ndarray | None,
                cbsum: float, chosen: np.ndarray | None = None) -> np.ndarray:
    val, En = _add_base(p, A, g, cbsum)
    if p.tb_weight and chosen is not None:
        val = val + p.tb_weight * _tb_add(p, np.asarray(chosen, int), En)
    return val


def _add_base(p: LayoutProblem, A: np.ndarray, g: np.ndarray | None,
              cbsum: float) -> tuple[np.ndarray, np.ndarray]:
    """Criterion after adding site j to the chosen set with summed hazard ``A`` (S h),
    summed ``expm1(S h)`` ``g`` (E(n2) only) and summed expected detections ``cbsum``."""
    Dtot = p.Dc.sum()
    w = p.Dc * np.exp(-A)
    En = Dtot - w @ p.E
    if p.criterion == "En":
        return En, En
    if p.criterion == "En2":
        return Dtot - (w * (1.0 + g)) @ p.E - w @ (p.E * p.G), En
    if p.detector == "multi":
        wl = p.Dc * np.exp(-A / p.S)
        Ec = p.S * (Dtot - wl @ p.Eh)
    else:
        Ec = cbsum + p.Cb
    Er = Ec - En
    if p.criterion == "Er":
        return Er, En
    # early in the greedy both are tiny: break ties by E(n) + E(r)
    return np.minimum(En, Er) + 1e-9 * (En + Er), En


def _feasible_add(p: LayoutProblem, chosen_mask: np.ndarray, used: dict[str, float],
                  blocked: np.ndarray | None = None) -> np.ndarray:
    """Sites that may be added; ``blocked`` (optional) counts chosen sites within the
    minimum distance of each site, kept up to date by the caller."""
    ok = p.eligible & ~chosen_mask
    if blocked is not None:
        ok &= blocked == 0
    else:
        for i in np.flatnonzero(ok):
            if chosen_mask[p.conflict[i]].any():
                ok[i] = False
    for c, budget in p.budgets.items():
        sel = p.country == c
        ok[sel] &= used.get(c, 0.0) + p.cost[sel] <= budget + 1e-9
    return ok


def _feasible_swaps(p: LayoutProblem, chosen: np.ndarray, chosen_mask: np.ndarray,
                    used: dict[str, float]) -> np.ndarray:
    k, n = len(chosen), len(p.xy)
    ok = np.broadcast_to(p.eligible & ~chosen_mask, (k, n)).copy()
    ok[p.fixed[chosen], :] = False
    # minimum distance: j may conflict only with the site it replaces
    pos = {int(c): r for r, c in enumerate(chosen)}
    for j in np.flatnonzero(ok.any(axis=0)):
        hits = [pos[int(c)] for c in p.conflict[j] if chosen_mask[c]]
        if len(hits) > 1:
            ok[:, j] = False
        elif len(hits) == 1:
            keep = ok[hits[0], j]
            ok[:, j] = False
            ok[hits[0], j] = keep
    for c, budget in p.budgets.items():
        cj = p.country == c
        ci = p.country[chosen] == c
        after = (used.get(c, 0.0) - np.where(ci, p.cost[chosen], 0.0)[:, None]
                 + np.where(cj, p.cost, 0.0)[None, :])
        ok &= ~((after > budget + 1e-9) & cj[None, :])
    return ok


@dataclass(frozen=True)
class SearchResult:
    """A chosen layout. ``chosen``: candidate indices; ``criterion``: its value;
    ``counts``: E(n), E(r), min and E(n2) of the layout; ``history``: criterion after the
    greedy start and each improvement; ``baseline``: the same for the comparison layout (if
    any) and ``gain``: relative gain of the criterion over it."""

    chosen: np.ndarray
    criterion_name: str
    criterion: float
    counts: dict[str, float]
    rse: float
    history: list[float]
    seconds: float
    baseline: dict[str, float] | None = None
    baseline_rse: float | None = None
    gain: float | None = None
    per_country: dict[str, dict[str, float]] = field(default_factory=dict)
    swaps: int = 0
    restarts: int = 0

    @property
    def iterations(self) -> int:
        """Improving swaps and perturbed restarts together."""
        return self.swaps + self.restarts

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (indices into the candidate table)."""
        return {"chosen": [int(i) for i in self.chosen], "criterion_name": self.criterion_name,
                "criterion": self.criterion, "counts": self.counts, "rse": self.rse,
                "iterations": self.iterations, "seconds": self.seconds,
                "baseline": self.baseline, "baseline_rse": self.baseline_rse,
                "gain": self.gain, "per_country": self.per_country,
                "swaps": self.swaps, "restarts": self.restarts, "history": self.history}


def prepare_problem(
    candidates: Any,
    mask: Mask,
    *,
    D: float | np.ndarray,
    detectpar: Mapping[str, float],
    noccasions: int,
    detectfn: str = "HHN",
    detector: str = "proximity",
    criterion: str = "min_nr",
    budgets: Mapping[str, float] | None = None,
    min_distance: float = 0.0,
    eligible: np.ndarray | None = None,
    fixed: Sequence[int] | None = None,
    transboundary_weight: float = 0.0,
) -> LayoutProblem:
    """Validate the inputs and precompute the per-candidate hazard terms."""
    if isinstance(candidates, pd.DataFrame):
        if not {"x", "y"} <= set(candidates.columns):
            raise DataError("candidate table needs columns x and y (metres)")
        xy = candidates[["x", "y"]].to_numpy(dtype=float)
        country = (candidates["country"].astype(str).to_numpy() if "country" in candidates
                   else np.full(len(xy), ""))
        cost = (candidates["cameras"].to_numpy(dtype=float) if "cameras" in candidates
                else np.ones(len(xy)))
    else:
        xy = np.asarray(candidates, dtype=float)
        country, cost = np.full(len(xy), ""), np.ones(len(xy))
    if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) < 2:
        raise DataError(f"candidates must have shape (n, 2) with n >= 2, got {xy.shape}")
    if not np.all(np.isfinite(xy)):
        raise DataError("candidate coordinates contain missing or infinite values")
    if np.any(cost <= 0) or not np.all(np.isfinite(cost)):
        raise DataError("cameras per candidate site must be positive")
    if criterion not in CRITERIA:
        raise DataError(f"criterion {criterion!r} unknown; expected one of {', '.join(CRITERIA)}")
    if detector not in ("proximity", "count", "multi"):
        raise DataError(f"detector {detector!r}: expected proximity, count or multi")
    if detector == "multi" and criterion == "En2":
        raise DataError("the E(n2) criterion is available for proximity and count detectors")
    fn, lam0, sigma = cast_to_hazard(detectfn, detectpar)
    S = int(noccasions)
    if S < 1:
        raise DataError(f"noccasions must be a positive integer, got {noccasions}")
    h = hazard_matrix(mask.xy, xy, fn, lam0, sigma)
    Dv = np.broadcast_to(np.asarray(D, dtype=float), (mask.n_points,))
    Dc = Dv * mask.cell_area_ha
    Sh = S * h
    E = np.exp(-Sh)
    Eh = np.exp(-h) if detector == "multi" else None
    if detector == "proximity":
        Cb = S * (Dc @ (-np.expm1(-h)))
    else:
        Cb = Dc @ Sh
    G = np.expm1(Sh) if criterion == "En2" else None
    if min_distance > 0:
        tree = cKDTree(xy)
        near = tree.query_ball_point(xy, r=min_distance * (1 - 1e-12))
        conflict = [np.array([j for j in lst if j != i], dtype=int)
                    for i, lst in enumerate(near)]
    else:
        conflict = [np.zeros(0, dtype=int)] * len(xy)
    elig = np.ones(len(xy), bool) if eligible is None else np.asarray(eligible, bool).copy()
    if elig.shape != (len(xy),):
        raise DataError("eligible needs one boolean per candidate")
    fx = np.zeros(len(xy), bool)
    if fixed is not None:
        fx[np.asarray(list(fixed), dtype=int)] = True
        elig |= fx
    budgets = {str(k): float(v) for k, v in (budgets or {}).items()}
    for c in budgets:
        if c not in set(country):
            raise DataError(f"budget for country {c!r} but no candidate site has that country")
    if not (np.isfinite(transboundary_weight) and transboundary_weight >= 0):
        raise DataError("transboundary weight must be a number >= 0")
    if transboundary_weight and len(set(country)) < 2:
        raise DataError("a transboundary weight needs candidates with two countries")
    return LayoutProblem(xy=xy, country=country, cost=cost, eligible=elig, fixed=fx, Dc=Dc,
                         S=S, detector=detector, criterion=criterion, E=E, Cb=Cb, Eh=Eh, G=G,
                         Sh=Sh, conflict=conflict, budgets=budgets,
                         tb_weight=float(transboundary_weight))


def _used(p: LayoutProblem, chosen: np.ndarray) -> dict[str, float]:
    return {c: float(p.cost[chosen][p.country[chosen] == c].sum()) for c in p.budgets}


def _greedy(p: LayoutProblem, k: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    chosen_mask = p.fixed.copy()
    chosen = list(np.flatnonzero(p.fixed))
    if len(chosen) > k:
        raise DataError(f"{len(chosen)} fixed sites but only k = {k} to choose")
    A = p.Sh[:, chosen].sum(axis=1) if chosen else np.zeros(len(p.Dc))
    g = None
    if p.G is not None:
        g = p.G[:, chosen].sum(axis=1) if chosen else np.zeros(len(p.Dc))
    blocked = np.zeros(len(p.xy), np.int64)
    for j in chosen:
        blocked[p.conflict[j]] += 1
    while len(chosen) < k:
        ok = _feasible_add(p, chosen_mask, _used(p, np.array(chosen, int)), blocked)
        if not ok.any():
            raise DataError(f"no feasible layout of {k} sites: only {len(chosen)} could be "
                            "placed under the budgets, minimum distance and eligibility")
        s = _add_scores(p, A, g, float(p.Cb[chosen].sum()) if chosen else 0.0,
                        np.array(chosen, int))
        if noise > 0:
            s = s * (1.0 + noise * rng.random(len(s)))
        s = np.where(ok, s, -np.inf)
        j = int(np.argmax(s))
        chosen.append(j)
        chosen_mask[j] = True
        blocked[p.conflict[j]] += 1
        A += p.Sh[:, j]
        if g is not None:
            g += p.G[:, j]
    return np.array(chosen, int)


def _local_search(p: LayoutProblem, chosen: np.ndarray, deadline: float,
                  history: list[float], max_swaps: float = math.inf
                  ) -> tuple[np.ndarray, float, int]:
    chosen = chosen.copy()
    current = _score(p, chosen)
    it = 0
    while it < max_swaps and time.perf_counter() < deadline:
        mask = np.zeros(len(p.xy), bool)
        mask[chosen] = True
        ok = _feasible_swaps(p, chosen, mask, _used(p, chosen))
        if not ok.any():
            break
        s = np.where(ok, _swap_scores(p, chosen), -np.inf)
        i, j = np.unravel_index(int(np.argmax(s)), s.shape)
        if not s[i, j] > current * (1 + 1e-10) + 1e-12:
            break
        chosen[i] = j
        current = _score(p, chosen)  # exact, no drift
        history.append(current)
        it += 1
    return chosen, current, it


def regular_layout(p_or_xy: Any, k: int, *, eligible: np.ndarray | None = None,
                   rng: np.random.Generator | None = None) -> np.ndarray:
    """k eligible candidates spread evenly: the candidate nearest each cell of a square grid
    over the eligible candidates' extent (with enough cells for k distinct sites)."""
    xy = p_or_xy.xy if isinstance(p_or_xy, LayoutProblem) else np.asarray(p_or_xy, float)
    if eligible is None and isinstance(p_or_xy, LayoutProblem):
        eligible = p_or_xy.eligible
    idx = np.flatnonzero(np.ones(len(xy), bool) if eligible is None else eligible)
    if len(idx) < k:
        raise DataError(f"only {len(idx)} eligible candidates for a regular layout of {k}")
    pts = xy[idx]
    lo, hi = pts.min(0), pts.max(0)
    area = max(float(np.prod(np.maximum(hi - lo, 1.0))), 1.0)
    step = math.sqrt(area / k)
    while True:
        gx = np.arange(lo[0] + step / 2, hi[0] + step / 2, step)
        gy = np.arange(lo[1] + step / 2, hi[1] + step / 2, step)
        g = np.array([(a, b) for b in gy for a in gx])
        _, near = cKDTree(pts).query(g)
        uniq = list(dict.fromkeys(near.tolist()))
        if len(uniq) >= k or step < 1e-6:
            break
        step *= 0.9
    sel = np.array(uniq[:k]) if len(uniq) >= k else np.array(uniq)
    if len(sel) < k:  # fill with the remaining candidates in order
        rest = np.setdiff1d(np.arange(len(pts)), sel)[: k - len(sel)]
        sel = np.concatenate([sel, rest])
    if len(uniq) > k:  # thin evenly across the grid order
        pick = np.round(np.linspace(0, len(uniq) - 1, k)).astype(int)
        sel = np.array(uniq)[pick]
    return idx[sel]


def search_layout(
    candidates: Any,
    mask: Mask,
    k: int,
    *,
    D: float | np.ndarray,
    detectpar: Mapping[str, float],
    noccasions: int,
    detectfn: str = "HHN",
    detector: str = "proximity",
    criterion: str = "min_nr",
    budgets: Mapping[str, float] | None = None,
    min_distance: float = 0.0,
    eligible: np.ndarray | None = None,
    fixed: Sequence[int] | None = None,
    baseline: Sequence[int] | str | None = "regular",
    time_limit: float | None = 30.0,
    restarts: int | None = None,
    max_swaps: int | None = None,
    seed: int = 0,
    CF: float = 1.0,
    transboundary_weight: float = 0.0,
) -> SearchResult:
    """Choose ``k`` of the candidate sites maximising ``criterion``.

    Parameters
    ----------
    candidates : DataFrame or array (n, 2)
        Columns ``x, y`` (metres), optional ``country`` (e.g. CN, RU) and ``cameras``
        (cameras at the site: 2 for a paired station; counted against ``budgets``).
    mask : Mask
        Habitat mask covering the candidates with a buffer of about 4 sigma.
    k : int
        Number of sites to choose (fixed sites included).
    D, detectpar, noccasions, detectfn, detector
        The design setting, as :func:`amurlink.design.expected_counts`.
    criterion : {"min_nr", "En", "Er", "En2"}
    budgets : mapping country -> cameras, optional
        Most cameras each country can put out.
    min_distance : float
        Least distance between two chosen sites, metres.
    eligible : bool array (n,), optional
        Sites that may be chosen (e.g. :func:`near_lines` to roads and tracks).
    fixed : indices, optional
        Sites that stay in every layout (cameras already out).
    baseline : indices, "regular" or None
        Layout to report the gain against: given indices (the current layout), an evenly
        spread layout of k eligible sites (default), or nothing.
    time_limit : float or None
        Seconds for the search (greedy start, swap search, then perturbed restarts). None:
        no time limit, ``restarts`` and ``max_swaps`` decide: the result then depends on the
        inputs and the seed only, not on the machine's speed (what a report needs).
    restarts : int, optional
        Stop after this many perturbed restarts even with time left.
    max_swaps : int, optional
        Stop after this many improving swaps in all (greedy start and restarts together).
        With ``time_limit=None`` the work, not the machine's speed, decides where the
        search stops.
    seed : int
        Seed of the random perturbations.
    CF : float
        Correction factor for the reported rule-of-thumb RSE.
    transboundary_weight : float, default 0
        Maximise ``criterion + w x E(transboundary)``, E(transboundary) the expected number of
        animals detected in two countries (``sum_c E(n_c) - E(n)``); 0 ignores it.

    Returns
    -------
    SearchResult
    """
    t0 = time.perf_counter()
    p = prepare_problem(candidates, mask, D=D, detectpar=detectpar, noccasions=noccasions,
                        detectfn=detectfn, detector=detector, criterion=criterion,
                        budgets=budgets, min_distance=min_distance, eligible=eligible,
                        fixed=fixed, transboundary_weight=transboundary_weight)
    n = len(p.xy)
    if not (1 <= int(k) <= n):
        raise DataError(f"k must be between 1 and the number of candidates ({n}), got {k}")
    k = int(k)
    if time_limit is None and restarts is None and max_swaps is None:
        raise DataError("a layout search needs a time limit, a number of restarts or a "
                        "number of swaps")
    rng = np.random.default_rng(seed)
    deadline = math.inf if time_limit is None else t0 + float(time_limit)
    swaps = math.inf if max_swaps is None else int(max_swaps)
    history: list[float] = []
    start = _greedy(p, k, rng, 0.0)
    history.append(_score(p, start))
    best, best_val, iters = _local_search(p, start, deadline, history, swaps)
    r = 0
    free = np.flatnonzero(~p.fixed[best])
    while time.perf_counter() < deadline and (restarts is None or r < restarts) and len(free) \
            and iters < swaps:
        r += 1
        # perturb: replace a random 10-30 % of the movable sites by a noisy greedy refill
        cand = best.copy()
        movable = np.flatnonzero(~p.fixed[cand])
        m = max(1, int(len(movable) * rng.uniform(0.1, 0.3)))
        drop = rng.choice(movable, size=min(m, len(movable)), replace=False)
        keep = np.delete(cand, drop)
        fixed_backup = p.fixed
        p.fixed = np.zeros(n, bool)
        p.fixed[keep] = True
        try:
            cand = _greedy(p, k, rng, 0.05)
        except DataError:
            p.fixed = fixed_backup
            continue
        p.fixed = fixed_backup
        cand, val, it = _local_search(p, cand, deadline, [], swaps - iters)
        iters += it
        if val > best_val * (1 + 1e-10):
            best, best_val = cand, val
            history.append(val)
    counts = _counts(p, best)
    e = expected_counts(p.xy[best], mask, D=D, detectfn=detectfn, detectpar=detectpar,
                        noccasions=noccasions, detector=detector, CF=CF, en2=False)
    base = base_rse = gain = None
    if baseline is not None:
        bidx = (regular_layout(p, k) if isinstance(baseline, str) and baseline == "regular"
                else np.asarray(list(baseline), int))
        base = _counts(p, bidx)
        base_rse = expected_counts(p.xy[bidx], mask, D=D, detectfn=detectfn,
                                   detectpar=detectpar, noccasions=noccasions,
                                   detector=detector, CF=CF, en2=False).rse
        bval = _objective(p, base)
        gain = best_val / bval - 1.0 if bval > 0 else None
        base = {**base, "chosen": [int(i) for i in bidx]}
    per_country = {}
    for c in sorted(set(p.country[best])):
        sel = best[p.country[best] == c]
        per_country[c or "all"] = {"sites": int(len(sel)), "cameras": float(p.cost[sel].sum())}
    name = criterion if not p.tb_weight else f"{criterion} + {p.tb_weight:g} x transboundary"
    return SearchResult(chosen=np.sort(best), criterion_name=name, criterion=best_val,
                        counts=counts, rse=e.rse, history=history,
                        seconds=time.perf_counter() - t0, baseline=base, baseline_rse=base_rse,
                        gain=gain, per_country=per_country, swaps=int(iters), restarts=r)
