"""Area and line detectors: secr's ``polygon``, ``polygonX``, ``transect`` and ``transectX``.

A DNA search of an area (scat along every trail of a block) or of a route records where each
sample was found, not which point detector found it. secr's model for such data (Efford 2011;
``secr-polygondetectors.pdf``) uses a hazard detection function ``z(r)`` (HHN, HHR, HEX, HAN,
HCG, HVP) as a density of detection locations around the animal's centre ``x``:

* the expected number of detections of the animal in detector ``k`` (an area or a line) on an
  occasion of usage ``T`` is ``T h_k(x)`` with ``h_k(x) = lambda0 I_k(x) / H``, where
  ``I_k(x)`` is the integral of ``z`` over the area (or along the line) and ``H`` its integral
  over the whole plane (along a whole straight line through ``x`` for transects), both taken
  to ``20 sigma`` as secr does;
* each detection at location ``y`` contributes the density ``z(|y - x|) / I_k(x)``;
* ``polygon``/``transect``: Poisson counts per detector and occasion; ``polygonX``/
  ``transectX`` (exclusive): at most one detection per animal and occasion, detector ``k``
  with the competing-hazard probability ``(1 - exp(-H_s)) T h_k / H_s``.

This is secr's likelihood (``prwipolygon.cpp``, ``makegkpoly.cpp``); the integrals are
computed here by Gauss-Legendre quadrature on an exact decomposition of each area into
vertical trapezoids (and of each line into segments), with the halfnormal's inner integral in
closed form (normal CDF); the panels are at most ``sigma / 2`` wide. Written by hand: no
library integrates a radial kernel over polygons for thousands of centres at once.

References
----------
Efford, M. G. (2011). Estimation of population density by spatially explicit capture-recapture
analysis of data from area searches. Ecology 92, 2202-2207.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import gammaln, ndtr

from amurlink.analysis.secr._geometry import (
    AREA_DETECTORS,
    POLYGON_DETECTORS,
    TRANSECT_DETECTORS,
    detector_geometry,
)
from amurlink.analysis.secr._terms import ClassLoglikCache, _logmult
from amurlink.analysis.secr.detectfn import DetectFn, get_detectfn

__all__ = ["AREA_DETECTORS", "POLYGON_DETECTORS", "TRANSECT_DETECTORS", "AreaSession",
           "detector_geometry", "normaliser", "detector_integrals", "simulate_area_capthist"]

#: Gauss-Legendre order per panel; panels are at most ``PANEL * sigma`` wide for the
#: halfnormal (inner integral exact), ``PANEL_2D * sigma`` in x and y for other functions
#: (their cusp at distance 0, e.g. HEX, converges more slowly: about 1e-6 relative)
ORDER = 10
PANEL = 0.5
PANEL_2D = 0.25
_SQRT2PI = float(np.sqrt(2.0 * np.pi))
#: most quadrature panels across a session's shapes: a sigma so small that it needs more is
#: a step of the optimiser far from any maximum, and the likelihood is -inf there
MAX_PIECES = 200_000


class TooFineError(ValueError):
    """sigma is too small for the shapes' quadrature (more than :data:`MAX_PIECES` panels)."""


@lru_cache(maxsize=8)
def _gl(order: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(order)
    return (x + 1.0) / 2.0, w / 2.0  # on [0, 1]


def _ncdf_diff(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``Phi(hi) - Phi(lo)`` without cancellation in the upper tail."""
    upper = lo > 0
    return np.where(upper, ndtr(-lo) - ndtr(-hi), ndtr(hi) - ndtr(lo))


# ---------------------------------------------------------------------------- geometry
class _Polygon:
    """An area as vertical trapezoids: between consecutive vertex x coordinates the
    cross-section is a set of intervals whose ends are straight edges."""

    def __init__(self, geom: Any) -> None:
        import shapely

        rings = []
        for part in getattr(geom, "geoms", [geom]):
            rings.append(np.asarray(part.exterior.coords))
            rings.extend(np.asarray(r.coords) for r in part.interiors)
        e = np.concatenate([np.column_stack([r[:-1], r[1:]]) for r in rings])
        e = e[e[:, 0] != e[:, 2]]  # vertical edges never cross a panel's interior
        self.x1, self.y1 = e[:, 0], e[:, 1]
        self.slope = (e[:, 3] - e[:, 1]) / (e[:, 2] - e[:, 0])
        lo, hi = np.minimum(e[:, 0], e[:, 2]), np.maximum(e[:, 0], e[:, 2])
        xs = np.unique(shapely.get_coordinates(geom)[:, 0])
        self.panels = []
        for a, b in zip(xs[:-1], xs[1:], strict=True):
            xm = 0.5 * (a + b)
            cross = np.flatnonzero((lo < xm) & (hi > xm))
            if cross.size < 2:
                continue
            order = np.argsort(self._y(cross, xm))
            cross = cross[order]
            self.panels.append((a, b, cross[0::2], cross[1::2]))
        self._nodes: dict = {}

    def _y(self, idx: np.ndarray, x: np.ndarray | float) -> np.ndarray:
        return self.y1[idx] + (x - self.x1[idx]) * self.slope[idx]

    def nodes(self, h: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """x nodes (Q,), weights (Q,), interval ends a, b (Q, J) (zero-length padding) for
        panels split into pieces at most ``h`` wide."""
        nsub = tuple(max(1, int(np.ceil(min((b - a) / h, MAX_PIECES + 1.0))))
                     for a, b, *_ in self.panels)
        if sum(nsub) > MAX_PIECES:
            raise TooFineError(f"sigma of {h / PANEL:.3g} m needs over {MAX_PIECES} "
                               "quadrature panels across the shapes")
        hit = self._nodes.get(nsub)
        if hit is not None:
            return hit
        t, w = _gl(ORDER)
        xs, ws, As, Bs = [], [], [], []
        J = max(len(p[2]) for p in self.panels)
        for (a, b, low, up), ns in zip(self.panels, nsub, strict=True):
            step = (b - a) / ns
            x = (a + step * (np.arange(ns)[:, None] + t[None, :])).reshape(-1)
            xs.append(x)
            ws.append(np.tile(w * step, ns))
            A = np.zeros((x.size, J))
            B = np.zeros((x.size, J))
            A[:, :low.size] = self._y(low[None, :], x[:, None])
            B[:, :up.size] = self._y(up[None, :], x[:, None])
            As.append(A)
            Bs.append(B)
        out = (np.concatenate(xs), np.concatenate(ws), np.concatenate(As), np.concatenate(Bs))
        if len(self._nodes) > 8:
            self._nodes.clear()
        self._nodes[nsub] = out
        return out

    def points(self, h: float) -> tuple[np.ndarray, np.ndarray]:
        """2-D quadrature points (P, 2) and weights for a general radial function."""
        x, wx, A, B = self.nodes(h)
        t, w = _gl(ORDER)
        L = B - A
        ny = np.maximum(1, np.ceil(L.max(axis=0) / h)).astype(int) if L.size else []
        pts, wts = [], []
        for j, nj in enumerate(ny):
            keep = L[:, j] > 0
            if not keep.any():
                continue
            step = L[keep, j] / nj  # (q,)
            frac = (np.arange(nj)[:, None] + t[None, :]).reshape(-1)  # (nj*ORDER,)
            y = A[keep, j][:, None] + step[:, None] * frac[None, :]
            pts.append(np.column_stack([np.repeat(x[keep], frac.size), y.reshape(-1)]))
            wts.append((wx[keep] * step)[:, None].repeat(frac.size, axis=1).reshape(-1)
                       * np.tile(np.tile(w, nj), keep.sum()))
        return np.concatenate(pts), np.concatenate(wts)


class _Line:
    """A line (or several) as straight segments."""

    def __init__(self, geom: Any) -> None:
        segs = []
        for part in getattr(geom, "geoms", [geom]):
            c = np.asarray(part.coords)
            segs.append(np.column_stack([c[:-1], c[1:]]))
        s = np.concatenate(segs)
        d = s[:, 2:] - s[:, :2]
        L = np.hypot(d[:, 0], d[:, 1])
        s, d, L = s[L > 0], d[L > 0], L[L > 0]
        self.p0 = s[:, :2]
        self.e = d / L[:, None]
        self.L = L

    def integral_hhn(self, xy: np.ndarray, sigma: float) -> np.ndarray:
        """Exact integral of ``exp(-r^2 / 2 sigma^2)`` along the line from each point."""
        out = np.zeros(len(xy))
        for p0, e, L in zip(self.p0, self.e, self.L, strict=True):
            v = xy - p0
            t = v @ e
            perp2 = np.maximum((v * v).sum(1) - t * t, 0.0)
            out += (np.exp(-perp2 / (2 * sigma * sigma)) * sigma * _SQRT2PI
                    * _ncdf_diff(-t / sigma, (L - t) / sigma))
        return out

    def sample_hhn(self, centre: np.ndarray, sigma: float, m: int,
                   rng: np.random.Generator) -> np.ndarray:
        """``m`` points on the line drawn from the density ``exp(-r^2 / 2 sigma^2)`` around
        ``centre`` (exactly: a segment by its share of the integral, then a normal truncated
        to the segment along it)."""
        from scipy.stats import truncnorm

        v = centre[None, :] - self.p0
        t = (v * self.e).sum(axis=1)
        perp2 = np.maximum((v * v).sum(axis=1) - t * t, 0.0)
        w = np.exp(-perp2 / (2 * sigma * sigma)) * _ncdf_diff(-t / sigma,
                                                               (self.L - t) / sigma)
        seg = rng.choice(len(w), size=m, p=w / w.sum())
        u = truncnorm.rvs(-t[seg] / sigma, (self.L[seg] - t[seg]) / sigma, loc=t[seg],
                          scale=sigma, size=m, random_state=rng)
        return self.p0[seg] + u[:, None] * self.e[seg]

    def points(self, h: float) -> tuple[np.ndarray, np.ndarray]:
        t, w = _gl(ORDER)
        pts, wts = [], []
        if float(np.sum(self.L)) / h > MAX_PIECES:
            raise TooFineError(f"sigma of {h / PANEL:.3g} m needs over {MAX_PIECES} "
                               "quadrature panels along the routes")
        for p0, e, L in zip(self.p0, self.e, self.L, strict=True):
            ns = max(1, int(np.ceil(L / h)))
            step = L / ns
            u = step * (np.arange(ns)[:, None] + t[None, :]).reshape(-1)
            pts.append(p0[None, :] + u[:, None] * e[None, :])
            wts.append(np.tile(w * step, ns))
        return np.concatenate(pts), np.concatenate(wts)


def _shapes(geoms, detector: str) -> list:
    return [(_Polygon(g) if detector in POLYGON_DETECTORS else _Line(g)) for g in geoms]


# ---------------------------------------------------------------------------- integrals
def _z1(fn: DetectFn, d2: np.ndarray, sigma: float, z: float | None) -> np.ndarray:
    """The hazard function with intercept 1 at squared distances ``d2``."""
    d = None if fn.shape == "halfnormal" else np.sqrt(d2)
    return fn.core(d, d2, sigma, z)


def normaliser(fn: DetectFn, sigma: float, z: float | None, dim: int) -> float:
    """``H``: the integral of ``z(r)`` (intercept 1) over the plane (``dim=2``) or along a
    straight line through the centre (``dim=1``), to ``20 sigma`` as secr's
    ``hintegral2Ncpp``/``hintegral1Ncpp``."""
    R = 20.0 * sigma
    if fn.shape == "halfnormal":
        if dim == 2:
            return float(2 * np.pi * sigma * sigma * -np.expm1(-200.0))
        return float(sigma * _SQRT2PI * (1.0 - 2.0 * ndtr(-20.0)))
    if fn.shape == "exponential":
        if dim == 2:
            return float(2 * np.pi * sigma * sigma * (1.0 - 21.0 * np.exp(-20.0)))
        return float(2 * sigma * -np.expm1(-20.0))
    from scipy.integrate import quad

    def f(r: float) -> float:
        v = float(fn.core(np.array([r]), np.array([r * r]), sigma, z)[0])
        return r * v if dim == 2 else v

    pts = [z] if fn.shape == "annular" and z is not None and 0 < z < R else None
    val, _err = quad(f, 0.0, R, limit=200, points=pts, epsabs=0.0, epsrel=1e-11)
    return float(val * (2 * np.pi if dim == 2 else 2.0))


def detector_integrals(shapes: list, xy: np.ndarray, fn: DetectFn, sigma: float,
                       z: float | None = None, *, chunk: int = 4_000_000) -> np.ndarray:
    """``I_k(x_m)``: the integral of ``z(|u - x_m|)`` (intercept 1) over each detector's
    area or along its line, shape (K, M)."""
    xy = np.asarray(xy, dtype=float)
    M = len(xy)
    out = np.empty((len(shapes), M))
    h = PANEL * sigma if fn.shape == "halfnormal" else PANEL_2D * sigma
    s2 = sigma * sigma
    for k, shp in enumerate(shapes):
        if isinstance(shp, _Line) and fn.shape == "halfnormal":
            out[k] = shp.integral_hhn(xy, sigma)
            continue
        if isinstance(shp, _Polygon) and fn.shape == "halfnormal":
            x, w, A, B = shp.nodes(h)
            step = max(1, chunk // max(1, x.size * A.shape[1]))
            for a in range(0, M, step):
                mx, my = xy[a:a + step, 0], xy[a:a + step, 1]
                gx = np.exp(-((x[None, :] - mx[:, None]) ** 2) / (2 * s2)) * w[None, :]
                lo = (A[None, :, :] - my[:, None, None]) / sigma
                hi = (B[None, :, :] - my[:, None, None]) / sigma
                inner = _ncdf_diff(lo, hi).sum(axis=2) * (sigma * _SQRT2PI)
                out[k, a:a + step] = (gx * inner).sum(axis=1)
            continue
        pts, w = shp.points(h)
        step = max(1, chunk // max(1, len(pts)))
        for a in range(0, M, step):
            d2 = ((xy[a:a + step, None, :] - pts[None, :, :]) ** 2).sum(axis=2)
            out[k, a:a + step] = _z1(fn, d2, sigma, z) @ w
    return out


# ---------------------------------------------------------------------------- likelihood
class AreaSession(ClassLoglikCache):
    """The prepared likelihood terms of one session of area or line detectors (the
    interface of the likelihood's sessions: :meth:`class_loglik` per class, its caches,
    ``n``, ``M``, ``area``, ``logmult``)."""

    def __init__(self, ch, mask, fn: DetectFn, *,  # noqa: PLR0915 - one prepare step
                 learned: str | None = None) -> None:
        if not fn.hazard:
            raise ValueError(
                f"{ch.detector} detectors need a hazard detection function (HHN, HHR, HEX, "
                f"HAN, HCG, HVP), as in secr; got {fn.name}: use detectfn='HHN' instead of "
                "'HN'")
        if np.any(ch.dead >= 0):
            raise NotImplementedError(f"removals (dead) with {ch.detector} detectors are not "
                                      "implemented")
        if learned not in (None, "b"):
            raise NotImplementedError(f"behavioural response {learned} with {ch.detector} "
                                      "detectors is not implemented (b is)")
        self.ch, self.mask, self.fn = ch, mask, fn
        self.kind = ch.detector
        self.exclusive = ch.detector.endswith("X")
        self.dim = 2 if ch.detector in POLYGON_DETECTORS else 1
        n, S, K = ch.counts.shape
        self.n, self.S, self.K, self.M = n, S, K, mask.n_points
        self.area = mask.cell_area_ha
        self._plain_session()
        self.response = learned  # b: parameters per state (the likelihood's ``learned`` is
        # for point sessions)
        self._integrals: dict = {}
        self._grp = None  # occasion groups (time effects): set_occasion_groups
        self.shapes = _shapes(ch.geometry, ch.detector)
        T = ch.usage_or_ones  # (K, S)
        self.usage = T
        self.U = T.sum(axis=1)
        ii, ss, kk = _detections(ch.counts)
        self.det = (ii, ss, kk)
        # learned response b: an animal's occasions after its first detection use the
        # parameters of state 1 (secr's PIA per animal and occasion)
        first = np.full(n, S, dtype=np.int64)
        np.minimum.at(first, ii, ss)
        self.first = first
        xy = ch.detection_xy
        self.d2_det = ((xy[:, None, :] - mask.xy[None, :, :]) ** 2).sum(axis=2)  # (J, M)
        J = ii.size
        self.C = sp.csr_matrix((np.ones(J), (ii, np.arange(J))), shape=(n, J))
        # learned response b: per state, its detections and their columns of C (sliced once)
        after = ss > first[ii]
        self._state_det = ([(sel, self.C[:, sel]) for sel in (np.flatnonzero(~after),
                                                              np.flatnonzero(after))]
                           if learned == "b" else None)
        const = np.zeros(n)
        np.add.at(const, ii, np.log(T[kk, ss]))
        if not self.exclusive:
            i3, s3, k3 = np.nonzero(ch.counts)
            np.add.at(const, i3, -gammaln(ch.counts[i3, s3, k3] + 1.0))
        else:
            io, so = np.nonzero(ch.counts.sum(axis=2))
            self.occ = (so, sp.csr_matrix((np.ones(io.size), (io, np.arange(io.size))),
                                          shape=(n, io.size)))
            self._occ_animal = io
        self.const = const
        self.logmult = _logmult(ch.counts.reshape(n, S * K))

    def set_distances(self, d: np.ndarray) -> None:  # noqa: ARG002
        raise NotImplementedError("non-Euclidean distance (noneuc) is not implemented for "
                                  f"{self.kind} detectors")

    def integrals(self, sigma: float, z: float | None) -> np.ndarray:
        """(K, M) integrals of the session's detectors, cached on (sigma, z)."""
        key = (float(sigma), None if z is None else float(z))
        hit = self._integrals.get(key)
        if hit is None:
            hit = detector_integrals(self.shapes, self.mask.xy, self.fn, sigma, z)
            if len(self._integrals) >= 6:
                self._integrals.pop(next(iter(self._integrals)))
            self._integrals[key] = hit
        return hit

    def set_occasion_groups(self, grp: np.ndarray) -> None:
        """Occasions grouped by equal detection parameters (time effects ``t``, ``T``, time
        covariates): the parameters then come as one tuple per group."""
        self._grp = np.asarray(grp, dtype=np.intp).reshape(-1)
        G = int(self._grp.max()) + 1
        self._Ug = [self.usage[:, self._grp == g].sum(axis=1) for g in range(G)]

    def _groups(self, par: tuple) -> list[tuple[np.ndarray, float, float | None]]:
        """Per occasion group: lambda0 per detector (K,), sigma, z."""
        timed = self._grp is not None
        out = []
        for q in (par if timed else (par,)):
            icpt, sigma, *rest = q
            z = rest[0] if rest else None
            # with detector covariates every parameter comes per detector; only lambda0 may
            # vary between detectors
            if isinstance(sigma, tuple):
                sigma = _one_value(sigma, "sigma", self.kind)
            if isinstance(z, tuple):
                z = _one_value(z, "z", self.kind)
            lam = np.broadcast_to(np.asarray(icpt, dtype=float), (self.K,))
            out.append((lam, float(sigma), z))
        return out

    def _hazards(self, par: tuple, xy: np.ndarray | None = None):
        """Per group: the hazard (K, M) of each detector at the mask points (or at ``xy``),
        lambda0 / H, sigma and z."""
        out = []
        for lam, sigma, z in self._groups(par):
            Hn = normaliser(self.fn, sigma, z, self.dim)
            integ = (self.integrals(sigma, z) if xy is None
                     else detector_integrals(self.shapes, xy, self.fn, sigma, z))
            out.append(((lam / Hn)[:, None] * integ, lam / Hn, sigma, z))
        return out

    def _usage_by_group(self) -> list[np.ndarray]:
        return self._Ug if self._grp is not None else [self.U]

    def pdot_at(self, par: tuple, xy: np.ndarray) -> np.ndarray:
        """p.(x) at any points (e.g. a region beyond the mask) for one class's parameters."""
        H = sum(u @ h[0] for u, h in zip(self._usage_by_group(), self._hazards(par, xy),
                                         strict=True))
        return -np.expm1(-H)

    def _occasion_hazards(self, hz: list) -> np.ndarray:
        """(S, M) summed hazard ``sum_k T_ks h_k(x)`` of each occasion (its group's
        parameters)."""
        if len(hz) == 1:
            return self.usage.T @ hz[0][0]
        grp = self._grp
        return np.stack([self.usage[:, s] @ hz[grp[s]][0] for s in range(self.S)])

    def _log_locations(self, hz: list, sel: np.ndarray | None = None) -> np.ndarray:
        """(J, M) ``log(lambda0_k / H z(|y_j - x|))`` of the detections (``sel`` of them),
        each with its occasion group's parameters."""
        ii, ss, kk = self.det
        if sel is None:
            sel = np.arange(ii.size)
        d2 = self.d2_det[sel] if sel.size != ii.size else self.d2_det
        with np.errstate(divide="ignore"):
            if len(hz) == 1:  # no time effects: every detection at once, no copies
                _h, lam_h, sigma, z = hz[0]
                logz = np.log(_z1(self.fn, d2, sigma, z))
                logz += np.log(lam_h[kk[sel]])[:, None]
                return logz
            logz = np.empty((sel.size, self.M))
            dg = self._grp[ss[sel]]
            for g, (_h, lam_h, sigma, z) in enumerate(hz):
                at = dg == g
                if at.any():
                    logz[at] = np.log(_z1(self.fn, d2[at], sigma, z))
                    logz[at] += np.log(lam_h[kk[sel][at]])[:, None]
        return logz

    def class_loglik(self, pars):
        """Log Pr(history_i | x_m) (n, M) and p.(x_m) (M,) for one class (module doc);
        ``pars`` per state (two with the learned response ``b``)."""
        if len(pars) != 1 and self.response != "b":
            raise NotImplementedError(f"behavioural responses with {self.kind} detectors "
                                      "are not implemented")
        try:
            hzs = [self._hazards(p) for p in pars]
        except TooFineError:  # an absurd sigma tried by the optimiser: likelihood -inf
            return np.full((self.n, self.M), -np.inf), np.zeros(self.M)
        Hs = [self._occasion_hazards(hz) for hz in hzs] if (
            self.exclusive or len(pars) == 2) else None
        if Hs is not None:
            Htot = Hs[0].sum(axis=0)
        else:
            Htot = sum(u @ h[0] for u, h in zip(self._usage_by_group(), hzs[0], strict=True))
        pdot = -np.expm1(-Htot)
        if len(pars) == 2:
            # naive up to the first detection, state 1 after it: cumulative sums over
            # occasions give each animal's summed hazard
            c0, c1 = np.cumsum(Hs[0], axis=0), np.cumsum(Hs[1], axis=0)
            f = self.first  # every animal has a detection: f < S
            LL = -(c0[f] + (c1[-1][None, :] - c1[f]))
        else:
            LL = np.broadcast_to(-Htot, (self.n, self.M)).copy()
        if self.n == 0:
            return LL, pdot
        LL += self.const[:, None]
        if len(pars) == 1:
            LL += self.C @ self._log_locations(hzs[0])
        else:
            for hz, (sel, Csel) in zip(hzs, self._state_det, strict=True):
                if sel.size:
                    LL += Csel @ self._log_locations(hz, sel)
        if self.exclusive:
            so, Co = self.occ
            if len(pars) == 1:
                H = Hs[0][so]
            else:
                H = np.where((so > self.first[self._occ_animal])[:, None], Hs[1][so],
                             Hs[0][so])
            with np.errstate(divide="ignore"):
                LL += Co @ (np.log(-np.expm1(-H)) + H - np.log(H))
        return LL, pdot


def _one_value(vals: tuple, name: str, kind: str) -> float:
    if min(vals) != max(vals):
        raise NotImplementedError(f"{name} varying by detector with {kind} detectors is not "
                                  "implemented (lambda0 may vary)")
    return float(vals[0])


def _detections(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(animal, occasion, detector) of every detection, in ``CaptureHistory.detection_xy``
    order (np.nonzero order of the counts, repeated by count)."""
    i, s, k = np.nonzero(counts)
    reps = counts[i, s, k]
    return np.repeat(i, reps), np.repeat(s, reps), np.repeat(k, reps)


# ---------------------------------------------------------------------------- simulation
def simulate_area_capthist(
    geometry, detector: str, centres: np.ndarray, *, lambda0: float, sigma: float,
    n_occasions: int = 1, usage: np.ndarray | None = None, rng: np.random.Generator,
    session: str = "1",
):
    """Detections of animals with the given activity centres by area or line detectors
    under the hazard halfnormal (HHN) model of this module.

    Poisson detectors: on each occasion each animal's detections are a Poisson process of
    intensity ``T lambda0 z(|u - x|) / H`` on the detectors (for areas: ``Poisson(T lambda0)``
    bivariate normal points kept where they fall in an area; for lines: the number per
    line from its integral, the positions along it exactly, ``_Line.sample_hhn``).
    Exclusive detectors keep, per occasion, one of the animal's points at random (the
    first in time).

    The detected animals are labelled by their 1-based row in ``centres`` (``"1"``,
    ``"2"``, ...), so detections of the same centres by other methods can be linked.
    Returns None when no animal is detected.
    """
    import shapely

    from amurlink.analysis.secr.capthist import CaptureHistory

    geoms = [detector_geometry(g, detector, str(k + 1)) for k, g in enumerate(geometry)]
    K = len(geoms)
    T = np.ones((K, n_occasions)) if usage is None else np.asarray(usage, dtype=float)
    centres = np.asarray(centres, dtype=float)
    fn_hhn = get_detectfn("HHN")
    lines = [_Line(g) for g in geoms] if detector in TRANSECT_DETECTORS else None
    if lines is not None:
        Hn = normaliser(fn_hhn, sigma, None, 1)
        integ = detector_integrals(lines, centres, fn_hhn, sigma)  # (K, N)
    recs = []  # (animal, occasion, detector, x, y)
    for a, c in enumerate(centres):
        for s in range(n_occasions):
            pts = []
            if lines is None:
                for k in range(K):
                    if T[k, s] <= 0:
                        continue
                    m = rng.poisson(lambda0 * T[k, s])
                    p = c + sigma * rng.standard_normal((m, 2))
                    inside = shapely.contains_xy(geoms[k], p[:, 0], p[:, 1])
                    pts += [(k, *q) for q in p[inside]]
            else:
                for k, ln in enumerate(lines):
                    m = rng.poisson(T[k, s] * lambda0 * integ[k, a] / Hn)
                    if m:
                        pts += [(k, *p) for p in ln.sample_hhn(c, sigma, m, rng)]
            if detector.endswith("X") and len(pts) > 1:
                pts = [pts[rng.integers(len(pts))]]
            recs += [(a, s, *p) for p in pts]
    if not recs:
        return None
    r = np.array(recs, dtype=float)
    animals = np.unique(r[:, 0]).astype(int)
    remap = {a: i for i, a in enumerate(animals)}
    return CaptureHistory.from_locations(
        geoms, np.array([remap[int(a)] for a in r[:, 0]]), r[:, 1].astype(int),
        r[:, 2].astype(int), r[:, 3:5], detector=detector, n_occasions=n_occasions,
        usage=None if usage is None else T, animal_ids=[str(a + 1) for a in animals],
        session=session,
    )
