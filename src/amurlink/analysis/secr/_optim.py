"""Maximisation on the link scale: start values (autoini-like), Newton/BFGS, numerical Hessian."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq, minimize

from amurlink.exceptions import ConvergenceWarning, FitError

__all__ = ["start_values", "maximise", "fd_gradient", "fd_hessian"]


def fd_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, fx: float | None = None,
                step: float = 1e-5) -> np.ndarray:
    """Central-difference gradient."""
    g = np.empty_like(x)
    for i in range(x.size):
        h = step * max(1.0, abs(x[i]))
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def fd_hessian(f: Callable[[np.ndarray], float], x: np.ndarray, fx: float | None = None,
               step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian from function values (2p + 2p(p-1) + 1 evaluations)."""
    p = x.size
    fx = f(x) if fx is None else fx
    hs = step * np.maximum(1.0, np.abs(x))
    H = np.empty((p, p))
    fp = np.empty(p)
    fm = np.empty(p)
    for i in range(p):
        e = np.zeros(p)
        e[i] = hs[i]
        fp[i] = f(x + e)
        fm[i] = f(x - e)
        H[i, i] = (fp[i] - 2 * fx + fm[i]) / hs[i] ** 2
    for i in range(p):
        for j in range(i + 1, p):
            ei = np.zeros(p)
            ej = np.zeros(p)
            ei[i] = hs[i]
            ej[j] = hs[j]
            v = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * hs[i] * hs[j]
            )
            H[i, j] = H[j, i] = v
    return H


def nlm_hessian(f: Callable[[np.ndarray], float], x: np.ndarray, fx: float | None = None,
                ndigit: int = 12) -> np.ndarray:
    """Forward-difference Hessian exactly as R's ``nlm(hessian = TRUE)`` (``fdhess``).

    secr takes its variance matrix from this Hessian, so reproducing secr's standard errors
    to 1e-4 needs the same (first-order) differences: step ``10**(-ndigit/3) * max(x, 1)``.
    """
    x = np.array(x, dtype=float)
    p = x.size
    fx = f(x) if fx is None else fx
    eta = 10.0 ** (-ndigit / 3.0)
    step = np.empty(p)
    fi = np.empty(p)
    for i in range(p):
        xi = x.copy()
        xi[i] = x[i] + eta * max(x[i], 1.0)
        step[i] = xi[i] - x[i]
        fi[i] = f(xi)
    H = np.empty((p, p))
    for i in range(p):
        xi = x.copy()
        xi[i] = x[i] + 2 * step[i]
        H[i, i] = ((fx - fi[i]) + (f(xi) - fi[i])) / (step[i] * step[i])
        xi[i] = x[i] + step[i]
        for j in range(i + 1, p):
            xij = xi.copy()
            xij[j] = x[j] + step[j]
            H[i, j] = H[j, i] = ((fx - fi[i]) + (f(xij) - fi[j])) / (step[i] * step[j])
    return H


def _scaled_gradient(g: np.ndarray, x: np.ndarray, f: float) -> float:
    """R nlm's relative gradient, ``max_i |g_i| max(|x_i|, 1) / max(|f|, 1)`` (typsize and
    fscale 1), which it compares with ``gradtol`` (1e-6) to stop."""
    return float(np.max(np.abs(g) * np.maximum(np.abs(x), 1.0)) / max(abs(f), 1.0))


def maximise(
    loglik: Callable[[np.ndarray], float],
    start: np.ndarray,
    *,
    gradient: Callable[[np.ndarray], np.ndarray] | None = None,
    value_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]] | None = None,
    method: str = "newton",
    gtol: float = 1e-6,
    maxiter: int = 200,
    bfgs_gtol: float = 1e-6,
    hess_inv0: np.ndarray | None = None,
) -> dict:
    """Maximise ``loglik`` from ``start``; return beta, loglik, Hessian of -loglik, info.

    ``method="newton"`` runs BFGS to the neighbourhood of the maximum, then Newton steps
    with R nlm's forward-difference Hessian until the gradient is below ``gtol`` (the Hessian at
    the maximum is also the one used for the variance matrix, as secr uses nlm's Hessian).
    With an analytic gradient (``value_and_grad``) BFGS itself stops at R nlm's own
    convergence test, the scaled gradient ``max_i |g_i| max(|x_i|, 1) / max(|f|, 1)`` below
    ``bfgs_gtol`` (nlm's ``gradtol``, 1e-6), and Newton steps follow only if it did not.
    """

    def nll(b: np.ndarray) -> float:
        v = loglik(b)
        return 1e10 if not np.isfinite(v) else -v

    def nfg(b: np.ndarray) -> tuple[float, np.ndarray]:
        v, gr = value_and_grad(b)
        if not np.isfinite(v) or not np.all(np.isfinite(gr)):
            return 1e10, np.zeros_like(b)
        return -v, -gr

    def ngrad(b: np.ndarray) -> np.ndarray:
        if value_and_grad is not None:
            return nfg(b)[1]
        if gradient is not None:
            return -gradient(b)
        return fd_gradient(nll, b)

    x = np.asarray(start, dtype=float).copy()
    f0 = nll(x)
    if f0 >= 1e10:
        raise FitError(
            "the log-likelihood is not finite at the start values; check the mask covers the "
            "detectors and that detections are possible where recorded (usage > 0)"
        )
    nit = 0
    if method in ("newton", "bfgs"):
        # quasi-Newton to the neighbourhood of the maximum (forward-difference gradient) ...
        if value_and_grad is not None:
            fun, jac = nfg, True
        else:
            fun = nll
            jac = (lambda b: -gradient(b)) if gradient is not None else "2-point"
        extra = {} if hess_inv0 is None else {"hess_inv0": hess_inv0}
        if value_and_grad is not None:
            # nlm's scaled-gradient test in absolute units at the start (|f| and |x| change
            # little near the maximum; the exact test is applied below)
            bgtol = bfgs_gtol * max(abs(f0), 1.0) / max(np.max(np.abs(x)), 1.0)
        else:
            bgtol = 1e-2 if method == "newton" else gtol
        res = minimize(fun, x, jac=jac, method="BFGS",
                       options={**extra, "gtol": bgtol, "maxiter": maxiter})
        x = res.x
        nit += int(res.nit)
    elif method == "nelder-mead":
        res = minimize(nll, x, method="Nelder-Mead",
                       options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 5000 * x.size})
        x = res.x
        nit += int(res.nit)
    else:
        raise ValueError(f"unknown method {method!r}; use 'newton', 'bfgs' or 'nelder-mead'")
    code = 1
    if value_and_grad is not None and method in ("newton", "bfgs") and np.isfinite(res.fun):
        fx, g = float(res.fun), np.asarray(res.jac, dtype=float)  # BFGS's last evaluation
    else:
        fx = nll(x)
        g = ngrad(x)
    # ... then Newton-Raphson steps with nlm's finite-difference Hessian (as secr/nlm); with
    # an analytic gradient BFGS may already have converged, and the Hessian is then only
    # computed once, at the end
    h_current = False
    # converged by nlm's own test (analytic gradient): no Newton steps
    nlm_done = value_and_grad is not None and method in ("newton", "bfgs") and (
        _scaled_gradient(g, x, fx) < bfgs_gtol
    )
    if not nlm_done and np.max(np.abs(g)) >= gtol:
        H = nlm_hessian(nll, x, fx)
        h_current = True
    for _ in range(30):
        if nlm_done or np.max(np.abs(g)) < gtol:
            break
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        if not np.all(np.isfinite(step)) or g @ step <= 0:
            step = g / max(np.abs(np.diag(H)).max(), 1.0)
        t = 1.0
        while t > 1e-8:
            xn = x - t * step
            fn = nll(xn)
            if fn <= fx:
                break
            t /= 2
        else:
            code = 3
            break
        moved = np.max(np.abs(xn - x))
        x, fx = xn, fn
        nit += 1
        h_current = False
        g = ngrad(x)
        if moved < 1e-9 or np.max(np.abs(g)) < gtol:
            break
        H = nlm_hessian(nll, x, fx)
        h_current = True
    if not nlm_done and np.max(np.abs(g)) > 1e-3:
        code = 3
        warnings.warn(
            f"the optimiser stopped with gradient {np.max(np.abs(g)):.2g}; the estimates may not "
            "be at the maximum (try other start values or method)",
            ConvergenceWarning,
            stacklevel=3,
        )
    if fx >= 1e10:
        raise FitError("the optimiser ended where the log-likelihood is not finite")
    if not h_current:
        H = nlm_hessian(nll, x, fx)
    return {"beta": x, "loglik": -fx, "hessian": H, "gradient": -g, "iterations": nit,
            "code": code}


def _rpsv(sessions) -> float | None:
    num = 0.0
    den = 0.0
    for ch in sessions:
        if ch.n == 0:
            continue
        i, s, k = np.nonzero(ch.counts)
        w = ch.counts[i, s, k].astype(float)
        xy = ch.traps[k]
        # per animal with two or more detections: weighted centroid and squared deviations
        W = np.bincount(i, weights=w, minlength=ch.n)
        keep = W >= 2
        if not keep.any():
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            cen = np.stack([np.bincount(i, weights=w * xy[:, c], minlength=ch.n) / W
                            for c in range(2)], axis=1)
        sel = keep[i]
        num += float((w[sel] * ((xy[sel] - cen[i[sel]]) ** 2).sum(1)).sum())
        den += float((W[keep] - 1).sum())
    if den <= 0 or num <= 0:
        return None
    return float(np.sqrt(num / (2 * den)))


def start_values(loglik_obj) -> np.ndarray:
    """Start values like secr's ``autoini``: sigma from the spread of recaptures, the detection
    intercept matching the mean number of detections per animal, D = n / esa."""
    design = loglik_obj.design
    if getattr(loglik_obj, "linked", False):  # methods of the same animals
        return linked_start_values(loglik_obj)
    if getattr(loglik_obj.sessions[0], "dim", None) is not None:  # area or line detectors
        return area_start_values(loglik_obj)
    if design.detectfn.signal:
        return signal_start_values(loglik_obj)
    sessions = [s.ch for s in loglik_obj.sessions]
    fn = design.detectfn
    sig = _rpsv(sessions)
    if sig is None:
        tr = sessions[0].traps
        if tr.shape[0] > 1:
            from scipy.spatial import cKDTree

            dd, _ = cKDTree(tr).query(tr, k=2)
            sig = float(np.median(dd[:, 1]))
        else:
            sig = float(np.sqrt(sessions[0].mask.cell_area_ha if hasattr(sessions[0], "mask")
                                else 1e4))
    if fn.shape == "exponential":
        sig = sig / np.sqrt(2.0)
    ses = loglik_obj.sessions[0]
    ch = ses.ch
    nobs = ch.n_detections / max(ch.n, 1)

    usum = ses.usage.sum(1)

    # the distance part of the detection function does not change with the intercept
    z0 = (fn.z_start * sig if fn.z_distance else fn.z_start) if fn.extra else None
    with np.errstate(divide="ignore"):  # h = -log(1 - 1 * core) is not used
        g1, h1 = ses.gh_values(1.0, sig, z0) if z0 is not None else ses.gh_values(1.0, sig)
    core = h1 if fn.hazard else g1
    hcols = None
    if fn.hazard and ses.kind == "multi":  # summed hazards are linear in the intercept
        hcols = [ses.weighted_sum(uc, core) for uc in ses.usage_cols]

    def mean_det(intercept: float) -> float:
        # detection arrays at the distinct distances, summed over detectors through the
        # session's sparse maps (no (K, M) arrays)
        h = intercept * core if fn.hazard else -np.log1p(-intercept * core)
        if ses.kind == "multi":
            cols = ([intercept * c for c in hcols] if hcols is not None
                    else [ses.weighted_sum(uc, h) for uc in ses.usage_cols])
            H = np.stack(cols)[ses.occ_to_col]
            e = (-np.expm1(-H)).sum(0)
            tot = H.sum(0)
        elif ses.kind == "proximity":
            e = ses.weighted_sum(usum, -np.expm1(-h))
            tot = ses.weighted_sum(usum, h)
        else:
            e = tot = ses.weighted_sum(usum, h)
        pd_ = -np.expm1(-tot)
        return float(e.sum() / max(pd_.sum(), 1e-300))

    lo, hi = (1e-6, 0.999) if not fn.hazard else (1e-6, 50.0)
    try:
        # R uniroot's default tolerance, as secr's autoini
        icpt = _root_in(mean_det, nobs, lo, hi, xtol=1.22e-4)
    except ValueError:
        icpt = 0.1
    icpt = float(np.clip(icpt, 1e-4, 0.95 if not fn.hazard else 20.0))
    esa = None
    if not design.conditional:
        _g, h = ses.gh_values(icpt, sig, z0) if z0 is not None else ses.gh_values(icpt, sig)
        esa = float((-np.expm1(-ses.weighted_sum(ses.U, h))).sum() * ses.area)
    return _start_beta(design, icpt, sig, z0, esa, ch.n)


def _root_in(f: Callable[[float], float], target: float, lo: float, hi: float, *,
             xtol: float) -> float:
    """The value in [lo, hi] where ``f`` (increasing) reaches ``target``; an end when the
    target lies beyond it."""
    if f(hi) < target:
        return hi
    if f(lo) > target:
        return lo
    return float(brentq(lambda a: f(a) - target, lo, hi, xtol=xtol))


def _start_beta(design, icpt: float, sig: float, z0: float | None, esa: float | None,
                n: int) -> np.ndarray:
    """The beta vector of start values: detection intercept and sigma (and z) on their
    links, D = n / esa (full likelihood), pmix 0.5."""
    from amurlink.analysis.secr.links import transform

    fn = design.detectfn
    beta = np.zeros(design.npar)
    for p, val in zip(fn.parameters, (icpt, sig), strict=True):
        beta[design.blocks[p].start] = transform(val, design.link[p])
    if not design.conditional and esa is not None:
        beta[design.blocks["D"].start] = transform(max(n, 1) / max(esa, 1e-300),
                                                   design.link["D"])
    if fn.extra:
        beta[design.blocks[fn.extra].start] = transform(z0, design.link[fn.extra])
    if "pmix" in design.blocks:
        beta[design.blocks["pmix"].start] = 0.0
    return beta


def signal_start_values(ll) -> np.ndarray:
    """Start values of the signal-strength functions: the best, by log-likelihood, of a small
    grid around the halfnormal start (g0, sigma) of the same detections taken as binary.

    The attenuation over sigma is tried at 1/4 to 16 times sdS (BSS: normal deviates);
    SS/SSS then take beta0 so the mean measured signal is the expected signal at the mean
    detection distance (spherical spreading included), give or take one sdS, with sdS from
    the spread of the signals; BSS tries b0 at 0.25 to 2. One start from a rule alone can sit
    where the neglog link of beta1 is flat (no attenuation, beta1 -> 0) and the optimiser
    stays there: it did in 19 of 200 simulated SSS arrays, 80 to 125 log-likelihood units
    below the maximum. D as the halfnormal start."""
    from dataclasses import replace

    from amurlink.analysis.secr.detectfn import signal_mean
    from amurlink.analysis.secr.likelihood import LogLikelihood
    from amurlink.analysis.secr.links import transform, untransform

    design = ll.design
    fn = design.detectfn
    chs = [ses.ch for ses in ll.sessions]
    binary = [replace(ch, detector="proximity", signal=None, cutval=None)
              if ch.detector == "signal" else ch for ch in chs]
    hn = LogLikelihood(binary, [ses.mask for ses in ll.sessions], detectfn="HN",
                       conditional=design.conditional)
    b = start_values(hn)
    real = {p: float(untransform(b[hn.design.blocks[p].start], hn.design.link[p]))
            for p in ("g0", "sigma", *(() if design.conditional else ("D",)))}
    sig = real["sigma"]
    cands = []
    if fn.shape == "bss":
        for a in (0.25, 0.5, 1.0, 2.0):
            for x in (0.25, 0.5, 1.0, 2.0, 4.0):
                cands.append((a, -x / sig, None))
    else:
        vals = np.concatenate([ch.signal[~np.isnan(ch.signal)] for ch in chs])
        cut = float(chs[0].cutval)
        mbar = float(vals.mean()) if vals.size else cut
        z0 = float(np.std(vals, ddof=1)) if vals.size >= 2 else 1.0
        z0 = max(z0, 1e-3 * max(abs(cut), 1.0))
        rbar = sig * np.sqrt(np.pi / 2)  # mean distance of a halfnormal detection
        sph = fn.shape == "signalsph"
        for x in (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0):
            slope = -x * z0 / sig
            for shift in (-1.0, 0.0, 1.0):
                mu_at = (float(signal_mean(rbar, 0.0, slope, spherical=True)) if sph
                         else slope * rbar)
                cands.append((mbar + shift * z0 - mu_at, slope, z0))
    best, best_ll = None, -np.inf
    for a, slope, z0 in cands:
        beta = _start_beta(design, a, slope, z0, None, 0)
        if not design.conditional:
            beta[design.blocks["D"].start] = transform(real["D"], design.link["D"])
        v = ll(beta)
        if best is None or v > best_ll:
            best, best_ll = beta, v
    return best


def area_start_values(ll) -> np.ndarray:
    """Start values for area or line detectors: sigma from the spread of each animal's
    detection locations (secr's RPSV), lambda0 matching the mean number of detections per
    detected animal, D = n / esa."""
    from amurlink.analysis.secr.area import normaliser

    design = ll.design
    fn = design.detectfn
    num = den = 0.0
    for ses in ll.sessions:
        ii = ses.det[0]
        xy = ses.ch.detection_xy
        for i in np.unique(ii):
            p = xy[ii == i]
            if len(p) >= 2:
                num += float(((p - p.mean(axis=0)) ** 2).sum())
                den += len(p) - 1
    ses = ll.sessions[0]
    if den > 0 and num > 0:
        sig = float(np.sqrt(num / (2 * den)))
    else:
        sig = float(np.sqrt(ses.mask.cell_area_ha * 1e4) * 2)
    z0 = (fn.z_start * sig if fn.z_distance else fn.z_start) if fn.extra else None
    Hn = normaliser(fn, sig, z0, ses.dim)
    base = ses.integrals(sig, z0) / Hn  # (K, M)
    w = ses.U @ base  # expected detections per unit lambda0
    nobs = ses.ch.n_detections / max(ses.n, 1)

    def mean_det(lam: float) -> float:
        tot = lam * w
        return float(tot.sum() / max((-np.expm1(-tot)).sum(), 1e-300))

    lam0 = _root_in(mean_det, nobs, 1e-6, 1e4, xtol=1e-6)
    esa = float((-np.expm1(-lam0 * w)).sum() * ses.area)
    return _start_beta(design, lam0, sig, z0, esa, ses.n)


def linked_start_values(ll) -> np.ndarray:
    """Start values of a linked fit from each method fitted alone (``~1``): density from the
    method with most animals scaled to all animals, sigma and z from the first method, each
    method's intercept through the ``session`` columns where the model has them."""
    from amurlink.analysis.secr.likelihood import LogLikelihood
    from amurlink.analysis.secr.links import transform, untransform

    design = ll.design
    fn = design.detectfn
    starts = []
    for part in ll._parts:
        one = LogLikelihood(part.ch, part.mask, detectfn=fn, conditional=design.conditional)
        b = start_values(one)
        real = {p: float(untransform(b[one.design.blocks[p].start], one.design.link[p]))
                for p in one.design.blocks}
        starts.append((part.ch.n, real))
    beta = np.zeros(design.npar)
    base = starts[0][1]
    for p in design.det_params:
        blk = design.blocks[p]
        beta[blk.start] = transform(base[p], design.link[p])
        for j, (_n, real) in enumerate(starts[1:], start=1):
            col = f"session{design.sessions[j].session}"
            if col in blk.columns and design.link[p] == "log":
                beta[blk.start + blk.columns.index(col)] = np.log(real[p] / base[p])
    if not design.conditional:
        n_all = ll.sessions[0].n
        k = int(np.argmax([n for n, _ in starts]))
        n_k, real_k = starts[k]
        beta[design.blocks["D"].start] = transform(real_k["D"] * n_all / max(n_k, 1),
                                                   design.link["D"])
    return beta
