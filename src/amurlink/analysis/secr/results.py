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
        lines.append("Real parameters (D in animals/ha, sigma in metres):")
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
        names = self.design.beta_names
        self.params = pd.Series(opt["beta"], index=names, name="beta")
        self.cov = pd.DataFrame(_ginv(opt["hessian"]), index=names, columns=names)
        self.hessian = opt["hessian"]
        self.loglik = float(opt["loglik"])
        self.gradient = np.asarray(opt["gradient"])
        self.iterations = int(opt["iterations"])
        self.code = int(opt["code"])
        self.npar = len(names)
        self.n = int(loglik_obj.n_animals)
        self.settings = dict(settings)

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
    def predict(self, alpha: float = 0.05) -> pd.DataFrame:
        """Real parameters: estimate, SE and back-transformed limits, one row per parameter.

        Returns
        -------
        DataFrame
            Index: parameter name (``D``, ``g0`` or ``lambda0``, ``sigma``, ``pmix``), with the
            varying terms in brackets when a parameter has several values
            (``g0[bTRUE=1]``). Columns ``link, estimate, se, lcl, ucl``. D is in animals per
            hectare, sigma in metres.
        """
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
        return pd.DataFrame(rows).set_index("parameter")

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame of the real parameters (``predict()`` with a column ``parameter``)."""
        return self.predict().reset_index()

    # ------------------------------------------------------------------ derived quantities
    def _session_index(self, session: str | int | None) -> int:
        labels = [s.ch.session for s in self._ll.sessions]
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
        icpt, sig = design.detection(beta)
        pmix = design.pmix(beta)
        pd_ = np.zeros(ses.M)
        for x in range(design.nmix):
            _, h = ses.gh(float(icpt[j, x, 0]), float(sig[j, x, 0]))
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

    def density_map(self, session: str | int | None = None) -> pd.DataFrame:
        """Density surface: mask points ``x, y`` with ``D`` (animals/ha) and ``pdot``.

        For the conditional likelihood D is the derived (Horvitz-Thompson) density n / esa.
        """
        j = self._session_index(session)
        ses = self._ll.sessions[j]
        p, D = self._pdot_and_density(self.params.to_numpy(), j)
        if D is None:
            D = np.full(ses.M, ses.n / (p.sum() * ses.area))
        return pd.DataFrame({"x": ses.mask.xy[:, 0], "y": ses.mask.xy[:, 1], "D": D, "pdot": p})

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

    def region_N(
        self, region: Any = None, *, session: str | int | None = None, alpha: float = 0.05
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
        """
        if self.design.conditional:
            raise ValueError("region_N needs a full-likelihood fit (density is a parameter)")
        j = self._session_index(session)
        ses = self._ll.sessions[j]
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
        if np.all(XD == XD[0]):
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
        icpt, sig = design.detection(beta)
        pmix = design.pmix(beta)
        D = design.density(beta)[j]
        logpi = np.log(D) - np.log(D.sum())
        kc = design.knownclass[j]
        post = np.zeros((ses.n, ses.M))
        lps = []
        for x in range(design.nmix):
            pars = [(float(icpt[j, x, st]), float(sig[j, x, st])) for st in range(design.n_states)]
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
        }
        def _rn(table: pd.DataFrame) -> dict:
            return {q: {k: (int(r[k]) if k == "n" else float(r[k]))
                        for k in ("estimate", "se", "lcl", "ucl", "n")}
                    for q, r in table.iterrows()}
        if not self.design.conditional:
            labels = [s.ch.session for s in self._ll.sessions]
            if len(labels) == 1:
                out["region_N"] = _rn(self.region_N(alpha=alpha))
            else:
                out["region_N"] = {lab: _rn(self.region_N(session=lab, alpha=alpha))
                                   for lab in labels}
        else:
            dd = self.derived_density(alpha)
            out["derived_D"] = {str(k): {c: float(v) for c, v in r.items()}
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
            "fastproximity": any(x.fast for x in self._ll.sessions),
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
