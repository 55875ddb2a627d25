"""SECRResults: estimates on the link and real scales, abundance in regions, summaries."""

from __future__ import annotations

import html as _html
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp
from scipy.stats import norm

from amurlink.analysis.secr.links import back_transformed_interval, se_untransform, untransform

__all__ = ["SECRResults", "SECRSummary"]


def _ginv(H: np.ndarray) -> np.ndarray:
    return np.linalg.pinv(H)


@dataclass(frozen=True)
class SECRSummary:
    """Printable summary of a fit: ``to_text()``, ``to_html()``, ``to_frame()``."""

    header: dict
    table: pd.DataFrame
    betas: pd.DataFrame
    region: pd.DataFrame | None

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_text(self) -> str:
        lines = ["SECR fit (amurlink; likelihood as secr 5.5.0)"]
        lines += [f"  {k:<22}{v}" for k, v in self.header.items()]
        lines.append("")
        lines.append("Coefficients (link scale):")
        lines.append(self.betas.to_string(float_format=lambda v: f"{v:.6g}"))
        lines.append("")
        units = "sigma in metres"
        idx = set(self.table.index)
        if "beta1" in idx or "b1" in idx:  # signal strength: b1, beta1 per metre
            units = ("beta0, sdS in the signal's unit, beta1 per metre" if "beta1" in idx
                     else "b0 in normal deviates, b1 per metre")
        lines.append(f"Real parameters (D in animals/ha, {units}):")
        lines.append(self.table.to_string(float_format=lambda v: f"{v:.6g}"))
        if self.region is not None:
            lines.append("")
            lines.append("Abundance in the mask (E.N expected, R.N realised):")
            lines.append(self.region.to_string(float_format=lambda v: f"{v:.6g}"))
        return "\n".join(lines)

    def to_html(self) -> str:
        head = "".join(
            f"<tr><th>{_html.escape(str(k))}</th><td>{_html.escape(str(v))}</td></tr>"
            for k, v in self.header.items()
        )
        parts = [
            '<div class="secr-summary">',
            "<h3>SECR fit</h3>",
            f"<table>{head}</table>",
            "<h4>Coefficients (link scale)</h4>",
            self.betas.to_html(float_format=lambda v: f"{v:.6g}"),
            "<h4>Real parameters</h4>",
            self.table.to_html(float_format=lambda v: f"{v:.6g}"),
        ]
        if self.region is not None:
            parts += ["<h4>Abundance in the mask</h4>",
                      self.region.to_html(float_format=lambda v: f"{v:.6g}")]
        parts.append("</div>")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.to_text()


class SECRResults:
    """Results of an SECR fit (statsmodels-like).

    Attributes
    ----------
    params : Series
        Coefficients (betas) on the link scale.
    cov : DataFrame
        Their variance matrix: generalised inverse of the Hessian of -loglik (as secr).
    loglik : float
        Maximised log-likelihood (with secr's multinomial constant).
    npar, n : int
        Number of coefficients; number of detected animals (all sessions).

    See Also
    --------
    SECR, fit_secr

    References
    ----------
    Borchers, D. L. & Efford, M. G. (2008). Spatially explicit maximum likelihood methods
    for capture-recapture studies. Biometrics 64, 377-385.
    """

    def __init__(self, loglik_obj: Any, opt: dict, *, settings: dict) -> None:
        self._ll = loglik_obj
        self.design = loglik_obj.design
        if getattr(loglik_obj, "_lcd", None) is not None:
            loglik_obj.set_noneuc(np.asarray(opt["beta"], dtype=float))  # distances at the MLE
        names = self.design.beta_names
        self.params = pd.Series(opt["beta"], index=names, name="beta")
        self.cov = pd.DataFrame(_ginv(opt["hessian"]), index=names, columns=names)
        self.hessian = opt["hessian"]
        self.loglik = float(opt["loglik"])
        self.gradient = np.asarray(opt["gradient"])
        self.iterations = int(opt["iterations"])
        self.code = int(opt["code"])
        fixed = opt.get("fixed")
        self.fixed = (pd.Series(np.asarray(fixed, dtype=bool), index=names) if fixed is not None
                      else pd.Series(False, index=names))
        self.npar = len(names) - int(self.fixed.sum())
        self.n = int(loglik_obj.n_animals)
        self.settings = dict(settings)

    @property
    def sessions(self) -> list[str]:
        """Session labels, in the order of the fit."""
        return [s.ch.session for s in self._ll.sessions]

    # ------------------------------------------------------------------ basic statistics
    @property
    def se(self) -> pd.Series:
        """Standard errors of the betas (link scale)."""
        return pd.Series(np.sqrt(np.clip(np.diag(self.cov.to_numpy()), 0, None)),
                         index=self.params.index, name="se")

    @property
    def aic(self) -> float:
        return -2.0 * self.loglik + 2.0 * self.npar

    @property
    def aicc(self) -> float:
        k = self.npar
        denom = self.n - k - 1
        return self.aic + (2.0 * k * (k + 1) / denom if denom > 0 else np.nan)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals of the betas on the link scale."""
        z = norm.ppf(1 - alpha / 2)
        se = self.se
        return pd.DataFrame({"lower": self.params - z * se, "upper": self.params + z * se})

    # ------------------------------------------------------------------ real parameters
    def predict(self, alpha: float = 0.05, *, newdata: pd.DataFrame | None = None
                ) -> pd.DataFrame:
        """Real parameters: estimate, SE and back-transformed limits, one row per parameter.

        With ``newdata`` (a frame of covariate values, e.g. ``forest``; ``x, y`` in metres;
        optional ``session``), the real parameters at each of its rows, as secr's
        ``predict(fit, newdata=)``: a long frame with the newdata columns, ``parameter``,
        ``link, estimate, se, lcl, ucl``. Without it, continuous density terms are at secr's
        default (``x``, ``y`` at the mask mean; a covariate at the mean of its values).

        Returns
        -------
        DataFrame
            Index: parameter name (``D``, ``g0`` or ``lambda0``, ``sigma``, ``pmix``), with the
            varying terms in brackets when a parameter has several values
            (``g0[bTRUE=1]``). Columns ``link, estimate, se, lcl, ucl``. D is in animals per
            hectare, sigma in metres.
        """
        if newdata is not None:
            return self._predict_newdata(pd.DataFrame(newdata), alpha)
        rows = []
        beta = self.params.to_numpy()
        V = self.cov.to_numpy()
        for p, label, xrow, link in self.design.real_rows():
            b = self.design.blocks[p]
            sl = slice(b.start, b.start + len(b.columns))
            eta = float(xrow @ beta[sl])
            se_eta = float(np.sqrt(max(xrow @ V[sl, sl] @ xrow, 0.0)))
            est = float(untransform(eta, link))
            se = float(se_untransform(eta, se_eta, link))
            lcl, ucl = back_transformed_interval(eta, se_eta, link, alpha=alpha)
            name = p if not label else f"{p}[{label}]"
            rows.append({"parameter": name, "link": link, "estimate": est, "se": se,
                         "lcl": float(lcl), "ucl": float(ucl)})
        if self.design.nmix == 3:
            rows += self._pmix3_rows(alpha)
        return pd.DataFrame(rows).set_index("parameter")

    def _pmix3_rows(self, alpha: float) -> list[dict]:
        """Mixing proportions of 3 latent classes (multinomial logit): delta-method SEs,
        limits back-transformed from the logit of each proportion."""
        from scipy.special import expit, logit

        b = self.design.blocks["pmix"]
        sl = slice(b.start, b.start + len(b.columns))
        beta = self.params.to_numpy()
        V = self.cov.to_numpy()[sl, sl]
        p0 = self.design.pmix(beta)
        J = np.empty((3, 2))
        for i in range(2):
            e = np.zeros_like(beta)
            e[b.start + i] = 1e-6
            J[:, i] = (self.design.pmix(beta + e) - self.design.pmix(beta - e)) / 2e-6
        z = norm.ppf(1 - alpha / 2)
        rows = []
        for x in range(3):
            se = float(np.sqrt(max(J[x] @ V @ J[x], 0.0)))
            eta, se_eta = logit(p0[x]), se / (p0[x] * (1 - p0[x]))
            rows.append({"parameter": f"pmix[h3={x + 1}]", "link": "mlogit",
                         "estimate": float(p0[x]), "se": se,
                         "lcl": float(expit(eta - z * se_eta)),
                         "ucl": float(expit(eta + z * se_eta))})
        return rows

    def _real(self, p: str, X: np.ndarray, alpha: float = 0.05) -> pd.DataFrame:
        """Real parameter ``p`` at design rows ``X``: estimate, se, lcl, ucl (delta method on
        the link scale, limits back-transformed, as secr)."""
        b = self.design.blocks[p]
        sl = slice(b.start, b.start + len(b.columns))
        beta = self.params.to_numpy()[sl]
        V = self.cov.to_numpy()[sl, sl]
        X = np.atleast_2d(X)
        eta = X @ beta
        se_eta = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", X, V, X), 0.0))
        link = self.design.link[p]
        lcl, ucl = back_transformed_interval(eta, se_eta, link, alpha=alpha)
        return pd.DataFrame({"link": link, "estimate": untransform(eta, link),
                             "se": se_untransform(eta, se_eta, link),
                             "lcl": np.asarray(lcl, dtype=float),
                             "ucl": np.asarray(ucl, dtype=float)})

    def _predict_newdata(self, newdata: pd.DataFrame, alpha: float) -> pd.DataFrame:
        labels = self.sessions
        design = self.design
        out = []
        for r in range(len(newdata)):
            row = newdata.iloc[[r]].reset_index(drop=True)
            j = labels.index(str(row["session"][0])) if "session" in row else 0
            parts = []
            if not design.conditional:
                xy = (row[["x", "y"]].to_numpy(dtype=float)
                      if {"x", "y"} <= set(row.columns) else None)
                X = design.density_matrix(j, xy=xy, covariates=row, n=1)
                parts.append(self._real("D", X, alpha).assign(parameter="D"))
            kv = {c: row[c][0] for c in row.columns}
            for p in design.det_params:
                parts.append(self._real(p, design.det_row(p, j, kvalues=kv), alpha)
                             .assign(parameter=p))
            if design.nmix == 2:
                parts.append(self._real("pmix", np.ones((1, 1)), alpha).assign(parameter="pmix"))
            block = pd.concat(parts, ignore_index=True)
            for c in reversed(list(newdata.columns)):
                block.insert(0, c, row[c][0])
            out.append(block)
        cols = [*newdata.columns, "parameter", "link", "estimate", "se", "lcl", "ucl"]
        return pd.concat(out, ignore_index=True)[cols]

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame of the real parameters (``predict()`` with a column ``parameter``)."""
        return self.predict().reset_index()

    # ------------------------------------------------------------------ derived quantities
    def _session_index(self, session: str | int | None) -> int:
        labels = self.sessions
        if session is None:
            if len(labels) > 1:
                raise ValueError(f"several sessions ({labels}); say which with session=")
            return 0
        if isinstance(session, int) and session not in labels:
            return session
        return labels.index(str(session))

    def _pdot_and_density(self, beta: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray | None]:
        design = self.design
        ses = self._ll.sessions[j]
        pars = self._ll.session_pars(beta, j)
        pmix = design.pmix(beta)
        pd_ = np.zeros(ses.M)
        for x in range(design.nmix):
            if getattr(ses, "general", False):  # responses / time effects: from the states
                pd_ += pmix[x] * ses.class_loglik(pars[x])[1]
                continue
            _, h = ses.gh(*pars[x][0])
            pd_ += pmix[x] * -np.expm1(-(ses.U @ h))
        Ds = design.density(beta)
        return pd_, None if Ds is None else Ds[j]

    @cached_property
    def esa(self) -> pd.Series:
        """Effective sampling area (ha) per session: cell area x sum of p.(x) (naive)."""
        beta = self.params.to_numpy()
        out = {}
        for j, ses in enumerate(self._ll.sessions):
            p, _ = self._pdot_and_density(beta, j)
            out[ses.ch.session] = float(p.sum() * ses.area)
        return pd.Series(out, name="esa_ha")

    def density_map(self, session: str | int | None = None, *, se: bool = False,
                    alpha: float = 0.05) -> pd.DataFrame:
        """Density surface: mask points ``x, y`` with ``D`` (animals/ha) and ``pdot``.

        With ``se=True`` also ``se, lcl, ucl`` of D at each point (secr's
        ``predictDsurface(se.D = TRUE, cl.D = TRUE)``: delta method on the link scale,
        back-transformed limits). For the conditional likelihood D is the derived
        (Horvitz-Thompson) density n / esa.
        """
        j = self._session_index(session)
        ses = self._ll.sessions[j]
        p, D = self._pdot_and_density(self.params.to_numpy(), j)
        if D is None:
            D = np.full(ses.M, ses.n / (p.sum() * ses.area))
        out = pd.DataFrame({"x": ses.mask.xy[:, 0], "y": ses.mask.xy[:, 1], "D": D, "pdot": p})
        if se and not self.design.conditional:
            r = self._real("D", self.design.XD[j], alpha)
            out["se"], out["lcl"], out["ucl"] = r["se"].to_numpy(), r["lcl"].to_numpy(), \
                r["ucl"].to_numpy()
        return out

    def derived_density(self, alpha: float = 0.05) -> pd.DataFrame:
        """Horvitz-Thompson density n / esa per session (for CL fits, as secr's ``derived``)."""
        beta0 = self.params.to_numpy()
        V = self.cov.to_numpy()
        z = norm.ppf(1 - alpha / 2)
        rows = []
        for j, ses in enumerate(self._ll.sessions):
            def dhat(b, j=j, ses=ses):
                p, _ = self._pdot_and_density(b, j)
                return ses.n / (p.sum() * ses.area)
            D = dhat(beta0)
            g = np.empty(beta0.size)
            for i in range(beta0.size):
                h = 1e-6 * max(1.0, abs(beta0[i]))
                e = np.zeros(beta0.size)
                e[i] = h
                g[i] = (dhat(beta0 + e) - dhat(beta0 - e)) / (2 * h)
            esa = ses.n / D if D > 0 else np.inf
            var_n = ses.n / esa**2
            var = var_n + g @ V @ g
            se = np.sqrt(var)
            cv = se / D
            C = np.exp(z * np.sqrt(np.log(1 + cv**2)))
            rows.append({"session": ses.ch.session, "estimate": D, "se": se, "lcl": D / C,
                         "ucl": D * C, "CVn": np.sqrt(var_n) / D,
                         "CVa": np.sqrt(max(g @ V @ g, 0)) / D})
        return pd.DataFrame(rows).set_index("session")

    def _pdot_at(self, beta: np.ndarray, j: int, xy: np.ndarray) -> np.ndarray:
        """p.(x) at any points (naive state, mixture-weighted), as on the mask."""
        from amurlink.analysis.secr.detectfn import detection_arrays

        design = self.design
        ses = self._ll.sessions[j]
        if getattr(design, "has_noneuc", False):
            return self._pdot_at_noneuc(beta, j, xy)
        pars = self._ll.session_pars(beta, j)
        pmix = design.pmix(beta)
        tr = ses.ch.traps
        d = np.sqrt((tr[:, 0, None] - xy[None, :, 0]) ** 2 + (tr[:, 1, None] - xy[None, :, 1]) ** 2)
        out = np.zeros(len(xy))
        timed = getattr(ses, "_timed", False)
        cut = float(getattr(ses, "cutval", 0.0))  # signal strength: the detection threshold
        for x in range(design.nmix):
            if hasattr(ses, "pdot_at"):  # area and line detectors: integrals at the points
                out += pmix[x] * ses.pdot_at(pars[x][0], xy)
                continue
            if timed:  # per occasion group, naive state (site responses ignored here)
                H = 0.0
                for g, q in enumerate(pars[x][0]):
                    q = [np.asarray(v, dtype=float)[:, None] if isinstance(v, tuple) else v
                         for v in q]  # per detector with detector covariates
                    h = detection_arrays(d, design.detectfn, *q, cutval=cut)[1]
                    H = H + (ses._U0[g] + ses._U1[g]) @ h
                out += pmix[x] * -np.expm1(-H)
                continue
            par = [np.asarray(v, dtype=float)[:, None] if isinstance(v, tuple) else v
                   for v in pars[x][0]]
            _, h = detection_arrays(d, design.detectfn, *par, cutval=cut)
            out += pmix[x] * -np.expm1(-(ses.U @ h))
        return out

    def _pdot_at_noneuc(self, beta: np.ndarray, j: int, xy: np.ndarray) -> np.ndarray:
        """p.(x) of a non-Euclidean fit at any points: the least-cost distances exist on the
        model mask only, so a point takes the p. of the model-mask cell it falls in (fitted
        distances), and 0 beyond the mask (whose buffer is where detection is negligible)."""
        from scipy.spatial import cKDTree

        ses = self._ll.sessions[j]
        if not self._ll.set_noneuc(np.asarray(beta, dtype=float)):
            raise ValueError("the friction of these betas is not positive and finite")
        try:
            p_mask, _ = self._pdot_and_density(beta, j)
        finally:  # the results' other outputs read the distances at the MLE
            self._ll.set_noneuc(self.params.to_numpy())
        half = 0.5 * ses.mask.spacing
        dist, idx = cKDTree(ses.mask.xy).query(np.asarray(xy, dtype=float), p=np.inf)
        return np.where(dist <= half * (1 + 1e-9), p_mask[idx], 0.0)

    def derived(self, alpha: float = 0.05, *, se_esa: bool = True) -> pd.DataFrame:
        """secr's ``derived(fit, se.esa = TRUE)``: effective sampling area and the
        Horvitz-Thompson density n / esa per session, for CL and full-likelihood fits.

        Returns
        -------
        DataFrame
            Index (``session``, ``quantity`` in ``esa``, ``D``); columns ``estimate, se, lcl,
            ucl, CVn, CVa, CVD``. esa in hectares, D in animals per hectare; log-normal limits;
            CVn = sqrt(var n) / n (Poisson: var n = n; binomial: n (1 - esa / mask area)),
            CVa = SE(esa) / esa from the delta method, CVD = sqrt(CVn² + CVa²).
        With an individual covariate (classes of known level x, CL) D = sum_x n_x / esa_x,
        var(n) part sum_x n_x / esa_x², and esa is reported as n / D.
        """
        beta0 = self.params.to_numpy()
        V = self.cov.to_numpy()
        z = norm.ppf(1 - alpha / 2)
        binomial = getattr(self._ll, "distribution", "poisson") == "binomial"
        rows = []
        icov = getattr(self.design, "icov", None)
        for j, ses in enumerate(self._ll.sessions):
            nx = (np.bincount(self.design.knownclass[j], minlength=self.design.nmix)
                  if icov is not None else None)

            def class_esa(b, j=j, ses=ses):
                pars = self._ll.session_pars(b, j)
                if getattr(ses, "general", False):
                    return np.array([float(ses.class_loglik(pars[x])[1].sum()) * ses.area
                                     for x in range(self.design.nmix)])
                return np.array([float((-np.expm1(-(ses.U @ ses.gh(*pars[x][0])[1]))).sum())
                                 * ses.area for x in range(self.design.nmix)])

            def esa_of(b, j=j, ses=ses, nx=nx):
                if nx is not None:  # individual covariate: n / sum_x (n_x / esa_x)
                    return float(ses.n / np.sum(nx / class_esa(b)))
                p, _ = self._pdot_and_density(b, j)
                return float(p.sum() * ses.area)
            esa = esa_of(beta0)
            g = np.empty(beta0.size)
            for i in range(beta0.size):
                h = 1e-6 * max(1.0, abs(beta0[i]))
                e = np.zeros(beta0.size)
                e[i] = h
                g[i] = (esa_of(beta0 + e) - esa_of(beta0 - e)) / (2 * h)
            se_a = float(np.sqrt(max(g @ V @ g, 0.0))) if se_esa else 0.0
            n = ses.n
            D = n / esa
            varn = n * (1 - esa / (ses.M * ses.area)) if binomial else float(n)
            if nx is not None:  # Horvitz-Thompson: var = sum_i 1 / a_i^2, in units of n
                varn = float(np.sum(nx / class_esa(beta0) ** 2)) * esa**2
            cvn = np.sqrt(max(varn, 0.0)) / n if n > 0 else np.nan
            cva = se_a / esa
            cvd = float(np.sqrt(cvn**2 + cva**2))
            for q, est, cv, extra in (("esa", esa, cva, (np.nan, np.nan, np.nan)),
                                      ("D", D, cvd, (cvn, cva, cvd))):
                C = np.exp(z * np.sqrt(np.log(1 + cv**2)))
                rows.append({"session": ses.ch.session, "quantity": q, "estimate": est,
                             "se": est * cv, "lcl": est / C, "ucl": est * C,
                             "CVn": extra[0], "CVa": extra[1], "CVD": extra[2]})
        return pd.DataFrame(rows).set_index(["session", "quantity"])

    def _region_mask(self, region: Any, j: int, spacing: float | None):
        """secr's region mask: cell centres of a ``spacing`` grid over the region's bounding
        box whose centre lies in the region (``make.mask(type = "polygon")``)."""
        from amurlink.analysis.secr.mask import make_mask

        ses = self._ll.sessions[j]
        sp = float(spacing) if spacing is not None else ses.mask.spacing
        x0, y0, x1, y1 = region.bounds
        return make_mask(np.array([[x0, y0], [x1, y1]]), buffer=0.0, spacing=sp,
                         type="traprect", poly=region)

    def _region_N_mask(self, region: Any, j: int, spacing: float | None, alpha: float,
                       rn_method: str) -> pd.DataFrame:
        """region.N on a region mask built from a polygon (secr's rule)."""
        from scipy.spatial import cKDTree

        ses = self._ll.sessions[j]
        rm = self._region_mask(region, j, spacing)
        cell = rm.cell_area_ha
        design = self.design
        cov = None
        if ses.mask.covariates is not None:
            _, idx = cKDTree(ses.mask.xy).query(rm.xy)  # nearest model-mask point
            cov = ses.mask.covariates.iloc[idx].reset_index(drop=True)
        X = design.density_matrix(j, xy=rm.xy, covariates=cov, n=rm.n_points)
        blk = design.blocks["D"]
        sl = slice(blk.start, blk.start + len(blk.columns))
        beta0 = self.params.to_numpy()
        V = self.cov.to_numpy()
        link = design.link["D"]

        def EN(bD):
            return float(untransform(X @ bD, link).sum() * cell)

        en = EN(beta0[sl])
        if not design.terms["D"]:  # secr: D ~ 1 -> log-normal SE(D) x area
            eta = float(X[0] @ beta0[sl])
            se_eta = float(np.sqrt(max(X[0] @ V[sl, sl] @ X[0], 0.0)))
            se_en = float(se_untransform(eta, se_eta, link)) * rm.n_points * cell
        else:
            bD = beta0[sl]
            g = np.empty(bD.size)
            for i in range(bD.size):
                h = 1e-6 * max(1.0, abs(bD[i]))
                e = np.zeros(bD.size)
                e[i] = h
                g[i] = (EN(bD + e) - EN(bD - e)) / (2 * h)
            se_en = float(np.sqrt(max(g @ V[sl, sl] @ g, 0.0)))
        D = untransform(X @ beta0[sl], link)
        p = self._pdot_at(beta0, j, rm.xy)
        n = ses.n
        rn = n + float((D * (1 - p)).sum() * cell)
        v = se_en**2 - en
        se_rn = float(np.sqrt(v)) if v >= 0 else np.nan
        return self._region_table(en, se_en, rn, se_rn, n, n, alpha,
                                  regionsize=rm.n_points * cell)

    @staticmethod
    def _region_table(en, se_en, rn, se_rn, nlow, n_report, alpha, regionsize=None):
        z = norm.ppf(1 - alpha / 2)
        cv = se_en / en if en > 0 else np.nan
        C = np.exp(z * np.sqrt(np.log(1 + cv**2)))
        extra = rn - nlow
        if np.isnan(se_rn):
            rl = ru = np.nan
        elif extra > 0 and se_rn > 0:
            Cr = np.exp(z * np.sqrt(np.log(1 + (se_rn / extra) ** 2)))
            rl, ru = nlow + extra / Cr, nlow + extra * Cr
        else:
            rl = ru = rn
        out = pd.DataFrame(
            {"estimate": [en, rn], "se": [se_en, se_rn], "lcl": [en / C, rl],
             "ucl": [en * C, ru], "n": [n_report, n_report]},
            index=pd.Index(["E.N", "R.N"], name="quantity"),
        )
        if regionsize is not None:
            out.attrs["regionsize_ha"] = float(regionsize)
        return out

    def region_N(
        self, region: Any = None, *, session: str | int | None = None, alpha: float = 0.05,
        spacing: float | None = None, rn_method: str = "posterior",
    ) -> pd.DataFrame:
        """Expected (E.N) and realised (R.N) number of animals in a region, as secr's ``region.N``.

        Parameters
        ----------
        region : shapely geometry, bool array or None
            Region (a country, a park...) as a polygon in the mask's CRS, a boolean per mask
            point, or None for the whole mask.
        session : str or int, optional
            Session (required with several sessions).
        alpha : float
            1 - confidence level.

        Returns
        -------
        DataFrame
            Rows ``E.N`` and ``R.N``; columns ``estimate, se, lcl, ucl, n``. E.N = integral of
            D over the region; R.N = expected number of the detected animals whose centre is
            in the region plus the expected undetected animals there. SE of R.N is
            ``sqrt(SE(E.N)**2 - E.N)`` and its log-normal interval has the detected count as
            lower bound (secr's "poisson" method).

        Other Parameters
        ----------------
        spacing : float, optional
            With a polygon ``region``: integrate over secr's region mask, a grid of this
            spacing over the polygon (default the model mask's spacing when ``rn_method``
            is ``"poisson"``), which may reach beyond the model mask, as secr's
            ``region.N(fit, region = polygon, spacing = ...)``. Covariates at its points are
            those of the nearest model-mask point.
        rn_method : {"posterior", "poisson"}
            ``"poisson"`` is secr's R.N: all n detected animals plus the expected undetected
            animals in the region, SE ``sqrt(SE(E.N)² - E.N)`` (NaN where negative, as secr).
            ``"posterior"`` (default) counts instead the detected animals whose activity
            centre lies in the region (posterior expectation); both agree for the whole mask.
        """
        if self.design.conditional:
            raise ValueError("region_N needs a full-likelihood fit (density is a parameter)")
        if rn_method not in ("posterior", "poisson"):
            raise ValueError(f"rn_method must be 'posterior' or 'poisson', got {rn_method!r}")
        j = self._session_index(session)
        ses = self._ll.sessions[j]
        if (region is not None and hasattr(region, "bounds")
                and (spacing is not None or rn_method == "poisson")):
            return self._region_N_mask(region, j, spacing, alpha, rn_method)
        if region is None:
            inside = np.ones(ses.M, dtype=bool)
        elif isinstance(region, np.ndarray) and region.dtype == bool:
            inside = region
        else:
            inside = ses.mask.contains(region)
        a = ses.area
        beta0 = self.params.to_numpy()
        V = self.cov.to_numpy()
        z = norm.ppf(1 - alpha / 2)

        def EN(b):
            D = self.design.density(b)[j]
            return float(D[inside].sum() * a)

        en = EN(beta0)
        XD = self.design.XD[j]
        blk = self.design.blocks["D"]
        sl = slice(blk.start, blk.start + len(blk.columns))
        if not self.design.terms["D"]:  # secr: D ~ 1 -> log-normal SE(D) x area
            # density constant over this session's mask: SE(D) x area, as secr (log-normal SE)
            x0 = XD[0]
            eta = float(x0 @ beta0[sl])
            se_eta = float(np.sqrt(max(x0 @ V[sl, sl] @ x0, 0.0)))
            se_en = float(se_untransform(eta, se_eta, self.design.link["D"])) * inside.sum() * a
        else:
            g = np.empty(beta0.size)
            for i in range(beta0.size):
                h = 1e-6 * max(1.0, abs(beta0[i]))
                e = np.zeros(beta0.size)
                e[i] = h
                g[i] = (EN(beta0 + e) - EN(beta0 - e)) / (2 * h)
            se_en = float(np.sqrt(max(g @ V @ g, 0.0)))
        cv = se_en / en if en > 0 else np.nan
        C = np.exp(z * np.sqrt(np.log(1 + cv**2)))
        # realised: posterior of detected animals' centres + undetected expected
        p, D = self._pdot_and_density(beta0, j)
        n_in = self._detected_in(beta0, j, inside)
        rn = n_in + float((D * (1 - p))[inside].sum() * a)
        se_rn = float(np.sqrt(max(se_en**2 - en, 0.0)))
        nlow = float(ses.n if inside.all() else n_in)
        extra = rn - nlow
        if extra > 0 and se_rn > 0:
            Cr = np.exp(z * np.sqrt(np.log(1 + (se_rn / extra) ** 2)))
            rl, ru = nlow + extra / Cr, nlow + extra * Cr
        else:
            rl = ru = rn
        n_report = ses.n if inside.all() else n_in
        return pd.DataFrame(
            {"estimate": [en, rn], "se": [se_en, se_rn], "lcl": [en / C, rl],
             "ucl": [en * C, ru], "n": [n_report, n_report]},
            index=pd.Index(["E.N", "R.N"], name="quantity"),
        )

    def _detected_in(self, beta: np.ndarray, j: int, inside: np.ndarray) -> float:
        """Expected number of detected animals whose activity centre lies in ``inside``."""
        ses = self._ll.sessions[j]
        if ses.n == 0 or inside.all():
            return float(ses.n)
        design = self.design
        pmix = design.pmix(beta)
        D = design.density(beta)[j]
        logpi = np.log(D) - np.log(D.sum())
        kc = (self._ll.knownclass(j) if hasattr(self._ll, "knownclass")
              else design.knownclass[j])
        post = np.zeros((ses.n, ses.M))
        lps = []
        allpars = self._ll.session_pars(beta, j)
        for x in range(design.nmix):
            pars = allpars[x]
            LL, _ = ses.class_loglik(pars)
            w = np.full(ses.n, pmix[x])
            if design.nmix > 1:
                w = np.where(kc >= 0, (kc == x).astype(float), w)
            with np.errstate(divide="ignore"):
                lps.append(LL + logpi[None, :] + np.log(w)[:, None])
        stacked = np.stack(lps)
        tot = logsumexp(stacked.reshape(-1, ses.n, ses.M), axis=(0, 2))
        post = np.exp(logsumexp(stacked, axis=0) - tot[:, None])
        return float(post[:, inside].sum())

    def to_dict(self, alpha: float = 0.05) -> dict:
        """JSON-ready summary: ``estimates`` per real parameter, ``loglik``, ``aic``, ``region_N``.

        ``estimates`` maps each parameter (``D`` in animals per hectare, ``g0`` or
        ``lambda0``, ``sigma`` in metres) to ``link, estimate, se, lcl, ucl``. ``region_N``
        holds E.N and R.N over the whole mask (per session when there are several).
        """
        pred = self.predict(alpha)
        estimates = {
            name: {k: (row[k] if k == "link" else float(row[k]))
                   for k in ("link", "estimate", "se", "lcl", "ucl")}
            for name, row in pred.iterrows()
        }
        out: dict = {
            "detectfn": self.design.detectfn.name,
            "likelihood": "conditional" if self.design.conditional else "full",
            "n": self.n,
            "npar": self.npar,
            "estimates": estimates,
            "beta": {k: float(v) for k, v in self.params.items()},
            "beta_se": {k: float(v) for k, v in self.se.items()},
            "loglik": self.loglik,
            "aic": self.aic,
            "aicc": self.aicc,
            "optimiser_code": self.code,
            # the same densities per 100 km2 (1 animal / 100 km2 = 1e-4 / ha)
            "D_per_100km2": {name: {k: v * 1e4 for k, v in row.items() if k != "link"}
                             for name, row in estimates.items() if name.startswith("D")},
        }
        def _rn(table: pd.DataFrame) -> dict:
            return {q: {k: (int(r[k]) if k == "n" else float(r[k]))
                        for k in ("estimate", "se", "lcl", "ucl", "n")}
                    for q, r in table.iterrows()}
        if not self.design.conditional:
            labels = self.sessions
            if len(labels) == 1:
                out["region_N"] = _rn(self.region_N(alpha=alpha))
            else:
                out["region_N"] = {lab: _rn(self.region_N(session=lab, alpha=alpha))
                                   for lab in labels}
        else:
            dd = self.derived_density(alpha)
            out["derived_D"] = {str(k): {c: float(v) for c, v in r.items()}
                                for k, r in dd.iterrows()}
            out["D_per_100km2"] = {str(k): {c: float(r[c]) * 1e4
                                            for c in ("estimate", "se", "lcl", "ucl")}
                                   for k, r in dd.iterrows()}
        return out

    # ------------------------------------------------------------------ summary
    def summary(self) -> SECRSummary:
        """Summary object with ``to_text()`` and ``to_html()``."""
        s = self.settings
        header = {
            "detector": ", ".join(sorted({x.ch.detector for x in self._ll.sessions})),
            "detection function": self.design.detectfn.name,
            "likelihood": "conditional" if self.design.conditional else "full",
            "sessions": len(self._ll.sessions),
            "animals (n)": self.n,
            "mask points": sum(x.M for x in self._ll.sessions),
            "log-likelihood": f"{self.loglik:.6f}",
            "AIC": f"{self.aic:.3f}",
            "AICc": f"{self.aicc:.3f}",
            "npar": self.npar,
            "optimiser code": self.code,
            "fastproximity": any(x.fast for x in getattr(self._ll, "_parts",
                                                          self._ll.sessions)),
        }
        if s.get("model"):
            header["model"] = ", ".join(f"{k} {v}" for k, v in s["model"].items())
        betas = pd.DataFrame({"beta": self.params, "se": self.se}).join(self.conf_int())
        region = None
        if not self.design.conditional and len(self._ll.sessions) == 1:
            region = self.region_N()
        return SECRSummary(header, self.predict(), betas, region)

    def __repr__(self) -> str:
        return (f"SECRResults(detectfn={self.design.detectfn.name}, loglik={self.loglik:.4f}, "
                f"npar={self.npar}, n={self.n})")
