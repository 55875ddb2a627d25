"""The SECR log-likelihood (full and conditional), as secr 5.5.0 computes it; pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.special import gammaln, logsumexp

from amurlink.analysis.secr._design import Design
from amurlink.analysis.secr._terms import ClassLoglikCache, _logmult, _lse_rows
from amurlink.analysis.secr.capthist import CaptureHistory
from amurlink.analysis.secr.detectfn import DetectFn, get_detectfn, signal_mean
from amurlink.analysis.secr.mask import Mask
from amurlink.exceptions import DataError

__all__ = ["secr_loglik", "LogLikelihood", "as_sessions"]


def as_sessions(
    capthist: CaptureHistory | Sequence[CaptureHistory],
    mask: Mask | Sequence[Mask],
) -> tuple[list[CaptureHistory], list[Mask]]:
    """Normalise one or several sessions and their masks (one shared mask is allowed)."""
    sessions = [capthist] if isinstance(capthist, CaptureHistory) else list(capthist)
    if not sessions or not all(isinstance(c, CaptureHistory) for c in sessions):
        raise TypeError("capthist must be a CaptureHistory or a sequence of them")
    labels = [c.session for c in sessions]
    if len(set(labels)) != len(labels):
        raise ValueError(f"session labels must be unique, got {labels}")
    if isinstance(mask, Mask):
        masks = [mask] * len(sessions)
    else:
        masks = list(mask)
        if isinstance(mask, Mapping):
            masks = [mask[c.session] for c in sessions]
        if len(masks) != len(sessions):
            raise ValueError(f"{len(sessions)} sessions but {len(masks)} masks")
    return sessions, masks


def _distance_codes(traps: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Index (K, M) of each squared distance into its distinct (dx^2, dy^2) pairs, and the
    squared distance of each pair; ``None`` when the coordinates are not lattice-like.

    ``dx^2`` takes one value per pair of distinct detector and mask x coordinates (a small
    table on lattices), so the pairs are found without hashing all K x M distances. The
    value of a pair is ``dx * dx + dy * dy``, computed as for the full array.
    """
    K, M = traps.shape[0], xy.shape[0]
    parts = []
    for c in range(2):
        ut, it = np.unique(traps[:, c], return_inverse=True)
        um, im = np.unique(xy[:, c], return_inverse=True)
        sq = ut[:, None] - um[None, :]
        sq = sq * sq
        code, vals = pd.factorize(sq.reshape(-1))
        parts.append((code.reshape(sq.shape)[it.reshape(-1)], im.reshape(-1),
                      np.asarray(vals, dtype=float)))
    (cx, imx, vx), (cy, imy, vy) = parts
    ny = vy.size
    if vx.size * ny > 2 * K * M:  # irregular coordinates: the tables would be too large
        return None
    code = cx[:, imx].astype(np.int64) * ny + cy[:, imy]
    used = np.zeros(vx.size * ny, dtype=bool)
    used[code.reshape(-1)] = True
    idx = np.flatnonzero(used)
    if idx.size > 0.5 * K * M:
        return None
    # pairs with equal dx^2 + dy^2 (e.g. 3-4-5 triangles) share one value
    dcode, d2u = pd.factorize(vx[idx // ny] + vy[idx % ny])
    remap = np.zeros(vx.size * ny, dtype=np.intp)
    remap[idx] = dcode
    return remap[code], np.asarray(d2u, dtype=float)


def _csr(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]):
    return sp.csr_matrix((vals.astype(float), (rows, cols)), shape=shape)


@dataclass
class _Terms:
    """Sparse maps from per-row arrays to per-animal sums, for one parameter state."""

    keys: np.ndarray  # rows (detectors or occasions) to gather
    C: sp.csr_matrix  # n x len(keys) weights


def collapses_over_occasions(
    capthist: CaptureHistory | Sequence[CaptureHistory],
    mask: Mask | Sequence[Mask],
    *,
    detectfn: str | int = "HN",
    model: Mapping[str, str] | None = None,
    link: Mapping[str, str] | None = None,
    conditional: bool = False,
    hcov: str | None = None,
    timecov: Any = None,
    fastproximity: bool = True,
) -> bool:
    """Whether :class:`LogLikelihood` collapses these data over occasions (secr's
    ``fastproximity``) under this model: proximity or count detectors, no learned or transient
    response, no time effect, one detector type on every occasion, no removals.

    A collapsed log-likelihood lacks the data's constant over occasions (for count detectors
    the multinomial split of each animal's count at a detector over the occasions; for
    proximity the binomial coefficient), so it cannot be compared with an uncollapsed one:
    secr's ``AICcompatible`` flags exactly this. Models compared by AIC must agree here.
    """
    if not fastproximity:
        return False
    sessions, masks = as_sessions(capthist, mask)
    design = Design(sessions, masks, detectfn=get_detectfn(detectfn), model=model, link=link,
                    conditional=conditional, hcov=hcov, timecov=timecov)
    if design.has_time or design.learned is not None:
        return False
    # area and line detectors are never collapsed: what matters is the point detectors
    # beside them (linked methods); with none, nothing collapses
    sessions = [ch for ch in sessions if ch.geometry is None]
    if not sessions:
        return False
    for ch in sessions:
        kind = "multi" if ch.detector in ("multi", "single") else ch.detector
        if (kind not in ("proximity", "count") or ch.occasion_detectors is not None
                or bool(np.any(ch.dead >= 0))):
            return False
    return True


def _binomial_sizes(ch: CaptureHistory, usage: np.ndarray, binomN: int, learned: str | None,
                    has_dead: bool) -> tuple[np.ndarray, np.ndarray]:
    """secr's binomial counts (``binomN``; ``pski``): the size of each detector and occasion
    and the usage in the exponent. ``binomN = 1``: size = round(usage), probability g;
    ``binomN > 1``: size = binomN, probability ``1 - (1 - g)^usage``. Refuses what is not
    built with them and counts above the size."""
    if ch.detector != "count":
        raise ValueError(f"binomN applies to count detectors, not {ch.detector!r}")
    if binomN < 0:
        raise ValueError(f"binomN must be 0 (Poisson), 1 (size from usage) or > 1, got "
                         f"{binomN}")
    if has_dead or ch.occasion_detectors is not None:
        raise NotImplementedError("binomial counts with removals or mixed detector occasions "
                                  "are not implemented")
    if binomN == 1:
        size, u_eff = np.round(usage), np.ones_like(usage)
    else:
        size, u_eff = np.where(usage > 0, float(binomN), 0.0), usage
    over = ch.counts > size.T[None, :, :]
    if over.any():
        i, s, k = np.argwhere(over)[0]
        raise DataError(f"animal {ch.animal_ids[i]!r} has {ch.counts[i, s, k]} detections at "
                        f"detector {ch.trap_ids[k]!r} on occasion {s + 1}, more than the "
                        f"binomial size {size[k, s]:g} (binomN = {binomN}); use binomN = 0 "
                        "(Poisson) or fix the size")
    return size, u_eff


class _Session(ClassLoglikCache):
    """Precomputed data of one session: distances, records of detected pairs, constants."""

    def __init__(
        self,
        ch: CaptureHistory,
        mask: Mask,
        detectfn: DetectFn,
        *,
        fastproximity: bool,
        learned: str | None,
        n_states: int,
        binomN: int = 0,
    ) -> None:
        self.ch = ch
        self.mask = mask
        self.fn = detectfn
        kind = "multi" if ch.detector in ("multi", "single") else ch.detector
        self.kind = kind
        n, S, K = ch.counts.shape
        self.n, self.S, self.K = n, S, K
        self.M = mask.n_points
        self.area = mask.cell_area_ha
        # Detectors and mask points on lattices repeat the same distances many times: the
        # detection arrays are computed on the distinct values and gathered (elementwise, so
        # the result is bitwise identical to computing them on the full (K, M) array).
        self.inv = None
        self._d2 = None
        self._memo: dict = {}  # see class_loglik_cached
        self._inv_rows: dict = {}  # id(rows) -> (rows, inv[rows]), theta-independent
        self._bmats: dict = {}
        self._bt_index = None
        if K * self.M >= 4096:
            coded = _distance_codes(ch.traps, mask.xy)
            if coded is not None:
                self.inv, self.d2u = coded
            else:
                codes, uniq = pd.factorize(self.d2.reshape(-1))
                if uniq.size <= 0.5 * self.d2.size:
                    self.inv = codes.astype(np.intp).reshape(self.d2.shape)
                    self.d2u = np.asarray(uniq, dtype=float)
            if self.inv is not None:
                self.du = np.sqrt(self.d2u) if detectfn.uses_distance else None
                self._d2 = None  # only the distinct values are used from here on
        self.d = (np.sqrt(self.d2) if detectfn.uses_distance and self.inv is None
                  else None)
        usage = ch.usage_or_ones  # (K, S)
        self.usage = usage
        has_dead = bool(np.any(ch.dead >= 0))
        self.cutval = 0.0 if ch.cutval is None else float(ch.cutval)
        self.sig = None
        if kind == "signal":
            # secr's signal likelihood (prwisignal.cpp): binary detections as proximity, each
            # measured signal adding log(dnorm(signal - mu(d), sdS) / g(d)) (below)
            kind = self.kind = "proximity"
            fastproximity = False
            si, ss_, sk = np.nonzero(~np.isnan(ch.signal))
            sv = ch.signal[si, ss_, sk]
            # number, sum and sum of squares of the signals per animal and detector
            self.sig = (_csr(si, sk, np.ones(si.size), (n, K)), _csr(si, sk, sv, (n, K)),
                        _csr(si, sk, sv * sv, (n, K)))
        self._binom = None
        if binomN:  # binomial counts: the proximity terms with sizes and weights (below)
            self._binom = _binomial_sizes(ch, usage, int(binomN), learned, has_dead)
            kind = self.kind = "proximity"
            fastproximity = False
        self.fast = (
            fastproximity and kind in ("proximity", "count") and learned is None and not has_dead
        )
        #: behavioural responses computed from the state of every (animal, occasion, detector)
        self.general = (learned in ("B", "Bk", "k", "K") or (learned == "bk" and kind == "multi")
                        or (self._binom is not None and learned is not None))
        if self.general and has_dead:
            raise NotImplementedError(f"behavioural response {learned} with removals (dead) "
                                      "is not implemented")
        self.learned = learned
        self.n_states = n_states
        counts = ch.counts
        if self.fast:
            T = np.floor(usage.sum(axis=1) + 1e-12)  # secr truncates summed usage to integer
            self.U = T
            Y = counts.sum(axis=1)  # (n, K)
            ii, kk = np.nonzero(Y)
            y = Y[ii, kk]
            ukeys, kidx = np.unique(kk, return_inverse=True)
            self.rec = {0: _Terms(ukeys, _csr(ii, kidx, y, (n, len(ukeys))))}
            if kind == "proximity":
                self.const = np.zeros(n)
                logc = gammaln(T[kk] + 1) - gammaln(y + 1) - gammaln(T[kk] - y + 1)
                np.add.at(self.const, ii, logc)
            else:
                self.const = np.zeros(n)
                logt = np.log(np.where(T[kk] > 0, T[kk], 1.0))
                np.add.at(self.const, ii, y * logt - gammaln(y + 1))
                self.zeroT = bool(np.any(T[kk] == 0))
            self.logmult = _logmult(Y)
            self.adjust = None
            return
        self.U = usage.sum(axis=1)
        # distinct usage columns: H_s = sum_k u_ks h_k is computed once per distinct column
        ucol, self.occ_to_col = np.unique(usage.T, axis=0, return_inverse=True)
        self.occ_to_col = self.occ_to_col.reshape(-1)
        self.usage_cols = ucol  # (C, K)
        # all detections (i, s, k, y)
        ii, ss, kk = np.nonzero(counts)
        y = counts[ii, ss, kk]
        u = usage[kk, ss]
        if self._binom is not None:
            size, u_eff = self._binom
            self.U = (size * u_eff).sum(axis=1)  # the non-detections: -sum N T h
            u = u_eff[kk, ss]
        # first-capture occasion per animal, first detection occasion per (animal, detector)
        firstocc = np.full(n, S, dtype=np.int64)
        np.minimum.at(firstocc, ii, ss)
        if learned == "b":
            state = (ss > firstocc[ii]).astype(np.int64)
        elif learned == "bk":
            fk = np.full((n, K), S, dtype=np.int64)
            np.minimum.at(fk, (ii, kk), ss)
            state = (ss > fk[ii, kk]).astype(np.int64)
            self._fk = fk
        else:
            state = np.zeros_like(ii)
        dead = np.where(ch.dead >= 0, ch.dead, S - 1)
        self.dead_last = dead  # last occasion that counts, per animal
        self.const = np.zeros(n)
        self.rec = {}
        self.occrec = {}
        self.occcol = {}
        for st in range(n_states):
            sel = state == st
            i_, s_, k_, y_, u_ = ii[sel], ss[sel], kk[sel], y[sel], u[sel]
            if kind == "proximity":
                # value depends on (k, u): log(1 - exp(-u h)) + u h (binomial counts: y times
                # it, plus log C(N, y))
                key = np.stack([k_, u_], axis=1)
                ukey, kidx = np.unique(key, axis=0, return_inverse=True)
                kidx = kidx.reshape(-1)
                w = np.ones_like(i_) if self._binom is None else y_
                self.rec[st] = _Terms(ukey, _csr(i_, kidx, w, (n, len(ukey))))
                if self._binom is not None:
                    N_ = self._binom[0][k_, s_]
                    np.add.at(self.const, i_, gammaln(N_ + 1) - gammaln(y_ + 1)
                              - gammaln(N_ - y_ + 1))
            elif kind == "count":
                ukeys, kidx = np.unique(k_, return_inverse=True)
                self.rec[st] = _Terms(ukeys, _csr(i_, kidx, y_, (n, len(ukeys))))
                np.add.at(self.const, i_, y_ * np.log(u_) - gammaln(y_ + 1))
            else:  # multi: log(1-exp(-H_s)) - log H_s + H_s + log u + log h_k
                ukeys, kidx = np.unique(k_, return_inverse=True)
                self.rec[st] = _Terms(ukeys, _csr(i_, kidx, np.ones_like(i_), (n, len(ukeys))))
                uo, oidx = np.unique(s_, return_inverse=True)
                self.occrec[st] = _Terms(uo, _csr(i_, oidx, np.ones_like(i_), (n, len(uo))))
                # the same per usage column: occasions with equal usage have equal H_s
                uc, cidx = np.unique(self.occ_to_col[s_], return_inverse=True)
                self.occcol[st] = _Terms(uc, _csr(i_, cidx.reshape(-1), np.ones_like(i_),
                                                  (n, len(uc))))
                np.add.at(self.const, i_, np.log(u_))
        # animals whose exposure differs from the whole session: deaths or learned response b
        if learned == "b":
            self.adjust = ("b", np.arange(n), firstocc, dead)
        elif has_dead:
            idx = np.flatnonzero(ch.dead >= 0)
            self.adjust = ("dead", idx, None, dead[idx])
        else:
            self.adjust = None
        if learned == "bk":
            # per detected (i, k): usage after first detection at k (up to the last occasion)
            pi, pk = np.nonzero(self._fk < S)
            cs = np.concatenate([np.zeros((K, 1)), np.cumsum(usage, axis=1)], axis=1)  # (K,S+1)
            after = cs[pk, dead[pi] + 1] - cs[pk, self._fk[pi, pk] + 1]
            ukeys, kidx = np.unique(pk, return_inverse=True)
            self.bk = _Terms(ukeys, _csr(pi, kidx, after, (n, len(ukeys))))
        keys = counts.reshape(n, -1)
        if has_dead:
            keys = np.concatenate([keys, ch.dead[:, None]], axis=1)
        self.logmult = _logmult(keys)
        if self.general:
            self._prepare_states()

    # ------------------------------------------------------------------ general responses
    def _prepare_states(self, occ_group: np.ndarray | None = None) -> None:
        """States of every (animal, occasion, detector) for b, B, bk, Bk, k, K (or none) and
        the sparse maps of the general likelihood (:meth:`_class_loglik_states`);
        ``occ_group`` maps occasions to groups of equal detection parameters (time effects).

        Individual responses (b, B, bk, Bk) leave an undetected animal naive; site responses
        (k, K) depend only on the detector's history (any animal), so they also change the
        hazard of animals never detected.
        """
        counts = self.ch.counts > 0
        n, S, K = counts.shape
        u = self.usage  # (K, S)
        u_det = u
        if self._binom is not None:  # binomial counts: totals sum N T h, detections use T
            size, u_det = self._binom
            u = size * u_det
        grp = (np.zeros(S, dtype=np.int64) if occ_group is None
               else np.asarray(occ_group, dtype=np.int64))
        self._grp = grp
        self._G = int(grp.max()) + 1
        self._timed = occ_group is not None
        any_k = counts.any(axis=0)  # (S, K) any animal at k on s
        prev = np.zeros_like(counts)
        prev[:, 1:] = counts[:, :-1]
        cum = np.zeros_like(counts)
        cum[:, 1:] = np.cumsum(counts, axis=1)[:, :-1] > 0  # caught at k before s
        lr = self.learned
        naive = np.zeros((S, K), dtype=bool)
        if lr is None:
            ind = np.zeros(counts.shape, dtype=bool)
        elif lr == "b":
            ind = np.broadcast_to(cum.any(axis=2, keepdims=True), counts.shape)
        elif lr == "B":
            ind = np.broadcast_to(prev.any(axis=2, keepdims=True), counts.shape)
        elif lr == "bk":
            ind = cum
        elif lr == "Bk":
            ind = prev
        else:
            if lr == "k":
                naive[1:] = np.cumsum(any_k, axis=0)[:-1] > 0
            else:  # K
                naive[1:] = any_k[:-1]
            ind = np.broadcast_to(naive[None], counts.shape)
        ind = np.asarray(ind, dtype=bool)
        self._naive = naive
        G = self._G
        # usage per group in naive state 0 and 1 (K,)
        self._U0 = [(u[:, grp == g] * ~naive[grp == g].T).sum(axis=1) for g in range(G)]
        self._U1 = [(u[:, grp == g] * naive[grp == g].T).sum(axis=1) for g in range(G)]
        # per animal and group: usage where its own state differs from the naive one
        diff = ind & ~naive[None]
        ii, ss, kk = np.nonzero(diff)
        self._A = [_csr(ii[grp[ss] == g], kk[grp[ss] == g], u[kk, ss][grp[ss] == g], (n, K))
                   for g in range(G)]
        # detections (i, s, k, y) with their state and group
        di, ds, dk = np.nonzero(self.ch.counts)
        y = self.ch.counts[di, ds, dk].astype(float)
        self._det = (di, ds, dk, y, ind[di, ds, dk], u_det[dk, ds], grp[ds])
        self._Cdet = _csr(di, np.arange(di.size), np.ones(di.size), (n, di.size))
        od = self.ch.occasion_detectors
        # per-detection detector type (occasions of several types: proximity, count, multi)
        self._mixed = od is not None
        if od is not None:
            occ_type = np.array([{"count": 1, "multi": 2, "single": 2}.get(v, 0) for v in od])
            self._det_type = occ_type[ds]  # 0 proximity, 1 count, 2 multi-catch
            self._multi_occ = np.flatnonzero(occ_type == 2)
        else:
            self._det_type = np.full(di.size, {"count": 1, "multi": 2}.get(self.kind, 0))
        self._det_count = self._det_type == 1
        const = np.zeros(n)
        if self.kind == "multi" and od is None:
            np.add.at(const, di, np.log(u[dk, ds]))
        else:
            c = self._det_count
            np.add.at(const, di[c], y[c] * np.log(u[dk[c], ds[c]]) - gammaln(y[c] + 1))
            m = self._det_type == 2  # multi-catch occasions: log u of the trap
            np.add.at(const, di[m], np.log(u[dk[m], ds[m]]))
        if self._binom is not None:  # log C(N, y)
            N_ = self._binom[0][dk, ds]
            np.add.at(const, di, gammaln(N_ + 1) - gammaln(y + 1) - gammaln(N_ - y + 1))
        self._gconst = const
        if self.kind == "multi":
            # detected (i, s) pairs: their total hazard adds the animal's state-1 detectors
            ps = ds  # one detection per (i, s) for multi-catch
            rows, cols = np.nonzero(diff[di, ps])  # pair index, detector
            vals = u[cols, ps[rows]]
            self._Bm = [_csr(rows[grp[ps[rows]] == g], cols[grp[ps[rows]] == g],
                             vals[grp[ps[rows]] == g], (ps.size, K)) for g in range(G)]
            self._pair_s = ps

    def _class_loglik_states(self, pars: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`class_loglik` for any behavioural response and time effects, from the
        per-(animal, occasion, detector) states (full (K, M) hazard arrays per state and
        occasion group). ``pars[state]`` is a parameter tuple, or with time effects a tuple
        of parameter tuples, one per occasion group."""
        G = self._G

        st_pars = [list(p) if self._timed else [p] for p in pars]
        if len(st_pars) == 1:
            st_pars = st_pars * 2  # no response: state 1 = state 0
        h0 = [self.gh(*q)[1] for q in st_pars[0]]
        same = st_pars[1] is st_pars[0]  # no behavioural response: one hazard per group
        h1 = h0 if same else [self.gh(*q)[1] for q in st_pars[1]]
        if same:  # skip the zero differences and a second product (mixed occasions, t, T)
            Hnaive_tot = sum((self._U0[g] + self._U1[g]) @ h0[g] for g in range(G))
        else:
            dh = [a - b for a, b in zip(h1, h0, strict=True)]
            Hnaive_tot = sum(self._U0[g] @ h0[g] + self._U1[g] @ h1[g] for g in range(G))
        pdot = -np.expm1(-Hnaive_tot)
        LL = np.broadcast_to(-Hnaive_tot, (self.n, self.M)).copy()
        if self.n == 0:
            return LL, pdot
        if not same:
            for g in range(G):
                if self._A[g].nnz:
                    LL -= self._A[g] @ dh[g]
        LL += self._gconst[:, None]
        di, ds, dk, y, st, ud, dg = self._det
        hd = np.empty((di.size, self.M))
        for g in range(G):
            sel = dg == g
            if sel.any():
                hd[sel] = (h0[g][dk[sel]] if same else
                           np.where(st[sel, None], h1[g][dk[sel]], h0[g][dk[sel]]))
        if self.kind != "multi" or self._mixed:
            term = np.empty_like(hd)
            typ = self._det_type
            p = typ == 0
            if p.any():  # proximity occasions (binomial counts: y times the term)
                uh = hd[p] * ud[p, None]
                term[p] = np.log(-np.expm1(-uh)) + uh
                if self._binom is not None:
                    term[p] *= y[p, None]
            c = typ == 1
            if c.any():
                term[c] = y[c, None] * np.log(hd[c])
            m = typ == 2
            if m.any():  # multi-catch occasions: the trap's share of the occasion's hazard
                u, grp = self.usage, self._grp
                Hs = np.zeros((self.S, self.M))
                for s_ in self._multi_occ:
                    Hs[s_] = u[:, s_] @ h0[grp[s_]]
                H = Hs[ds[m]]
                term[m] = np.log(hd[m]) + np.log(-np.expm1(-H)) + H - np.log(H)
        else:
            u = self.usage
            naive = self._naive
            grp = self._grp
            Hs = np.empty((self.S, self.M))
            for s_ in range(self.S):
                g = grp[s_]
                Hs[s_] = (u[:, s_] * ~naive[s_]) @ h0[g] + (u[:, s_] * naive[s_]) @ h1[g]
            H = Hs[self._pair_s]
            for g in range(G):
                if not same and self._Bm[g].nnz:
                    H = H + self._Bm[g] @ dh[g]
            term = np.log(hd) + np.log(-np.expm1(-H)) + H - np.log(H)
        LL += self._Cdet @ term
        return LL, pdot

    def set_distances(self, d: np.ndarray) -> None:
        """Replace the detector-to-mask distances (K, M), e.g. by non-Euclidean ones; the
        caches that depend on them are dropped."""
        d = np.asarray(d, dtype=float)
        self.inv = None
        self._d2 = d * d
        self.d = d if self.fn.uses_distance else None
        self._memo.clear()
        self._inv_rows.clear()
        self._bmats.clear()

    @property
    def d2(self) -> np.ndarray:
        """(K, M) squared distances from the detectors to the mask points."""
        if self._d2 is None:
            if self.inv is not None:
                return self.d2u[self.inv]
            tr, xy = self.ch.traps, self.mask.xy
            dx = tr[:, 0, None] - xy[None, :, 0]
            dy = tr[:, 1, None] - xy[None, :, 1]
            self._d2 = dx * dx + dy * dy
        return self._d2

    # --------------------------------------------------------------------------------------
    def gh(self, intercept: float, sigma: float, z: float | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
        """Probability (None for hazard functions) and hazard arrays (K, M)."""
        g, h = self.gh_values(intercept, sigma, z)
        if self.inv is None:
            return g, h
        return (None if g is None else g[self.inv]), h[self.inv]

    def gh_values(self, intercept: float, sigma: float, z: float | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Probability (None for hazard functions) and hazard at the distinct distances.

        With ``self.inv`` set these are 1-D arrays indexed by ``self.inv``; otherwise the
        full (K, M) arrays. ``z`` is the shape parameter of HR, HHR and HVP.
        """
        fn = self.fn
        if fn.signal:
            return self._signal_gh(intercept, sigma, z)
        if isinstance(intercept, tuple):  # per detector (detector covariates): (K, 1)
            intercept = np.asarray(intercept, dtype=float)[:, None]
        if isinstance(sigma, tuple):
            sigma = np.asarray(sigma, dtype=float)[:, None]
        if isinstance(z, tuple):
            z = np.asarray(z, dtype=float)[:, None]
        uniq = self.inv is not None
        # exponents below -700 are clipped: they give hazards < 1e-304 that cannot change any
        # sum, and avoid the slow path of exp() for underflowing arguments
        if fn.shape == "halfnormal":
            d2 = self.d2u if uniq else self.d2
            core = np.exp(np.maximum(d2 * (-0.5 / (sigma * sigma)), -700.0))
        elif fn.shape == "exponential":
            d = self.du if uniq else self.d
            core = np.exp(np.maximum(d * (-1.0 / sigma), -700.0))
        else:
            core = fn.core(self.du if uniq else self.d, None, sigma, z)
        if fn.hazard:
            h = core
            h *= intercept
            return None, h  # g = 1 - exp(-h) is computed only where needed
        g = core
        g *= intercept
        h = -np.log1p(-g)
        return g, h

    def _signal_gh(self, a, b, c) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`gh_values` of the signal-strength functions (BSS, SS, SSS), whose g is not
        an intercept times a shape (detector covariates: (K, 1) values on the (K, M) grid,
        which the likelihood uses then)."""
        a, b, c = (np.asarray(v, dtype=float)[:, None] if isinstance(v, tuple) else v
                   for v in (a, b, c))
        d = np.sqrt(self.d2u if self.inv is not None else self.d2)
        return self.fn.signal_g(d, a, b, c, self.cutval)

    def _rows_index(self, rows: np.ndarray) -> np.ndarray:
        """``inv[rows]``, cached (theta-independent)."""
        key = id(rows)
        cached = self._inv_rows.get(key)
        if cached is None or cached[0] is not rows:
            cached = (rows, self.inv[rows])
            self._inv_rows[key] = cached
        return cached[1]

    def _rows(self, vals: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Rows of a (K, M) array given by its values at the distinct distances."""
        if self.inv is None:
            return vals[rows]
        return vals[self._rows_index(rows)]

    def weighted_sum(self, vec: np.ndarray, vals: np.ndarray) -> np.ndarray:
        """``vec @ A`` (M,) for the (K, M) array A given by ``gh_values``-style ``vals``."""
        if self.inv is None:
            return vec @ vals
        return self.bmat(vec).T @ vals

    def bmat(self, vec: np.ndarray) -> sp.csr_matrix:
        """Sparse (distinct distances x M) map B with ``B @ R = sum over (k, m) with
        inv[k, m] = j of vec[k] R[m]`` (cached per ``vec``; theta-independent)."""
        key = vec.tobytes()
        B = self._bmats.get(key)
        if B is None:
            # B transposed is a CSR matrix (M x distinct) with row m = inv[:, m]: built without
            # sorting (repeated columns in a row are summed by the products)
            K, M = self.inv.shape
            if self._bt_index is None:  # the sparsity structure is shared by all vectors
                self._bt_index = (np.ascontiguousarray(self.inv.T).reshape(-1),
                                  np.arange(0, K * M + 1, K))
            Bt = sp.csr_matrix(
                (np.tile(vec.astype(float), M), *self._bt_index),
                shape=(M, self.d2u.size),
            )
            B = Bt.T
            self._bmats[key] = B
        return B

    def g_rows(self, g: np.ndarray | None, h: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Probability at the given detector rows (derived from h for hazard functions)."""
        return -np.expm1(-h[rows]) if g is None else g[rows]

    def class_loglik(
        self, pars: list[tuple[float, float]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Log Pr(history_i | x_m) (n, M) and p.(x_m) (M,) for one class; ``pars`` per state."""
        if self.fast and self.inv is not None:
            # fast path on the distinct distances: per-row terms are computed elementwise on
            # the distinct values and gathered (bitwise identical to the full computation)
            g0, h0 = self.gh_values(*pars[0])
            Htot = self.weighted_sum(self.U, h0)  # (M,)
            LL = np.broadcast_to(-Htot, (self.n, self.M)).copy()
            pdot = -np.expm1(-Htot)
            if self.n == 0:
                return LL, pdot
            LL += self.const[:, None]
            t = self.rec[0]
            if self.kind == "proximity":
                gv = -np.expm1(-h0) if g0 is None else g0
                LL += t.C @ self._rows(np.log(gv) + h0, t.keys)
            else:
                LL += t.C @ self._rows(np.log(h0), t.keys)
            return LL, pdot
        if self.general:
            return self._class_loglik_states(pars)
        vals = [self.gh_values(*p) for p in pars]
        if self.inv is not None and self.kind == "multi" and self.learned != "bk":
            return self._multi_loglik(pars, vals)
        if self.inv is None:
            arrs = vals
        else:  # probabilities are not needed on the full grid below
            arrs = [(None, h[self.inv]) for _g, h in vals]
        g0, h0 = arrs[0]
        Htot = self.U @ h0  # (M,)
        LL = np.broadcast_to(-Htot, (self.n, self.M)).copy()
        pdot = -np.expm1(-Htot)
        if self.n == 0:
            return LL, pdot
        LL += self.const[:, None]
        if self.fast:
            t = self.rec[0]
            if self.kind == "proximity":
                LL += t.C @ (np.log(self.g_rows(g0, h0, t.keys)) + h0[t.keys])
            else:
                LL += t.C @ np.log(h0[t.keys])
            return LL, pdot
        Hs = None
        if self.kind == "multi":
            Hs = [(self.usage_cols @ h)[self.occ_to_col] for _, h in arrs]  # (S, M) per state
        for st, (_g, h) in enumerate(arrs):
            t = self.rec.get(st)
            if t is None or t.C.nnz == 0:
                continue
            if self.kind == "proximity":
                kk = t.keys[:, 0].astype(np.int64)
                uh = h[kk] * t.keys[:, 1][:, None]
                LL += t.C @ (np.log(-np.expm1(-uh)) + uh)
            elif self.kind == "count":
                LL += t.C @ self._rows(np.log(vals[st][1]), t.keys)
            else:
                LL += t.C @ self._rows(np.log(vals[st][1]), t.keys)
                o = self.occrec[st]
                H = Hs[st][o.keys]
                LL += o.C @ (np.log(-np.expm1(-H)) + H - np.log(H))
        if self.adjust is not None:
            if Hs is None:
                self._add_suffix_terms(LL, [h for _, h in arrs])
            else:
                self._add_response_terms(LL, Hs)
        if self.learned == "bk":
            (_, h0_), (_, h1_) = arrs
            t = self.bk
            LL += t.C @ (h0_[t.keys] - h1_[t.keys])
        if self.sig is not None and self.n and self.sig[0].nnz:
            LL += self._signal_terms(*pars[0])
        return LL, pdot

    def _signal_terms(self, beta0, beta1, sdS) -> np.ndarray:
        """(n, M) sum over each animal's measured signals of ``log dnorm(signal - mu(d),
        sdS) - log g(d)``: the proximity terms hold ``log g`` for every detection, so a
        detection with a signal contributes secr's normal density of the signal instead
        (prwisignal.cpp; detections without a measured signal keep ``log g``).

        Everything that depends on the mask point is per detector: with ``c``, ``s1``,
        ``s2`` the number, sum and sum of squares of an animal's signals at detector k,
        ``sum_j (s_j - mu_k)^2 = s2 - 2 s1 mu_k + c mu_k^2``, so three sparse (n, K) products
        with (K, M) arrays replace an array per detection."""
        from scipy.special import log_ndtr

        Cn, S1, S2 = self.sig
        K = self.K

        def per_k(v):  # a float, or a tuple per detector (detector covariates): (K, 1)
            return np.asarray(v, dtype=float)[:, None] if isinstance(v, tuple) else float(v)

        b0, b1, sd = per_k(beta0), per_k(beta1), per_k(sdS)
        d = np.sqrt(self.d2u if self.inv is not None else self.d2)
        sph = self.fn.shape == "signalsph"
        mu = signal_mean(d, b0, b1, spherical=sph)  # clamped within 1 m, as secr's mufnL
        mu_g = signal_mean(d, b0, b1, spherical=sph, clamp=False) if sph else mu
        w = 1.0 / (sd * sd)
        lg = log_ndtr((mu_g - self.cutval) / sd)
        if self.inv is not None:
            mu, lg = mu[self.inv], lg[self.inv]
        # per detector (K, 1), also when sdS is one value: the s2 and constant terms are
        # then (n,) products, negligible beside the (n, K) x (K, M) ones
        wk = np.broadcast_to(w, (K, 1))
        out = Cn @ (mu * mu * (-0.5 * wk) - lg) + S1 @ (mu * wk)
        out += (-0.5 * (S2 @ wk[:, 0])
                - Cn @ (0.5 * np.log(2 * np.pi) + np.log(np.broadcast_to(sd, (K, 1))))[:, 0]
                )[:, None]
        return out

    def usage_col_sums(self, h: np.ndarray) -> np.ndarray:
        """(C, M) summed hazard ``sum_k u_ck h_k(x_m)`` per distinct usage column, from the
        hazard at the distinct distances (sparse maps; single-threaded, no (K, M) array)."""
        return np.stack([self.weighted_sum(uc, h) for uc in self.usage_cols])

    def _multi_loglik(
        self, pars: list[tuple[float, float]], vals: list[tuple[np.ndarray | None, np.ndarray]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`class_loglik` for multi-catch detectors on the distinct distances.

        Every sum over detectors goes through the theta-independent sparse maps of
        :meth:`bmat`; the total hazard of occasion s is ``H_c(s)``, and the summed hazard over
        occasions is ``sum_c n_c H_c`` (``n_c`` occasions with usage column c).
        """
        Hcs = [self.usage_col_sums(h) for _g, h in vals]  # (C, M) per state
        self._hc_last = (tuple(pars), Hcs[0])  # reused by the analytic gradient
        ncol = np.bincount(self.occ_to_col, minlength=self.usage_cols.shape[0]).astype(float)
        Htot = ncol @ Hcs[0] if ncol.size > 1 else ncol[0] * Hcs[0][0]
        LL = np.empty((self.n, self.M))
        LL[:] = -Htot
        pdot = -np.expm1(-Htot)
        if self.n == 0:
            return LL, pdot
        LL += self.const[:, None]
        for st, (_g, h) in enumerate(vals):
            t = self.rec.get(st)
            if t is None or t.C.nnz == 0:
                continue
            LL += t.C @ self._rows(np.log(h), t.keys)
            o = self.occcol[st]  # detections per animal and usage column
            H = Hcs[st][o.keys]
            LL += o.C @ (np.log(-np.expm1(-H)) + H - np.log(H))
        if self.adjust is not None:
            self._add_response_terms(LL, [Hc[self.occ_to_col] for Hc in Hcs])
        return LL, pdot

    def _add_suffix_terms(self, LL: np.ndarray, hs: list[np.ndarray]) -> None:
        """:meth:`_add_response_terms` for proximity/count detectors from the (K, M) hazards:
        the summed hazard from occasion s on is ``w_s @ h`` with ``w_s`` the usage summed
        over occasions >= s, needed only at the animals' first-capture + 1 and last + 1
        occasions (not the (S, M) hazard of every occasion)."""
        kind, idx, first, last = self.adjust
        if getattr(self, "_suffix", None) is None:
            u = self.usage  # (K, S)
            wsuf = np.concatenate([np.cumsum(u[:, ::-1], axis=1)[:, ::-1],
                                   np.zeros((u.shape[0], 1))], axis=1)  # (K, S + 1)
            at = [last + 1] if kind != "b" else [first + 1, last + 1]
            need = np.unique(np.concatenate(at))
            self._suffix = (np.ascontiguousarray(wsuf[:, need].T),
                            [np.searchsorted(need, a) for a in at])
        wn, pos = self._suffix
        if kind == "b":
            s0, s1 = wn @ hs[0], wn @ hs[1]
            pf, pl = pos
            LL[idx] += (s0[pf] - s1[pf]) + s1[pl]
        else:
            LL[idx] += (wn @ hs[0])[pos[0]]

    def _add_response_terms(self, LL: np.ndarray, Hs: list[np.ndarray]) -> None:
        """Add, in place, the learned-response correction of the summed hazard.

        ``Hs[state]`` is the (S, M) hazard per occasion (state 0 naive, 1 after the first
        capture); ``self.adjust`` is ``(kind, rows, first, last)``: for ``b`` an animal's
        occasions after its first capture use the state-1 hazard instead of the state-0 one.
        """
        kind, idx, first, last = self.adjust
        suf = [np.concatenate([np.cumsum(H[::-1], axis=0)[::-1], np.zeros((1, self.M))])
               for H in Hs]  # suf[s] = sum over occasions >= s
        if kind == "b":
            s0, s1 = suf[0], suf[1]
            LL[idx] += (s0[first + 1] - s1[first + 1]) + s1[last + 1]
        else:
            LL[idx] += suf[0][last + 1]


def _loglik_session(
    ses: _Session,
    pars: list[list[tuple[float, float]]],
    D: np.ndarray | None,
    pmix: np.ndarray,
    knownclass: np.ndarray,
    conditional: bool,
    distribution: str,
    keep: dict | None = None,
    membership: bool = True,
) -> float:
    """Log-likelihood of one session. ``membership=False``: known classes are levels of an
    individual covariate (no mixing proportion, no class-membership term)."""
    n, M = ses.n, ses.M
    nmix = len(pars)
    if D is not None:
        total = D.sum()
        if not np.isfinite(total) or total <= 0:
            return -np.inf
    uniform = D is None or D.min() == D.max()
    if uniform:
        logpi = np.full(M, -np.log(M))
    else:
        with np.errstate(divide="ignore"):
            logpi = np.log(D) - np.log(total)
    log_prw = np.full((nmix, n), -np.inf)
    pdot_x = np.empty(nmix)
    for x in range(nmix):
        if uniform:
            # log sum_m pi_m Pr(w_i | x_m) = lse_m(LL) - log M: the lse does not depend on D
            # and is cached with the class terms (same bits with or without the gradient)
            if keep is None:
                lse0, pdot_m = ses.class_lse_cached(pars[x])
            else:
                # the weights exp(LL + logpi - lp) = E / E.sum(1) come with the lse
                lse0, pdot_m, E, esum = ses.class_lse_cached(pars[x], weights=True)
                keep.update(W=E, wsum_rows=esum)
                LL = None
            if n:
                log_prw[x] = lse0 - np.log(M)
            pdot_x[x] = float(pdot_m.sum() / M)
        else:
            LL, pdot_m = ses.class_loglik_cached(pars[x])
            if n:
                LL += logpi[None, :]
                log_prw[x] = _lse_rows(LL)
            pdot_x[x] = float(pdot_m @ np.exp(logpi))
        if keep is not None:  # intermediates for the analytic gradient (one class)
            keep.update(LL=LL, lp=log_prw[x], pdot_m=pdot_m, logpi=logpi, pdot=pdot_x[x])
    # membership: known class -> indicator, unknown -> pmix
    if nmix == 1:
        lp = log_prw[0]
        pdot_i = np.full(n, pdot_x[0])
    else:
        w = np.tile(pmix, (n, 1))
        kc = knownclass
        known = kc >= 0
        w[known] = 0.0
        w[known, kc[known]] = 1.0
        with np.errstate(divide="ignore"):
            lp = logsumexp(log_prw.T + np.log(w), axis=1)
        pdot_i = w @ pdot_x
    if ses.fast and ses.kind == "count" and getattr(ses, "zeroT", False):
        return -np.inf
    ll = float(lp.sum() - np.log(pdot_i).sum()) if n else 0.0
    if not conditional:
        N = float(D.sum() * ses.area)
        meanpdot = n / np.sum(1.0 / pdot_i) if n else pdot_x @ pmix
        mu = N * meanpdot
        if distribution == "poisson":
            ll += n * np.log(mu) - mu - gammaln(n + 1)
        else:  # binomial
            if N < n:
                return -np.inf
            ll += (gammaln(N + 1) - gammaln(n + 1) - gammaln(N - n + 1)
                   + n * np.log(meanpdot) + (N - n) * np.log1p(-meanpdot))
    if membership and nmix > 1 and np.any(knownclass >= 0):
        nm = np.bincount(knownclass[knownclass >= 0], minlength=nmix)
        present = [x for x in range(nmix) if nm[x] > 0]
        pdpmix = pdot_x[present] * pmix[present]
        ll += float(np.sum(nm[present] * np.log(pdpmix / pdpmix.sum())))
    return ll + ses.logmult


def _check_area_model(design: Design, sessions: list[CaptureHistory], *,
                      linked: bool = False) -> None:
    """Refuse, with a clear message, the parts of the model not built for area and line
    detectors (behavioural responses other than b, noneuc, and, unless the sessions are
    linked methods of the same animals, sessions of point detectors beside them)."""
    kinds = sorted({ch.detector for ch in sessions})
    if not linked and any(ch.geometry is None for ch in sessions):
        raise NotImplementedError(f"sessions of area or line detectors cannot be fitted with "
                                  f"sessions of point detectors in one model (got {kinds}); "
                                  "for two methods of the same animals use linked=True")
    missing = [m for m in design.special_parts(mixtures=False) if not m.startswith("time")
               and not (design.learned == "b" and m.startswith("behavioural"))]
    if missing:
        raise NotImplementedError(f"{', '.join(missing)} with {'/'.join(kinds)} detectors "
                                  "is not implemented")


def _check_signal_model(design: Design, sessions: list[CaptureHistory], *, binomN: int,
                        linked: bool) -> None:
    """Signal detectors go with the signal-strength functions SS and SSS and those with
    them (as in secr); BSS with any point binary detector. Refuse, with a clear message, what
    is not built for them."""
    fn = design.detectfn
    kinds = sorted({ch.detector for ch in sessions})
    has_signal = "signal" in kinds
    if fn.shape in ("signal", "signalsph") and kinds != ["signal"]:
        raise ValueError(f"detection function {fn.name} models measured signal strengths: it "
                         f"needs signal detectors (got {', '.join(kinds)}); for binary "
                         "detections use BSS (9)")
    if has_signal and fn.shape not in ("signal", "signalsph"):
        raise ValueError(f"signal detectors are fitted with the signal-strength functions SS "
                         f"(10) or SSS (11), not {fn.name}")
    if fn.signal and any(ch.geometry is not None for ch in sessions):
        raise NotImplementedError(f"{fn.name} with area or line detectors is not implemented")
    if has_signal:
        missing = list(design.special_parts(mixtures=False))
        if binomN:
            missing.append("binomial counts (binomN)")
        if linked:
            missing.append("linked methods")
        if any(np.any(ch.dead >= 0) for ch in sessions):
            missing.append("removals (dead)")
        if missing:
            raise NotImplementedError(f"{', '.join(missing)} with signal detectors is not "
                                      "implemented")


class LogLikelihood:
    """A prepared SECR log-likelihood: call it with a beta vector (link scale).

    Preparation (distances, detected pairs, constants) happens once; each call computes the
    detection arrays and the per-animal terms for the given parameters.

    Parameters
    ----------
    capthist : CaptureHistory or sequence of CaptureHistory
        One session or several sessions (parameters shared unless the model says otherwise).
    mask : Mask or sequence of Mask
        Habitat mask, one shared or one per session.
    detectfn : {"HN", "HHN", "EX", "HEX"}
        Detection function.
    conditional : bool
        Conditional likelihood (density not a parameter).
    model, link, hcov : see :class:`SECR`.
    fastproximity : bool
        Collapse proximity and count data over occasions where secr does.
    distribution : {"poisson", "binomial"}
        Distribution of the number of animals in the mask (full likelihood).
    linked : bool
        The sessions are methods (e.g. cameras and a DNA search) applied to the same animals,
        matched by ``animal_ids``: one density, one linked session
        (:mod:`amurlink.analysis.secr.linked`).
    binomN : int
        Count detectors: 0 Poisson counts (default); 1 binomial with size the usage; > 1
        binomial of that size per occasion, as secr's ``binomN``.
    """

    def __init__(
        self,
        capthist: CaptureHistory | Sequence[CaptureHistory],
        mask: Mask | Sequence[Mask],
        *,
        detectfn: str | int = "HN",
        conditional: bool = False,
        model: Mapping[str, str] | None = None,
        link: Mapping[str, str] | None = None,
        hcov: str | None = None,
        fastproximity: bool = True,
        distribution: str = "poisson",
        timecov: Any = None,
        linked: bool = False,
        binomN: int = 0,
    ) -> None:
        sessions, masks = as_sessions(capthist, mask)
        fn = get_detectfn(detectfn)
        self.design = Design(
            sessions, masks, detectfn=fn, model=model, link=link, conditional=conditional,
            hcov=hcov, timecov=timecov,
        )
        if distribution not in ("poisson", "binomial"):
            raise ValueError(f"distribution must be 'poisson' or 'binomial', got {distribution!r}")
        self.distribution = distribution
        self.conditional = bool(conditional)
        timed = self.design.has_time
        mixed = any(ch.occasion_detectors is not None for ch in sessions)
        if self.design.learned is not None and any(
                ch.occasion_detectors is not None
                and {"multi", "single"} & set(ch.occasion_detectors) for ch in sessions):
            raise NotImplementedError("behavioural responses with multi-catch occasions "
                                      "among other detector types are not implemented")
        area = [ch.geometry is not None for ch in sessions]
        if binomN and any(area):
            raise NotImplementedError("binomial counts (binomN) with area and line detectors "
                                      "are not implemented")
        _check_signal_model(self.design, sessions, binomN=binomN, linked=bool(linked))
        self.linked = bool(linked)
        if self.linked:
            from amurlink.analysis.secr.linked import check_linked

            check_linked(self.design, sessions, masks)
        if any(area):
            _check_area_model(self.design, sessions, linked=self.linked)
            from amurlink.analysis.secr.area import AreaSession
        self.sessions = [
            AreaSession(ch, m, fn, learned=self.design.learned) if is_area else
            _Session(ch, m, fn, fastproximity=fastproximity and not timed and not mixed,
                     learned=self.design.learned, n_states=self.design.n_states,
                     binomN=binomN)
            for ch, m, is_area in zip(sessions, masks, area, strict=True)
        ]
        self._tgroups: list = []
        if timed:  # time effects: the general state likelihood per occasion group
            for j, ses in enumerate(self.sessions):
                grp, rows = self.design.occasion_groups(j)
                ses.general = True
                if hasattr(ses, "set_occasion_groups"):  # area and line detectors
                    ses.set_occasion_groups(grp)
                else:
                    ses._prepare_states(grp)
                self._tgroups.append(rows)
        elif mixed:  # detector types that vary across occasions: the general likelihood
            for ses in self.sessions:
                ses.general = True
                ses._prepare_states()
        self.nevals = 0
        if self.linked:  # the methods of the same animals: one linked session
            from amurlink.analysis.secr.linked import LinkedSession

            self._parts = self.sessions
            self.sessions = [LinkedSession(self._parts, self.design.knownclass)]
        if self.design.has_kcov:  # per-detector parameters: full (K, M) distance arrays
            for ses in getattr(self, "_parts", self.sessions):
                if getattr(ses, "dim", None) is None:  # point detectors
                    ses.set_distances(np.sqrt(ses.d2))
        self._lcd = None
        self._noneuc_key: tuple | None = None
        self._dist_cache: dict = {}
        self._trees: dict = {}
        # analytic noneuc gradient (log link): through the shortest-path trees
        self._analytic_noneuc = self.design.has_noneuc and self.design.link["noneuc"] == "log"
        if self.design.has_noneuc:
            from amurlink.analysis.secr.noneuc import LeastCostDistance

            self._lcd = [LeastCostDistance(m.xy, m.spacing, ch.traps)
                         for ch, m in zip(sessions, masks, strict=True)]

    def set_noneuc(self, beta: np.ndarray) -> bool:
        """Least-cost distances for the ``noneuc`` betas of ``beta`` (the last few are
        cached on their values); False where the friction is not positive and finite."""
        if self._lcd is None:
            return True
        b = self.design.block_beta(np.asarray(beta, dtype=float), "noneuc")
        key = tuple(b.tolist())
        if key == self._noneuc_key:
            return True
        dists = self._dist_cache.get(key)
        if dists is None:
            fr = self.design.noneuc(np.asarray(beta, dtype=float))
            if not all(np.all(np.isfinite(f)) and np.all(f > 0) for f in fr):
                return False
            out = [lcd.distances(f, tree=True) for lcd, f in zip(self._lcd, fr, strict=True)]
            dists = [o[0] for o in out]
            if len(self._dist_cache) >= 6:
                old = next(iter(self._dist_cache))
                self._dist_cache.pop(old)
                self._trees.pop(old, None)
            self._dist_cache[key] = dists
            self._trees[key] = [o[1] for o in out]
        for ses, d in zip(self.sessions, dists, strict=True):
            ses.set_distances(d)
        self._noneuc_key = key
        return True

    def session_pars(self, beta: np.ndarray, j: int) -> list[list[tuple]] | None:
        """Detection parameters of session ``j`` per class and state: tuples
        ``(intercept, sigma[, z])`` of floats, or of per-detector tuples with detector
        covariates; None where they are out of range. Linked methods: one tuple
        ``("linked", pars of method 1, pars of method 2, ...)``."""
        if self.linked:
            per = [self._session_pars(beta, jj) for jj in range(len(self._parts))]
            if any(p is None for p in per):
                return None
            return [[("linked", *(p[x][0] for p in per))] for x in range(self.design.nmix)]
        return self._session_pars(beta, j)

    def knownclass(self, j: int) -> np.ndarray:
        """Known class of each animal of session ``j`` (``hcov``), -1 where unknown; for
        linked methods, of each animal of the linked session."""
        if self.linked:
            return self.sessions[0].knownclass
        return self.design.knownclass[j]

    def _session_pars(self, beta: np.ndarray, j: int) -> list[list[tuple]] | None:
        design = self.design
        if design.has_time:
            return self._time_pars(beta, j)
        dk = design.detection_k(beta, j)
        if dk is None:
            icpt, sig = design.detection(beta)
            zz = design.detection_z(beta)
            arrs = [icpt[j], sig[j]] + ([] if zz is None else [zz[j]])
            return [[tuple(float(a[x, st]) for a in arrs) for st in range(design.n_states)]
                    for x in range(design.nmix)]
        if not design.detectfn.valid(*dk):
            return None
        return [[tuple(tuple(float(v) for v in a[x, st]) for a in dk)
                 for st in range(design.n_states)] for x in range(design.nmix)]

    def _time_pars(self, beta: np.ndarray, j: int) -> list[list[tuple]] | None:
        """Parameters per class and state as tuples over occasion groups (time effects)."""
        from amurlink.analysis.secr.links import untransform

        design = self.design
        rows = self._tgroups[j]
        G = next(iter(rows.values())).shape[0]
        vals = {}
        kcov = design.has_kcov
        for p in design.det_params:
            b = design.block_beta(beta, p)
            nb, nt = design.n_base[p], design.n_time[p]
            base = design.Xdet[p][j] @ b[:nb]  # (nmix, states)
            tpart = rows[p] @ b[nb:nb + nt] if nt else np.zeros(G)
            eta = base[..., None] + tpart[None, None]  # (nmix, states, G)
            if kcov:  # and per detector: (nmix, states, G, K)
                eta = eta[..., None] + (design.Xk[p][j] @ b[nb + nt:])[None, None, None]
            vals[p] = untransform(eta, design.link[p])
        if not design.detectfn.valid(*(vals[p] for p in design.det_params)):
            return None

        def value(a: np.ndarray):  # a float, or a tuple per detector (detector covariates)
            return tuple(float(v) for v in a) if kcov else float(a)

        return [[tuple(tuple(value(vals[p][x, st, g]) for p in design.det_params)
                       for g in range(G))
                 for st in range(design.n_states)] for x in range(design.nmix)]

    @property
    def npar(self) -> int:
        return self.design.npar

    @property
    def n_animals(self) -> int:
        return sum(s.n for s in self.sessions)

    def __call__(self, beta: ArrayLike) -> float:
        beta = np.asarray(beta, dtype=float)
        if beta.shape != (self.design.npar,):
            raise ValueError(
                f"beta must have {self.design.npar} values ({', '.join(self.design.beta_names)})"
                f", got shape {beta.shape}"
            )
        self.nevals += 1
        if not np.all(np.isfinite(beta)):
            return -np.inf
        design = self.design
        if not design.detectfn.valid(*design.detection(beta)):
            return -np.inf
        if self._lcd is not None and not self.set_noneuc(beta):
            return -np.inf
        Ds = design.density(beta)
        pmix = design.pmix(beta)
        zz = design.detection_z(beta)
        if zz is not None and not np.all((zz > 0) & np.isfinite(zz)):
            return -np.inf
        total = 0.0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for j, ses in enumerate(self.sessions):
                pars = self.session_pars(beta, j)
                if pars is None:
                    return -np.inf
                total += _loglik_session(
                    ses, pars, None if Ds is None else Ds[j], pmix, self.knownclass(j),
                    self.conditional, self.distribution, membership=design.icov is None,
                )
        return float(total) if np.isfinite(total) else -np.inf


    # ------------------------------------------------------------------ analytic gradient
    @property
    def has_gradient(self) -> bool:
        """Whether :meth:`value_and_grad` applies: one class, no learned response, no
        removals, proximity/count collapsed (``fastproximity``) or multi-catch detectors,
        Poisson N with a log-link density (or conditional)."""
        d = self.design
        if (d.nmix != 1 or d.n_states != 1 or d.detectfn.extra is not None or d.has_kcov
                or d.has_time or d.detectfn.signal):
            return False
        if not self.conditional and (self.distribution != "poisson" or d.link["D"] != "log"):
            return False
        if any(d.link[p] not in ("log", "logit", "identity")
               for p in d.detectfn.parameters):
            return False
        return all((s.fast or s.kind == "multi") and s.adjust is None for s in self.sessions)

    def value_and_grad(self, beta: ArrayLike) -> tuple[float, np.ndarray]:
        """Log-likelihood (identical to ``self(beta)``) and its analytic gradient in beta.

        Only where :attr:`has_gradient`; the gradient is ``nan`` where the value is not finite.
        """
        if not self.has_gradient:
            raise NotImplementedError("no analytic gradient for this model")
        beta = np.asarray(beta, dtype=float)
        if beta.shape != (self.design.npar,):
            raise ValueError(f"beta must have {self.design.npar} values, got shape {beta.shape}")
        self.nevals += 1
        design = self.design
        grad = np.zeros(design.npar)
        bad = (-np.inf, np.full(design.npar, np.nan))
        if not np.all(np.isfinite(beta)):
            return bad
        icpt, sig = design.detection(beta)
        if not design.detectfn.valid(icpt, sig):
            return bad
        if self._lcd is not None and not self.set_noneuc(beta):
            return bad
        Ds = design.density(beta)
        pmix = design.pmix(beta)
        ip = design.detectfn.intercept
        total = 0.0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for j, ses in enumerate(self.sessions):
                a, s_ = float(icpt[j, 0, 0]), float(sig[j, 0, 0])
                keep: dict = {"want_dd": self._lcd is not None and self._analytic_noneuc}
                D = None if Ds is None else Ds[j]
                total += _loglik_session(
                    ses, [[(a, s_)]], D, pmix, design.knownclass[j], self.conditional,
                    self.distribution, keep,
                )
                if not np.isfinite(total):
                    return bad
                da, ds, dD = _grad_session(ses, a, s_, D, self.conditional, keep)
                for p, dreal, real in ((ip, da, a), ("sigma", ds, s_)):
                    link = design.link[p]
                    fac = real if link == "log" else real * (1 - real) if link == "logit" else 1.0
                    b = design.blocks[p]
                    grad[b.start:b.start + len(b.columns)] += dreal * fac * design.Xdet[p][j, 0, 0]
                if dD is not None:
                    b = design.blocks["D"]
                    grad[b.start:b.start + len(b.columns)] += dD @ design.XD[j]
                if keep.get("dL_dd") is not None:
                    # analytic: through the shortest-path tree of the current distances
                    b = design.blocks["noneuc"]
                    tree = self._trees[self._noneuc_key][j]
                    f = design.noneuc(beta)[j]
                    for c in range(len(b.columns)):
                        dd = self._lcd[j].derivative(tree, f * design.XN[j][:, c])
                        grad[b.start + c] += float(np.sum(keep["dL_dd"] * dd))
        if not np.isfinite(total):
            return bad
        if self._lcd is not None and self._analytic_noneuc:
            return float(total), grad
        if self._lcd is not None:
            # noneuc: central differences (each a least-cost computation), then back to the
            # distances at beta
            b = design.blocks["noneuc"]
            for i in range(b.start, b.start + len(b.columns)):
                e = np.zeros_like(beta)
                e[i] = 1e-5 * max(abs(beta[i]), 1.0)
                grad[i] = (self(beta + e) - self(beta - e)) / (2 * e[i])
                self.nevals -= 2
            self.set_noneuc(beta)
        return float(total), grad


def _grad_session(
    ses: _Session, a: float, sigma: float, D: np.ndarray | None, conditional: bool, keep: dict
) -> tuple[float, float, np.ndarray | None]:
    """d loglik / d(intercept, sigma) on the real scale and d loglik / d log D_m (one class,
    one state, no removals; fast proximity/count or multi-catch)."""
    fn = ses.fn
    uniq = ses.inv is not None
    if fn.shape == "halfnormal":
        x = ses.d2u if uniq else ses.d2
        c = np.exp(np.maximum(x * (-0.5 / (sigma * sigma)), -700.0))
        dc = c * x / sigma**3
    else:
        x = ses.du if uniq else ses.d
        c = np.exp(np.maximum(x * (-1.0 / sigma), -700.0))
        dc = c * x / sigma**2
    if fn.hazard:
        h = a * c
        dh_a, dh_s = c, a * dc
    else:
        g = a * c
        h = -np.log1p(-g)
        dh_a, dh_s = c / (1 - g), a * dc / (1 - g)
    n = ses.n
    LL, lp, pdot_m, logpi, P = keep["LL"], keep["lp"], keep["pdot_m"], keep["logpi"], keep["pdot"]
    if keep.get("W") is not None:  # exp(LL - max) and its row sums, from the lse
        w = keep["W"]
        w *= (1.0 / keep["wsum_rows"])[:, None]
    else:
        w = LL  # (n, M) posterior weights of the mask points (in place: LL is not used again)
        w -= lp[:, None]
        np.exp(w, out=w)
    wsum = w.sum(axis=0)
    pi = np.exp(logpi)
    if conditional:
        N = None
        coefH = -wsum - (n / P) * pi * (1.0 - pdot_m)
        dD = None
    else:
        N = float(D.sum() * ses.area)
        coefH = -wsum - N * pi * (1.0 - pdot_m)
        dD = wsum - ses.area * D * pdot_m
    # weight on dh (K, M): sum_c usage_col_c (x) R_c; with distinct distances it is summed
    # onto them through theta-independent sparse maps (no (K, M) temporaries)
    t = ses.rec[0]
    if ses.fast:
        parts = [(ses.U, coefH)]
    else:  # U = sum_c n_c usage_col_c
        ncol = np.bincount(ses.occ_to_col, minlength=ses.usage_cols.shape[0])
        parts = [(ses.usage_cols[c], ncol[c] * coefH) for c in range(len(ncol)) if ncol[c]]
    if ses.fast:
        Wrow = (t.C.T @ w) if t.C.nnz else None  # weight on dh/g (proximity) or dh/h (count)
        rows = t.keys
        rdiv = (-np.expm1(-h)) if ses.kind == "proximity" else h
    else:
        rows = t.keys
        Wrow = (t.C.T @ w) if t.C.nnz else None
        rdiv = h
        o = ses.occcol[0]  # detections per animal and usage column
        if o.C.nnz:
            last = getattr(ses, "_hc_last", None)
            if uniq and last is not None and last[0] == ((a, sigma),):
                Hc = last[1]
            else:
                Hc = np.stack([ses.weighted_sum(uc, h) for uc in ses.usage_cols])
            H = Hc[o.keys]  # (usage columns with detections, M)
            Q = (o.C.T @ w) * (1.0 / (-np.expm1(-H)) - 1.0 / H)
            if len(parts) == 1:
                parts[0] = (parts[0][0], parts[0][1] + Q.sum(axis=0))
            else:
                for j, c in enumerate(o.keys):
                    parts.append((ses.usage_cols[c], Q[j]))
    if uniq:
        nu = h.size
        wf = np.zeros(nu)
        for vec, R in parts:
            wf += ses.bmat(vec) @ R
        wr = None
        if Wrow is not None:
            wr = np.bincount(ses._rows_index(rows).reshape(-1), weights=Wrow.reshape(-1),
                             minlength=nu)
        out = []
        for dv in (dh_a, dh_s):
            # einsum, not BLAS: a threaded ddot stalls on a busy machine
            v = np.einsum("i,i->", wf, dv)
            if wr is not None:
                v += np.einsum("i,i->", wr, dv / rdiv)
            out.append(v)
        return float(out[0]), float(out[1]), dD
    Wfull = sum(vec[:, None] * R[None, :] for vec, R in parts)
    out = []
    for dv in (dh_a, dh_s):
        v = float(np.sum(Wfull * dv))
        if Wrow is not None:
            v += float(np.sum(Wrow * (dv / rdiv)[rows]))
        out.append(v)
    if keep.get("want_dd"):
        # d loglik / d distance (K, M), for non-Euclidean distances: the weight on dh times
        # dh/dd (halfnormal: -h d / sigma^2 through the core; exponential: -core / sigma)
        W = np.array(Wfull, dtype=float, copy=True)
        if Wrow is not None:
            np.add.at(W, rows, Wrow / rdiv[rows])
        d = np.sqrt(ses.d2) if fn.shape == "halfnormal" else ses.d
        dcore = (-c * d / sigma**2) if fn.shape == "halfnormal" else (-c / sigma)
        dh_dd = a * dcore if fn.hazard else a * dcore / (1 - g)
        keep["dL_dd"] = W * dh_dd
    return out[0], out[1], dD


def secr_loglik(
    theta: ArrayLike,
    capthist: CaptureHistory | Sequence[CaptureHistory],
    mask: Mask | Sequence[Mask],
    *,
    detectfn: str | int = "HN",
    conditional: bool = False,
    model: Mapping[str, str] | None = None,
    link: Mapping[str, str] | None = None,
    hcov: str | None = None,
    fastproximity: bool = True,
    distribution: str = "poisson",
) -> float:
    """SECR log-likelihood at ``theta`` (betas on the link scale), exactly as secr 5.5.0.

    For the null model ``theta = [log D, logit g0 (or log lambda0), log sigma]`` (without
    ``log D`` when ``conditional=True``). The value includes the multinomial constant
    ``log(n! / prod n_w!)`` over identical histories, as secr does; with
    ``fastproximity=True`` proximity and count data without learned response or deaths are
    collapsed over occasions (binomial with size = summed usage truncated to an integer, or
    Poisson with summed usage), and the constant follows the collapsed form.

    Parameters
    ----------
    theta : array_like
        Coefficients on the link scale, in the order of the model's betas (D, then the
        detection intercept, sigma, pmix).
    capthist : CaptureHistory or sequence of CaptureHistory
        Detections, one object per session.
    mask : Mask or sequence of Mask
        Habitat mask(s); densities are per hectare and distances in metres.
    detectfn : {"HN", "HHN", "EX", "HEX"}, default "HN"
        Detection function (names or secr codes 0, 14, 2, 16).
    conditional : bool, default False
        Conditional likelihood (Borchers & Efford 2008) instead of the full likelihood.
    model : dict, optional
        Formulas per real parameter, e.g. ``{"g0": "~b", "D": "~session"}``.
    link : dict, optional
        Link functions per real parameter (defaults log for D, lambda0 and sigma, logit for
        g0 and pmix).
    hcov : str, optional
        Individual covariate giving the known class (e.g. sex) in a 2-class mixture.
    fastproximity : bool, default True
        secr's collapse of proximity/count data over occasions where it applies.
    distribution : {"poisson", "binomial"}, default "poisson"
        Distribution of the number of animals in the mask.

    Returns
    -------
    float
        Log-likelihood (``-inf`` where the parameters are invalid).

    See Also
    --------
    SECR : the estimator that maximises this function.

    References
    ----------
    Borchers, D. L. & Efford, M. G. (2008). Spatially explicit maximum likelihood methods
    for capture-recapture studies. Biometrics 64, 377-385.

    Efford, M. G. (2004). Density estimation in live-trapping studies. Oikos 106, 598-610.
    """
    return LogLikelihood(
        capthist, mask, detectfn=detectfn, conditional=conditional, model=model, link=link,
        hcov=hcov, fastproximity=fastproximity, distribution=distribution,
    )(theta)
