"""Model selection: AIC/AICc tables with weights, model-averaged estimates, ``fit_models``.

Reproduces secr's ``AIC(fit1, fit2, ..., criterion = "AICc")`` (``dmax`` = 10: models further
than that from the best get weight 0) and ``modelAverage`` (averaged on the link scale,
Buckland et al. 1997 unconditional SE).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from amurlink.analysis.secr.links import (
    back_transformed_interval,
    se_untransform,
    transform,
    untransform,
)

__all__ = ["ModelTable", "aic_table", "fit_models", "model_average", "model_label",
           "parse_models"]

logger = logging.getLogger(__name__)

_PARAMS = ("D", "g0", "lambda0", "sigma", "z", "w", "b0", "b1", "beta0", "beta1", "sdS", "pmix",
           "noneuc")


def model_label(fit: Any) -> str:
    """secr's model description, e.g. ``"D~session lambda0~1 sigma~1"``."""
    d = fit.design
    parts = []
    for p in d.parameters:
        terms = d.terms.get(p, ())
        parts.append(f"{p}~{'+'.join(terms) if terms else '1'}")
    return " ".join(parts)


def with_detection_term(model: str | Mapping[str, str], term: str,
                        detectfn: str = "HHN") -> dict[str, str]:
    """``model`` with ``term`` added to the detection intercept's formula (``lambda0`` for
    hazard functions, else ``g0``) unless it holds it: ``"lambda0~b"`` -> ``"~b+term"``. A
    detection intercept per detector type (``dettype``) or per linked method (``session``)."""
    from amurlink.analysis.secr.detectfn import get_detectfn

    out = parse_models(model)
    par = "lambda0" if get_detectfn(detectfn).hazard else "g0"
    rhs = out.get(par, "~1").replace(" ", "")
    if term not in rhs.lstrip("~").split("+"):
        out[par] = f"~{term}" if rhs in ("~1", "~") else f"{rhs}+{term}"
    return out


def parse_models(spec: str | Mapping[str, str]) -> dict[str, str]:
    """A model as a dict of formulas: ``{"D": "~forest", "lambda0": "~bk"}``.

    Strings hold one or more formulas separated by ``;`` or ``,`` or white space between
    formulas: ``"D~forest+country; lambda0~bk"``.
    """
    if isinstance(spec, Mapping):
        return {str(k): str(v) for k, v in spec.items()}
    text = str(spec).strip()
    if not text:
        raise ValueError("empty model formula; write e.g. 'D~forest' or 'lambda0~bk'")
    out: dict[str, str] = {}
    import re

    # split before every "<param> ~"
    pieces = re.split(r"[;,]\s*|\s+(?=[A-Za-z0-9_.]+\s*~)", text)
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        if "~" not in piece:
            raise ValueError(
                f"model {spec!r}: {piece!r} is not a formula; write PARAMETER~TERMS "
                "(e.g. D~forest, lambda0~bk, sigma~h2)"
            )
        lhs, _, rhs = piece.partition("~")
        lhs = lhs.strip()
        if lhs not in _PARAMS:
            raise ValueError(
                f"model {spec!r}: unknown parameter {lhs!r}; use one of {', '.join(_PARAMS)}"
            )
        out[lhs] = "~" + rhs.strip().replace(" ", "")
    return out


def aic_table(
    fits: Mapping[str, Any] | Sequence[Any],
    *,
    criterion: str = "AICc",
    dmax: float = 10.0,
) -> pd.DataFrame:
    """secr's ``AIC(fit1, fit2, ..., criterion=)``: one row per fit, best first.

    Columns ``model, detectfn, npar, logLik, AIC, AICc, dAICc, AICcwt`` (or ``dAIC, AICwt``
    for ``criterion="AIC"``); weights are ``exp(-delta/2)`` normalised over the fits within
    ``dmax`` of the best (0 beyond, as secr). Numbers are not rounded (secr rounds AIC and
    AICc to 3 decimals and weights to 4 when printing).
    """
    if criterion not in ("AICc", "AIC"):
        raise ValueError(f"criterion must be 'AICc' or 'AIC', got {criterion!r}")
    if not isinstance(fits, Mapping):
        fits = {f"fit{i + 1}": f for i, f in enumerate(fits)}
    if not fits:
        raise ValueError("no fitted model to compare")
    ns = {int(f.n) for f in fits.values()}
    if len(ns) > 1:
        raise ValueError(f"models were fitted to different data (n = {sorted(ns)}); AIC cannot "
                         "compare them")
    rows = []
    for name, f in fits.items():
        rows.append({"name": name, "model": model_label(f), "detectfn": f.design.detectfn.name,
                     "npar": int(f.npar), "logLik": float(f.loglik), "AIC": float(f.aic),
                     "AICc": float(f.aicc)})
    df = pd.DataFrame(rows).set_index("name")
    crit = df[criterion]
    delta = crit - crit.min()
    w = np.where(delta <= dmax, np.exp(-delta / 2), 0.0)
    df[f"d{criterion}"] = delta
    df[f"{criterion}wt"] = w / w.sum()
    return df.sort_values(f"d{criterion}", kind="stable")


def _se_link(est: float, se: float, link: str) -> float:
    """SE on the link scale from the real-scale SE (inverse of ``se_untransform``)."""
    if link == "log":
        return float(np.sqrt(np.log1p((se / est) ** 2)))
    if link == "logit":
        return float(se / (est * (1 - est)))
    return float(se)


def _default_newdata(fit: Any) -> pd.DataFrame:
    """One row per session at secr's predict() defaults (mask mean, first factor level)."""
    rows = []
    for ses in fit._ll.sessions:
        row: dict[str, Any] = {"session": ses.ch.session}
        m = ses.mask
        row["x"], row["y"] = (float(v) for v in m.xy.mean(axis=0))
        if m.covariates is not None:
            for c in m.covariates.columns:
                v = m.covariates[c]
                if pd.api.types.is_numeric_dtype(v):
                    row[c] = float(np.mean(np.unique(v.to_numpy(dtype=float))))
                else:
                    levels = sorted(pd.unique(v.dropna()), key=lambda t: (str(type(t)), t))
                    row[c] = levels[0] if levels else None
        rows.append(row)
    return pd.DataFrame(rows)


def model_average(
    fits: Mapping[str, Any] | Sequence[Any],
    *,
    newdata: pd.DataFrame | None = None,
    criterion: str = "AICc",
    dmax: float = 10.0,
    alpha: float = 0.05,
    average: str = "link",
) -> pd.DataFrame:
    """Model-averaged real parameters, as secr's ``modelAverage``.

    Each fit predicts the real parameters at ``newdata`` (default: one row per session at the
    mask mean, i.e. where secr's ``predict`` reports them); estimates are averaged with the
    AIC(c) weights on the link scale (``average="link"``, secr's default) or the real scale,
    with the unconditional SE ``sum_i w_i sqrt(var_i + (est_i - avg)^2)`` (Buckland et al.
    1997) and Wald limits back-transformed from the link scale.

    Returns
    -------
    DataFrame
        The newdata columns, ``parameter``, ``link``, ``estimate``, ``se``, ``lcl``, ``ucl``.
    """
    if average not in ("link", "real"):
        raise ValueError(f"average must be 'link' or 'real', got {average!r}")
    if not isinstance(fits, Mapping):
        fits = {f"fit{i + 1}": f for i, f in enumerate(fits)}
    table = aic_table(fits, criterion=criterion, dmax=dmax)
    weights = table[f"{criterion}wt"]
    first = next(iter(fits.values()))
    nd = _default_newdata(first) if newdata is None else pd.DataFrame(newdata)
    preds = {}
    for name, f in fits.items():
        if weights[name] <= 0:
            continue
        preds[name] = f.predict(alpha, newdata=nd)
    z = norm.ppf(1 - alpha / 2)
    keycols = [*nd.columns, "parameter"]
    base = next(iter(preds.values()))[keycols].copy()
    est_cols = []
    for name, p in preds.items():
        if not p[keycols].equals(base):
            raise ValueError("the models predict different parameters; average them separately")
        link = p["link"].to_numpy()
        if average == "link":
            eta = np.array([float(transform(e, lk)) for e, lk in zip(p["estimate"], link,
                                                                      strict=True)])
            se = np.array([_se_link(e, sv, lk) for e, sv, lk in zip(
                p["estimate"], p["se"], link, strict=True)])
        else:
            eta, se = p["estimate"].to_numpy(), p["se"].to_numpy()
        est_cols.append((weights[name], eta, se, link))
    wsum = sum(w for w, *_ in est_cols)
    avg = sum(w * e for w, e, _, _ in est_cols) / wsum
    se_avg = sum(w * np.sqrt(s**2 + (e - avg) ** 2) for w, e, s, _ in est_cols) / wsum
    link = est_cols[0][3]
    out = base.reset_index(drop=True)
    out["link"] = link
    if average == "link":
        out["estimate"] = [float(untransform(a, lk)) for a, lk in zip(avg, link, strict=True)]
        out["se"] = [float(se_untransform(a, s, lk)) for a, s, lk in zip(avg, se_avg, link,
                                                                           strict=True)]
        lim = [back_transformed_interval(a, s, lk, alpha=alpha)
               for a, s, lk in zip(avg, se_avg, link, strict=True)]
        out["lcl"] = [float(v[0]) for v in lim]
        out["ucl"] = [float(v[1]) for v in lim]
    else:
        out["estimate"], out["se"] = avg, se_avg
        out["lcl"], out["ucl"] = avg - z * se_avg, avg + z * se_avg
    return out


@dataclass
class ModelTable:
    """Several SECR models fitted to the same data, compared and averaged.

    Attributes
    ----------
    fits : dict
        Model label -> :class:`SECRResults` (only the fits that succeeded).
    table : DataFrame
        :func:`aic_table` of the fits (best first).
    averaged : DataFrame
        :func:`model_average` of the real parameters (density per session at the mask mean).
    errors : dict
        Model label -> message for the models that could not be fitted.
    criterion : str
        ``"AICc"`` or ``"AIC"``.
    fastproximity : bool
        Whether the fits collapsed proximity/count data over occasions where they could;
        False when the list mixed models that collapse with models that cannot (see
        :func:`fit_models`).
    """

    fits: dict
    table: pd.DataFrame
    averaged: pd.DataFrame | None
    errors: dict = field(default_factory=dict)
    criterion: str = "AICc"
    fastproximity: bool = True

    @property
    def best(self) -> str:
        """Label of the best model (lowest criterion)."""
        return str(self.table.index[0])

    @property
    def best_fit(self) -> Any:
        return self.fits[self.best]

    def to_dict(self) -> dict:
        """JSON-ready: ``table`` rows, ``model_averaged`` rows, ``best``, ``errors``."""
        def clean(v):
            if isinstance(v, float | np.floating):
                return None if not np.isfinite(v) else float(v)
            if isinstance(v, np.integer):
                return int(v)
            return v

        return {
            "criterion": self.criterion,
            "fastproximity": self.fastproximity,
            "best": self.best,
            "table": [{"name": str(k), **{c: clean(v) for c, v in r.items()}}
                      for k, r in self.table.iterrows()],
            "model_averaged": ([] if self.averaged is None else
                               [{c: clean(v) for c, v in r.items()}
                                for _, r in self.averaged.iterrows()]),
            "errors": dict(self.errors),
        }


def fit_models(
    capthist: Any,
    mask: Any,
    models: Sequence[str | Mapping[str, str]],
    *,
    criterion: str = "AICc",
    dmax: float = 10.0,
    **common: Any,
) -> ModelTable:
    """Fit several models to the same data; AIC(c) table, weights and model averaging.

    Parameters
    ----------
    capthist, mask
        As :func:`fit_secr` (one or several sessions; one mask or one per session).
    models : sequence of str or dict
        Each a model: ``"D~forest"``, ``"D~forest+country; lambda0~bk"`` or
        ``{"D": "~forest"}``; parameters not named are ``~1``. A dict may also carry
        ``detectfn``.
    criterion : {"AICc", "AIC"}
    dmax : float
        Models further than this from the best get weight 0 (secr's default 10).
    **common
        Any other :class:`SECR` parameter shared by all fits (``detectfn``, ``hcov``,
        ``link``, ``distribution``, ...).

    Returns
    -------
    ModelTable
        A model that cannot be fitted (bad formula, optimiser failure) is reported in
        ``errors`` and left out; a ValueError if none can be fitted.

    Notes
    -----
    Proximity and count data are collapsed over occasions (secr's ``fastproximity``) only
    for models without learned/transient responses or time effects, and a collapsed
    log-likelihood lacks a constant of the data (the split of each count over the
    occasions), so ``lambda0~b`` next to ``D~1`` would show a log-likelihood far *below* the
    null model it nests. secr leaves such a table incompatible (``AICcompatible``); here,
    when the list mixes models that collapse with models that cannot, every model is fitted
    uncollapsed (``fastproximity=False``: for count data the same estimates, the exact
    log-likelihood), so the table compares like with like. ``ModelTable.fastproximity``
    says which was used.
    """
    from amurlink.analysis.secr.likelihood import collapses_over_occasions
    from amurlink.analysis.secr.model import fit_secr

    fits: dict = {}
    errors: dict = {}
    todo = []
    for spec in models:
        kw = dict(common)
        if isinstance(spec, Mapping) and "detectfn" in spec:
            spec = dict(spec)
            kw["detectfn"] = spec.pop("detectfn")
        try:
            model = parse_models(spec)
        except ValueError as exc:
            errors[str(spec)] = str(exc)
            continue
        todo.append((model, kw))
    fast = bool(common.get("fastproximity", True))
    if fast and len(todo) > 1:
        collapse = set()
        for model, kw in todo:
            opts = {k: kw[k] for k in ("detectfn", "link", "conditional", "hcov", "timecov")
                    if k in kw}
            try:
                collapse.add(collapses_over_occasions(capthist, mask, model=model, **opts))
            except Exception:  # noqa: BLE001 - the fit itself reports a bad model
                continue
        if len(collapse) > 1:
            logger.info("models with and without secr's collapse over occasions in one "
                        "table: every model is fitted uncollapsed (fastproximity=False) so "
                        "their log-likelihoods are comparable")
            fast = False
            for _, kw in todo:
                kw["fastproximity"] = False
    for model, kw in todo:
        try:
            res = fit_secr(capthist, mask, model=model, **kw)
        except Exception as exc:  # noqa: BLE001 - one failed model does not stop the table
            label = " ".join(f"{k}{v}" for k, v in model.items()) or "~1"
            errors[label] = f"{type(exc).__name__}: {exc}"
            logger.warning("SECR model %s failed: %s", label, exc)
            continue
        label = model_label(res)
        if label in fits:
            label = f"{label} ({res.design.detectfn.name})"
        fits[label] = res
    if not fits:
        raise ValueError("no model could be fitted: " + "; ".join(
            f"{k}: {v}" for k, v in errors.items()))
    table = aic_table(fits, criterion=criterion, dmax=dmax)
    try:
        averaged = model_average(fits, criterion=criterion, dmax=dmax)
    except ValueError as exc:
        logger.warning("model averaging skipped: %s", exc)
        averaged = None
    return ModelTable(fits=fits, table=table, averaged=averaged, errors=errors,
                      criterion=criterion, fastproximity=fast)
