"""The SECR estimator (sklearn-like) and its function facade ``fit_secr``."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize

from amurlink._estimator import ParamsEstimator, is_bool, one_of
from amurlink.analysis.secr._optim import maximise, start_values
from amurlink.analysis.secr.capthist import CaptureHistory
from amurlink.analysis.secr.detectfn import get_detectfn
from amurlink.analysis.secr.likelihood import LogLikelihood, as_sessions
from amurlink.analysis.secr.mask import Mask
from amurlink.analysis.secr.results import SECRResults
from amurlink.exceptions import FitError, NotFittedError

__all__ = ["SECR", "fit_secr"]

logger = logging.getLogger(__name__)

class SECR(ParamsEstimator):
    """Spatially explicit capture-recapture by maximum likelihood, reproducing R secr 5.5.0.

    Parameters
    ----------
    detectfn : {"HN", "HHN", "EX", "HEX"}, default "HN"
        Detection function (halfnormal, hazard halfnormal, exponential, hazard exponential).
    model : dict, optional
        Formulas per real parameter: ``D`` (terms ``session``, ``Session``, ``x``, ``y`` or mask
        covariates such as ``country``), ``g0``/``lambda0`` and ``sigma`` (terms ``session``,
        ``Session``, ``b``, ``bk``, ``h2``), ``pmix`` (``~h2``). Default: all ``~1``.
    link : dict, optional
        Links per real parameter (default log for D, lambda0, sigma; logit for g0, pmix).
    conditional : bool, default False
        Maximise the conditional likelihood (D derived afterwards).
    hcov : str, optional
        Individual covariate with the known class (e.g. ``"sex"``) of a 2-class mixture.
    fastproximity : bool, default True
        Collapse proximity/count data over occasions where secr does.
    distribution : {"poisson", "binomial"}, default "poisson"
        Distribution of the number of animals in the mask.
    start : array_like, optional
        Start betas on the link scale; default computed like secr's ``autoini``.
    method : {"newton", "bfgs", "nelder-mead"}, default "newton"
        Optimiser.
    timecov : DataFrame or dict, optional
        Time covariates, one value per occasion (or per session a frame), for detection
        models such as ``lambda0 ~ effort``; ``dettype`` (the detector type of each occasion,
        with ``CaptureHistory.occasion_detectors``) is always available.
    fixed : dict, optional
        Real parameters held at a value instead of estimated, as secr's ``fixed``
        (e.g. ``{"g0": 0.2}``); only parameters modelled ``~1``. They have SE 0 and do not
        count in ``npar`` (AIC).
    binomN : int, default 0
        Count detectors: 0 Poisson counts; 1 binomial with size the usage; > 1 binomial of
        that size per occasion (probability ``1 - (1 - g)^usage``), as secr's ``binomN``.
    linked : bool, default False
        The sessions are methods applied to the same animals (cameras and a DNA search of
        areas or routes), matched by animal label: one density and one population, a
        detection process per method (``lambda0 ~ session``); see
        :mod:`amurlink.analysis.secr.linked`.

    Attributes
    ----------
    results_ : SECRResults
        The fit, after :meth:`fit`.
    fit_time_ : float
        Seconds spent in the optimisation.
    n_evaluations_ : int
        Log-likelihood evaluations on the mask (values and value-with-gradient).
    n_coarse_evaluations_ : int
        Evaluations of the rough warm-start fit on every second mask row and column (0
        when not used: masks under 1000 points or not on a grid, no analytic gradient,
        ``start`` given, or ``method`` other than ``"newton"``).

    See Also
    --------
    fit_secr : function facade.
    secr_loglik : the log-likelihood maximised here.

    References
    ----------
    Borchers, D. L. & Efford, M. G. (2008). Spatially explicit maximum likelihood methods
    for capture-recapture studies. Biometrics 64, 377-385.

    Efford, M. G. (2004). Density estimation in live-trapping studies. Oikos 106, 598-610.
    """

    _param_checks = {
        "conditional": is_bool(),
        "fastproximity": is_bool(),
        "distribution": one_of("poisson", "binomial"),
        "method": one_of("newton", "bfgs", "nelder-mead"),
    }

    def __init__(
        self,
        *,
        detectfn: str | int = "HN",
        model: Mapping[str, str] | None = None,
        link: Mapping[str, str] | None = None,
        conditional: bool = False,
        hcov: str | None = None,
        fastproximity: bool = True,
        distribution: str = "poisson",
        start: Sequence[float] | None = None,
        method: str = "newton",
        fixed: Mapping[str, float] | None = None,
        timecov: Any = None,
        linked: bool = False,
        binomN: int = 0,
    ) -> None:
        self.detectfn = detectfn
        self.model = model
        self.link = link
        self.conditional = conditional
        self.hcov = hcov
        self.fastproximity = fastproximity
        self.distribution = distribution
        self.start = start
        self.method = method
        self.fixed = fixed
        self.timecov = timecov
        self.linked = linked
        self.binomN = binomN

    def _validate(self) -> None:
        self._validate_params()
        get_detectfn(self.detectfn)

    def fit(
        self,
        capthist: CaptureHistory | Sequence[CaptureHistory],
        mask: Mask | Sequence[Mask],
    ) -> SECR:
        """Fit the model to detections on a habitat mask.

        Parameters
        ----------
        capthist : CaptureHistory or sequence of CaptureHistory
            One session, or several sessions sharing parameters.
        mask : Mask or sequence of Mask
            Habitat mask (one for all sessions or one per session).

        Returns
        -------
        SECR
            ``self``, with ``results_`` set.

        Raises
        ------
        FitError
            If the optimiser cannot find a finite maximum.
        """
        self._validate()
        ll = LogLikelihood(
            capthist, mask, detectfn=self.detectfn, conditional=self.conditional,
            model=self.model, link=self.link, hcov=self.hcov,
            fastproximity=self.fastproximity, distribution=self.distribution,
            timecov=self.timecov, linked=self.linked, binomN=self.binomN,
        )
        if ll.n_animals == 0:
            raise FitError("no animal was detected; SECR needs at least one detection")
        t0 = time.perf_counter()
        if self.start is not None:
            start = np.asarray(self.start, dtype=float)
            if start.shape != (ll.npar,):
                raise ValueError(
                    f"start must have {ll.npar} values ({', '.join(ll.design.beta_names)})"
                )
        else:
            start = start_values(ll)
            if ll.design.nmix > 1 and ll.design.hcov is None and ll.design.icov is None:
                for p in (ll.design.detectfn.intercept,):
                    blk = ll.design.blocks[p]
                    for c, col in enumerate(blk.columns):
                        if col.startswith("h2") or col == "h32":
                            start[blk.start + c] = -1.0
                        elif col == "h33":
                            start[blk.start + c] = -2.0
        logger.debug("start values %s", start)
        # covariates in large units (metres, elevation) are maximised and differentiated per
        # SD of the covariate, so SEs do not depend on the units (design.beta_scale; 1 for
        # everything on secr's own scale, which keeps R's Hessian rule there)
        scale = np.asarray(getattr(ll.design, "beta_scale", np.ones(ll.npar)), dtype=float)
        f = _Scaled(ll, scale) if np.any(scale != 1.0) else ll
        if self.fixed:
            return self._fit_fixed(ll, f, start * scale, scale, t0)
        vg = hinv0 = None
        if ll.has_gradient:
            # analytic gradient; BFGS starts from a scaled inverse Hessian: the curvature of
            # -loglik in log D is about n (the number of animals)
            vg = f.value_and_grad
            if not ll.design.conditional and ll.design.link["D"] == "log":
                hinv0 = np.ones(ll.npar)
                hinv0[ll.design.blocks["D"].start] = 1.0 / max(ll.n_animals, 1)
                hinv0 = np.diag(hinv0)
        if self.start is None and getattr(ll.design, "has_noneuc", False) and vg is not None:
            start, hinv0 = self._euclidean_warm_start(capthist, mask, ll, start, hinv0)
        x0 = start * scale
        self.n_coarse_evaluations_ = 0
        if vg is not None and self.start is None and self.method == "newton":
            x0, hinv0 = self._coarse_warm_start(capthist, mask, f, x0, hinv0, scale)
        opt = maximise(f, x0, method=self.method, value_and_grad=vg, hess_inv0=hinv0)
        if f is not ll:
            opt = {**opt, "beta": opt["beta"] / scale,
                   "hessian": opt["hessian"] * np.outer(scale, scale),
                   "gradient": opt["gradient"] * scale}
        self.fit_time_ = time.perf_counter() - t0
        self.n_evaluations_ = ll.nevals
        self.results_ = SECRResults(
            ll, opt,
            settings={"model": dict(self.model or {}), "detectfn": ll.design.detectfn.name,
                      "conditional": self.conditional, "start": start.tolist()},
        )
        return self

    def _euclidean_warm_start(self, capthist, mask, ll, start, hinv0):
        """Start a non-Euclidean fit from the Euclidean one (cheap: no least-cost paths):
        its estimates and inverse Hessian for the other parameters, friction 1 (beta 0)."""
        sub = {k: v for k, v in dict(self.model or {}).items() if k != "noneuc"}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                e = SECR(**{**self.get_params(), "model": sub}).fit(capthist, mask).results_
        except Exception as exc:  # noqa: BLE001 - a failed warm start only costs speed
            logger.debug("Euclidean warm start skipped: %s", exc)
            return start, hinv0
        names = ll.design.beta_names
        idx = [names.index(n) for n in e.params.index if n in names]
        if len(idx) != len(e.params):
            return start, hinv0
        x = np.array(start, dtype=float)
        x[idx] = e.params.to_numpy()
        h = np.eye(len(names)) * 0.02  # noneuc: about 1 / its curvature
        cov = e.cov.to_numpy()
        cov = (cov + cov.T) / 2
        h[np.ix_(idx, idx)] = cov
        try:
            np.linalg.cholesky(h)
        except np.linalg.LinAlgError:
            h = None if hinv0 is None else hinv0
        return x, h

    def _fixed_mask(self, ll: LogLikelihood) -> tuple[np.ndarray, np.ndarray]:
        from amurlink.analysis.secr.links import transform

        d = ll.design
        isfixed = np.zeros(ll.npar, dtype=bool)
        values = np.zeros(ll.npar)
        for p, v in dict(self.fixed or {}).items():
            if p not in d.blocks:
                raise ValueError(f"fixed names {p!r}, which is not a parameter of this model "
                                 f"({', '.join(d.blocks)})")
            b = d.blocks[p]
            if len(b.columns) != 1:
                raise ValueError(f"fixed {p!r}: only a parameter modelled ~1 can be fixed")
            beta = float(transform(float(v), d.link[p]))
            if not np.isfinite(beta):
                raise ValueError(f"fixed {p}={v} is outside the range of its {d.link[p]} link")
            isfixed[b.start] = True
            values[b.start] = beta
        return isfixed, values

    def _fit_fixed(self, ll, f, x0, scale, t0) -> SECR:
        isfixed, values = self._fixed_mask(ll)
        free = ~isfixed
        full = values * scale

        def expand(b: np.ndarray) -> np.ndarray:
            x = full.copy()
            x[free] = b
            return x

        class _Sub:
            has_gradient = f.has_gradient

            def __call__(self, b):
                return f(expand(b))

            def value_and_grad(self, b):
                v, g = f.value_and_grad(expand(b))
                return v, np.asarray(g)[free]

        sub = _Sub()
        vg = sub.value_and_grad if ll.has_gradient else None
        opt = maximise(sub, x0[free], method=self.method, value_and_grad=vg)
        H = np.zeros((ll.npar, ll.npar))
        H[np.ix_(free, free)] = opt["hessian"] * np.outer(scale[free], scale[free])
        g = np.zeros(ll.npar)
        g[free] = np.asarray(opt["gradient"]) * scale[free]
        opt = {**opt, "beta": expand(opt["beta"]) / scale, "hessian": H, "gradient": g,
               "fixed": isfixed}
        self.fit_time_ = time.perf_counter() - t0
        self.n_evaluations_ = ll.nevals
        self.n_coarse_evaluations_ = 0
        self.results_ = SECRResults(
            ll, opt,
            settings={"model": dict(self.model or {}), "detectfn": ll.design.detectfn.name,
                      "conditional": self.conditional, "fixed": dict(self.fixed or {})},
        )
        return self

    def _coarse_warm_start(
        self,
        capthist: CaptureHistory | Sequence[CaptureHistory],
        mask: Mask | Sequence[Mask],
        ll: LogLikelihood,
        start: np.ndarray,
        hinv0: np.ndarray | None,
        scale: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Start and inverse Hessian for BFGS from a rough fit on coarser masks.

        On masks of >= 1000 points on a regular grid, the same model is first maximised
        roughly on every second row and column of each mask (a quarter of the points, cells
        of twice the side): that costs about two evaluations of the full likelihood and
        leaves BFGS on the full mask a few steps from the maximum, with a good inverse
        Hessian. The estimates are those of the full mask (the same convergence test); only
        the path changes. Anything unusual keeps the plain start.
        """
        _, masks = as_sessions(capthist, mask)
        if any(m.n_points < 1000 for m in masks):
            return start, hinv0
        coarse = [_every_second_point(m) for m in masks]
        if any(c is None or c.n_points < 250 for c in coarse):
            return start, hinv0
        try:
            llc = LogLikelihood(
                capthist, coarse if len(coarse) > 1 else coarse[0], detectfn=self.detectfn,
                conditional=self.conditional, model=self.model, link=self.link,
                hcov=self.hcov, fastproximity=self.fastproximity,
                distribution=self.distribution, timecov=self.timecov,
            )
            if scale is not None and np.any(scale != 1.0):
                llc = _Scaled(llc, scale)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f0 = llc(start)
                if not llc.has_gradient or not np.isfinite(f0):
                    return start, hinv0

                def nfg(b: np.ndarray) -> tuple[float, np.ndarray]:
                    v, g = llc.value_and_grad(b)
                    if not np.isfinite(v) or not np.all(np.isfinite(g)):
                        return 1e10, np.zeros_like(b)
                    return -v, -g

                # rough: nlm's scaled-gradient test at 1e-3 instead of 1e-6
                gtol = 1e-3 * max(abs(f0), 1.0) / max(np.max(np.abs(start)), 1.0)
                extra = {} if hinv0 is None else {"hess_inv0": hinv0}
                res = minimize(nfg, start, jac=True, method="BFGS",
                               options={**extra, "gtol": gtol, "maxiter": 50})
            self.n_coarse_evaluations_ = llc.nevals
            x = np.asarray(res.x, dtype=float)
            h = np.asarray(res.hess_inv, dtype=float)
            h = (h + h.T) / 2
            np.linalg.cholesky(h)  # positive definite, or LinAlgError
        except Exception as exc:  # noqa: BLE001 - a failed warm start only costs speed
            logger.debug("coarse-mask warm start skipped: %s", exc)
            return start, hinv0
        if not (np.all(np.isfinite(x)) and res.fun < 1e10 and np.isfinite(ll(x))):
            return start, hinv0
        logger.debug("coarse-mask warm start %s", x)
        return x, h

    @property
    def results(self) -> SECRResults:
        if not hasattr(self, "results_"):
            raise NotFittedError("this SECR estimator is not fitted yet; call fit() first")
        return self.results_

    def predict(self, alpha: float = 0.05):
        """Real-parameter table of the fit (see :meth:`SECRResults.predict`)."""
        return self.results.predict(alpha)


def fit_secr(
    capthist: CaptureHistory | Sequence[CaptureHistory],
    mask: Mask | Sequence[Mask],
    /,
    **params: Any,
) -> SECRResults:
    """Fit an SECR model and return its results (function facade of :class:`SECR`).

    Parameters
    ----------
    capthist : CaptureHistory or sequence of CaptureHistory
        Detections, one per session.
    mask : Mask or sequence of Mask
        Habitat mask(s).
    **params
        Any :class:`SECR` parameter (``detectfn``, ``model``, ``conditional``, ...).

    Returns
    -------
    SECRResults

    See Also
    --------
    SECR : the estimator.

    References
    ----------
    Borchers, D. L. & Efford, M. G. (2008). Spatially explicit maximum likelihood methods
    for capture-recapture studies. Biometrics 64, 377-385.
    """
    return SECR(**params).fit(capthist, mask).results_


class _Scaled:
    """A log-likelihood of ``beta * scale`` (the optimiser's coordinates): value, analytic
    gradient and counters of the wrapped :class:`LogLikelihood`."""

    def __init__(self, ll, scale: np.ndarray) -> None:
        self.ll = ll
        self.scale = np.asarray(scale, dtype=float)

    def __call__(self, b: np.ndarray) -> float:
        return self.ll(np.asarray(b, dtype=float) / self.scale)

    def value_and_grad(self, b: np.ndarray) -> tuple[float, np.ndarray]:
        v, g = self.ll.value_and_grad(np.asarray(b, dtype=float) / self.scale)
        return v, np.asarray(g) / self.scale

    def __getattr__(self, name: str):
        return getattr(self.ll, name)


def _every_second_point(mask: Mask) -> Mask | None:
    """The points of a regular-grid mask on every second row and column (cells of twice the
    side, covariates kept); ``None`` if the points are not on one grid."""
    xy, s = mask.xy, mask.spacing
    idx = np.rint((xy - xy.min(axis=0)) / s)
    if not np.allclose(idx * s + xy.min(axis=0), xy, rtol=0.0, atol=1e-6 * s):
        return None
    sel = np.flatnonzero((idx[:, 0] % 2 == 0) & (idx[:, 1] % 2 == 0))
    cov = mask.covariates
    if cov is not None:
        cov = cov.iloc[sel].reset_index(drop=True)
    return Mask(xy=xy[sel], spacing=2 * s, covariates=cov, crs=mask.crs)
