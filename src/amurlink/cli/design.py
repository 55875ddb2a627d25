"""``amurlink design``: SECR survey design (expected counts, spacing, layout search, power).

``amurlink design expect --traps TRAPS --detector proximity --detectfn HHN --D 1e-4
--lambda0 0.1 --sigma 3000 --noccasions 60 [--buffer M | --mask MASK.csv] --format json``
prints E(n), E(r), E(m), E(n2) and the rule-of-thumb RSE(D) of one setting.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

import typer

from amurlink.cli import app
from amurlink.cli._common import (
    FORMAT_OPTION,
    OutputFormat,
    emit_json,
    handle_errors,
    usage_error,
)

__all__ = ["design_app", "expect_payload"]

design_app = typer.Typer(
    name="design",
    help="Survey design for SECR: expected counts and RSE, optimal spacing, k-of-n layout "
    "search, power to detect a change.",
    no_args_is_help=True,
)
app.add_typer(design_app, name="design")


class DetectorType(str, enum.Enum):  # noqa: UP042 - Typer choices need str values
    proximity = "proximity"
    count = "count"
    multi = "multi"


class DetectFn(str, enum.Enum):  # noqa: UP042
    HN = "HN"
    HHN = "HHN"
    EX = "EX"
    HEX = "HEX"


class Distribution(str, enum.Enum):  # noqa: UP042
    poisson = "poisson"
    binomial = "binomial"


_TRAPS = typer.Option(..., "--traps", help="Detector layout: secr text format (ID x y [usage]) "
                      "or CSV with trap_id,x,y (metres).")
_DETECTOR = typer.Option(DetectorType.proximity, "--detector", help="Detector type.")
_DETECTFN = typer.Option(DetectFn.HHN, "--detectfn", help="Detection function (HN, EX are "
                         "cast to their hazard forms as secrdesign does).")
_D = typer.Option(..., "--D", help="Density, animals per hectare (1 per 100 km2 = 1e-4).")
_LAMBDA0 = typer.Option(None, "--lambda0", help="Hazard at distance 0 per occasion (HHN, HEX).")
_G0 = typer.Option(None, "--g0", help="Detection probability at distance 0 (HN, EX).")
_SIGMA = typer.Option(..., "--sigma", help="Spatial scale sigma, metres.")
_NOCC = typer.Option(..., "--noccasions", help="Number of occasions (e.g. days).")
_BUFFER = typer.Option(None, "--buffer", help="Mask buffer around detectors (metres, or 12km); "
                       "default 4 sigma.")
_MASK = typer.Option(None, "--mask", help="Mask CSV (x,y cell centres) instead of --buffer.")
_NX = typer.Option(64, "--nx", help="Mask cells across the x extent (with --buffer).")
_CF = typer.Option(1.0, "--cf", help="Correction factor of the rule-of-thumb RSE.")
_DIST = typer.Option(Distribution.poisson, "--distribution", help="Distribution of N.")


def _detectpar(detectfn: str, lambda0: float | None, g0: float | None,
               sigma: float) -> dict[str, float]:
    hazard = detectfn in ("HHN", "HEX")
    if lambda0 is not None and g0 is not None:
        raise usage_error("give either --lambda0 or --g0, not both")
    if hazard and lambda0 is None:
        raise usage_error(f"--detectfn {detectfn} needs --lambda0")
    if not hazard and g0 is None:
        raise usage_error(f"--detectfn {detectfn} needs --g0")
    if sigma is None or not sigma > 0:
        raise usage_error(f"--sigma must be a positive number of metres, got {sigma}")
    return {"lambda0": lambda0, "sigma": sigma} if hazard else {"g0": g0, "sigma": sigma}


def _read_layout(path: Path) -> Any:
    from amurlink.analysis.secr import read_traps

    if not path.is_file():
        raise usage_error(f"--traps {path}: file not found")
    return read_traps(path)


def _mask_for(traps: Any, *, mask: Path | None, buffer: str | None, sigma: float, nx: int):
    from amurlink.analysis.secr import make_mask, read_mask
    from amurlink.cli.secr import parse_distance

    if mask is not None and buffer is not None:
        raise usage_error("give either --mask or --buffer, not both")
    if mask is not None:
        if not mask.is_file():
            raise usage_error(f"--mask {mask}: file not found")
        return read_mask(mask)
    buffer_m = parse_distance(buffer, name="--buffer")
    if nx < 2:
        raise usage_error(f"--nx must be at least 2, got {nx}")
    return make_mask(traps[["x", "y"]].to_numpy(float), buffer=buffer_m or 4.0 * sigma, nx=nx)


def expect_payload(traps: Any, mask: Any, **kwargs: Any) -> dict[str, Any]:
    """The JSON payload of ``design expect`` (expected counts and settings)."""
    from amurlink.design import expected_counts

    e = expected_counts(traps, mask, **kwargs)
    out = e.to_dict()
    out["mask_spacing_m"] = mask.spacing
    return out


@design_app.command("expect")
def expect(
    traps: Path = _TRAPS,
    detector: DetectorType = _DETECTOR,
    detectfn: DetectFn = _DETECTFN,
    D: float = _D,  # noqa: N803 - the option is --D as in secrdesign
    lambda0: float | None = _LAMBDA0,
    g0: float | None = _G0,
    sigma: float = _SIGMA,
    noccasions: int = _NOCC,
    buffer: str | None = _BUFFER,
    mask: Path | None = _MASK,
    nx: int = _NX,
    cf: float = _CF,
    distribution: Distribution = _DIST,
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Expected E(n), E(r), E(m), E(n2), esa and rule-of-thumb RSE(D) of one layout."""
    par = _detectpar(detectfn.value, lambda0, g0, sigma)
    if noccasions < 1:
        raise usage_error(f"--noccasions must be at least 1, got {noccasions}")
    if not D > 0:
        raise usage_error(f"--D must be a positive density per hectare, got {D}")
    if not cf > 0:
        raise usage_error(f"--cf must be positive, got {cf}")
    layout = _read_layout(traps)
    with handle_errors():
        m = _mask_for(layout, mask=mask, buffer=buffer, sigma=sigma, nx=nx)
        ucols = [c for c in layout.columns if str(c).startswith("usage_")]
        if ucols and len(ucols) != noccasions:
            raise usage_error(f"{traps} has usage for {len(ucols)} occasions but --noccasions "
                              f"is {noccasions}")
        payload = expect_payload(layout, m, D=D, detectfn=detectfn.value, detectpar=par,
                                 noccasions=noccasions, detector=detector.value, CF=cf,
                                 distribution=distribution.value)
    if output_format == OutputFormat.json:
        emit_json(payload)
        return
    typer.echo(
        f"{payload['n_detectors']} {detector.value} detectors, {noccasions} occasions, "
        f"mask {payload['mask_points']} points ({payload['mask_area_ha']:.0f} ha)\n"
        f"E(n)  {payload['En']:.3f}   animals detected\n"
        f"E(r)  {payload['Er']:.3f}   recaptures\n"
        f"E(m)  {payload['Em']:.3f}   movements\n"
        f"E(n2) {payload['En2']:.3f}   animals at two or more detectors\n"
        f"esa   {payload['esa_ha']:.1f} ha\n"
        f"RSE(D) rule of thumb (CF {cf:g}, {distribution.value}): {_pct(payload['rse'])}"
    )


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


@design_app.command("spacing")
def spacing(
    traps: Path = _TRAPS,
    detector: DetectorType = _DETECTOR,
    detectfn: DetectFn = _DETECTFN,
    D: float = _D,  # noqa: N803
    lambda0: float | None = _LAMBDA0,
    g0: float | None = _G0,
    sigma: float = _SIGMA,
    noccasions: int = _NOCC,
    r_min: float = typer.Option(0.2, "--r-min", help="Smallest spacing / sigma."),
    r_max: float = typer.Option(4.0, "--r-max", help="Largest spacing / sigma."),
    r_step: float = typer.Option(0.2, "--r-step", help="Step of spacing / sigma."),
    cf: float = _CF,
    distribution: Distribution = _DIST,
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Rule-of-thumb RSE(D) against detector spacing (in sigma units) and the optimum."""
    import numpy as np

    from amurlink.design import optimal_spacing

    par = _detectpar(detectfn.value, lambda0, g0, sigma)
    if not (0 < r_min < r_max) or not r_step > 0:
        raise usage_error("need 0 < --r-min < --r-max and --r-step > 0")
    grid = np.round(np.arange(r_min, r_max + r_step / 2, r_step), 10)
    layout = _read_layout(traps)
    with handle_errors():
        res = optimal_spacing(layout[["x", "y"]].to_numpy(float), D=D, detectpar=par,
                              noccasions=noccasions, detectfn=detectfn.value,
                              detector=detector.value, R=grid, CF=cf,
                              distribution=distribution.value)
    if output_format == OutputFormat.json:
        emit_json(res.to_dict())
        return
    lines = ["   R  spacing_m      E(n)      E(r)    RSE"]
    for r in res.curve.itertuples():
        lines.append(f"{r.R:4.1f} {r.spacing_m:10.0f} {r.En:9.2f} {r.Er:9.2f} {_pct(r.RSE):>6}")
    if res.optimum_R is None:
        lines.append(res.note or "no optimum")
    else:
        lines.append(f"optimum: spacing {res.optimum_R:.3f} sigma = {res.optimum_spacing_m:.0f} m,"
                     f" RSE {_pct(res.minimum_RSE)}")
    typer.echo("\n".join(lines))
