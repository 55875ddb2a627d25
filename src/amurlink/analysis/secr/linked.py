"""Linked sessions: several detection methods applied to the same animals in one model.

Cameras (point detectors) and a DNA search of areas or routes (``polygon``/``transect``
detectors) record the same animals over the same period: one population, one density surface,
one movement scale, and a detection process per method. secr holds one detector geometry per
capture history, so it cannot put a camera grid and a searched route in one session; here each
method keeps its own capture history (its detectors, occasions, usage and detector type) and
``LogLikelihood(..., linked=True)`` joins them through the animals' labels:

* given the activity centre ``x``, the methods detect independently, so
  ``Pr(w_i | x) = prod_methods Pr(w_i^method | x)``, where an animal a method missed
  contributes ``1 - p.^method(x)``;
* an animal is detected by the study when any method detects it:
  ``p.(x) = 1 - prod_methods (1 - p.^method(x))``;
* the density model is shared (it may not vary by session); detection parameters may differ
  by method through ``session`` (e.g. ``lambda0 ~ session``), sigma is shared unless the
  model says otherwise.

The design sees the methods as sessions (so ``lambda0 ~ session`` names each method's
intercept); the likelihood has one linked session.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from amurlink.analysis.secr._terms import ClassLoglikCache, _logmult

__all__ = ["LinkedSession"]


@dataclass(frozen=True)
class _LinkedHistory:
    """What the results read of a session's capture history, for linked methods."""

    session: str
    detector: str
    traps: np.ndarray
    animal_ids: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.animal_ids)


class LinkedSession(ClassLoglikCache):
    """The methods' sessions joined through the animals' labels (module doc)."""

    def __init__(self, parts: list, knownclass: list[np.ndarray] | None = None) -> None:
        self.parts = parts
        ids: dict[str, int] = {}
        for p in parts:
            for a in p.ch.animal_ids:
                ids.setdefault(a, len(ids))
        self.rows = [np.array([ids[a] for a in p.ch.animal_ids], dtype=np.intp) for p in parts]
        n = len(ids)
        first = parts[0]
        self.n, self.M = n, first.M
        self.mask = first.mask
        self.area = first.area
        self.fn = first.fn
        self.kind = "linked"
        self._plain_session()
        self.ch = _LinkedHistory(
            session="+".join(p.ch.session for p in parts),
            detector="+".join(p.ch.detector for p in parts),
            traps=np.vstack([p.ch.traps for p in parts]),
            animal_ids=tuple(ids),
        )
        # multinomial constant over the joint histories (each method's part as it is fitted:
        # collapsed over occasions where that method's likelihood is)
        keys = []
        for p, r in zip(parts, self.rows, strict=True):
            c = p.ch.counts
            k = c.sum(axis=1) if p.fast else c.reshape(c.shape[0], c.shape[1] * c.shape[2])
            full = np.zeros((n, k.shape[1]), dtype=np.int64)
            full[r] = k
            keys.append(full)
        self.logmult = _logmult(np.concatenate(keys, axis=1))
        # known class (hcov) of each animal, from whichever method has it
        kc = np.full(n, -1, dtype=np.int64)
        for r, k in zip(self.rows, knownclass or [], strict=False):
            k = np.asarray(k, dtype=np.int64)
            clash = (kc[r] >= 0) & (k >= 0) & (kc[r] != k)
            if clash.any():
                a = self.ch.animal_ids[r[np.flatnonzero(clash)[0]]]
                raise ValueError(f"animal {a!r} has different hcov classes in the linked "
                                 "methods' covariates; give each animal one value")
            kc[r] = np.where(k >= 0, k, kc[r])
        self.knownclass = kc

    def set_distances(self, d: np.ndarray) -> None:  # noqa: ARG002
        raise NotImplementedError("non-Euclidean distance (noneuc) is not implemented for "
                                  "linked methods")

    def class_loglik(self, pars):
        """Log Pr(history_i | x_m) (n, M) and p.(x_m) (M,): ``pars[0]`` is
        ``("linked", pars_method_1, pars_method_2, ...)``."""
        if len(pars) != 1 or pars[0][0] != "linked":
            raise NotImplementedError("behavioural responses with linked methods are not "
                                      "implemented")  # pars: one class, one state
        LL = np.zeros((self.n, self.M))
        none = np.ones(self.M)
        for part, rows, p in zip(self.parts, self.rows, pars[0][1:], strict=True):
            LLp, pdp = part.class_loglik([p])
            with np.errstate(divide="ignore"):
                miss = np.log1p(-pdp)  # (M,) log Pr(no detection by this method | x)
            LL += miss[None, :]
            if part.n:
                LL[rows] += LLp - miss[None, :]
            none *= 1.0 - pdp
        return LL, 1.0 - none

    def pdot_at(self, par: tuple, xy: np.ndarray) -> np.ndarray:
        """p.(x) at any points: 1 - prod over methods of (1 - p.^method(x))."""
        from amurlink.analysis.secr.detectfn import detection_arrays

        none = np.ones(len(xy))
        for part, p in zip(self.parts, par[1:], strict=True):
            if hasattr(part, "pdot_at"):
                pm = part.pdot_at(p, xy)
            else:
                tr = part.ch.traps
                d = np.sqrt(((tr[:, None, :] - np.asarray(xy)[None, :, :]) ** 2).sum(axis=2))
                timed = getattr(part, "_timed", False)
                # per occasion group with time effects (naive state), else one group
                groups = (zip(p, (u0 + u1 for u0, u1 in zip(part._U0, part._U1,
                                                           strict=True)), strict=True)
                          if timed else [(p, part.U)])
                H = 0.0
                for q, u in groups:
                    q = [np.asarray(v, dtype=float)[:, None] if isinstance(v, tuple) else v
                         for v in q]
                    H = H + u @ detection_arrays(d, self.fn, *q)[1]
                pm = -np.expm1(-H)
            none *= 1.0 - pm
        return 1.0 - none


def check_linked(design, sessions, masks) -> None:
    """Refuse, with a clear message, what linked methods cannot be."""
    if len(sessions) < 2:
        raise ValueError("linked=True joins two or more methods (sessions) of the same "
                         f"animals; got {len(sessions)}")
    m0 = masks[0]
    for m in masks[1:]:
        if m is not m0 and not (m.xy.shape == m0.xy.shape and np.array_equal(m.xy, m0.xy)):
            raise ValueError("linked methods share one population: give one mask for all")
    if any(t in ("session", "Session") for t in design.terms["D"]):
        raise ValueError("linked methods share one density: D may not vary by session")
    missing = [m for m in design.special_parts(mixtures=False) if not m.startswith("time")]
    if design.icov is not None:
        missing.append(f"individual covariates ({design.icov})")
    if missing:
        raise NotImplementedError(f"{', '.join(missing)} with linked methods is not "
                                  "implemented")
    labels = [set(ch.animal_ids) for ch in sessions]
    if not set().union(*labels):
        raise ValueError("linked methods: no animal was detected")
