"""The SECR estimator (sklearn-like) and its function facade ``fit_secr``."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from amurlink.analysis.secr._optim import maximise, start_values
from amurlink.analysis.secr.capthist import CaptureHistory
from amurlink.analysis.secr.detectfn import get_detectfn
from amurlink.analysis.secr.likelihood import LogLikelihood
from amurlink.analysis.secr.mask import Mask
from amurlink.analysis.secr.results import SECRResults
from amurlink.exceptions import FitError, NotFittedError

__all__ = ["SECR", "fit_secr"]

logger = logging.getLogger(__name__)

_PARAMS = ("detectfn", "model", "link", "conditional", "hcov", "fastproximity",
           "distribution", "start", "method")


class SECR:
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

    Attributes
    ----------
    results_ : SECRResults
        The fit, after :meth:`fit`.
    fit_time_ : float
        Seconds spent in the optimisation.

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

    _parameter_constraints: dict[str, Any] = {
        "conditional": (bool, np.bool_),
        "fastproximity": (bool, np.bool_),
        "distribution": ("poisson", "binomial"),
        "method": ("newton", "bfgs", "nelder-mead"),
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

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {p: getattr(self, p) for p in _PARAMS}

    def set_params(self, **params: Any) -> SECR:
        for k, v in params.items():
            if k not in _PARAMS:
                raise ValueError(f"unknown parameter {k!r}")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{p}={getattr(self, p)!r}" for p in _PARAMS
                         if getattr(self, p) != _DEFAULTS[p])
        return f"SECR({args})"

    def _validate(self) -> None:
        for name, allowed in self._parameter_constraints.items():
            v = getattr(self, name)
            if isinstance(allowed[0], type):
                if not isinstance(v, allowed):
                    raise ValueError(f"{name} must be True or False, got {v!r}")
            elif v not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {v!r}")
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
            if ll.design.nmix > 1 and ll.design.hcov is None:
                for p in (ll.design.detectfn.intercept,):
                    blk = ll.design.blocks[p]
                    for c, col in enumerate(blk.columns):
                        if col.startswith("h2"):
                            start[blk.start + c] = -1.0
        logger.debug("start values %s", start)
        vg = hinv0 = None
        if ll.has_gradient:
            # analytic gradient; BFGS starts from a scaled inverse Hessian: the curvature of
            # -loglik in log D is about n (the number of animals)
            vg = ll.value_and_grad
            if not ll.design.conditional and ll.design.link["D"] == "log":
                hinv0 = np.ones(ll.npar)
                hinv0[ll.design.blocks["D"].start] = 1.0 / max(ll.n_animals, 1)
                hinv0 = np.diag(hinv0)
        opt = maximise(ll, start, method=self.method, value_and_grad=vg, hess_inv0=hinv0)
        self.fit_time_ = time.perf_counter() - t0
        self.n_evaluations_ = ll.nevals
        self.results_ = SECRResults(
            ll, opt,
            settings={"model": dict(self.model or {}), "detectfn": ll.design.detectfn.name,
                      "conditional": self.conditional, "start": start.tolist()},
        )
        return self

    @property
    def results(self) -> SECRResults:
        if not hasattr(self, "results_"):
            raise NotFittedError("this SECR estimator is not fitted yet; call fit() first")
        return self.results_

    def predict(self, alpha: float = 0.05):
        """Real-parameter table of the fit (see :meth:`SECRResults.predict`)."""
        return self.results.predict(alpha)


_DEFAULTS = {p: SECR().__dict__[p] for p in _PARAMS}


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
