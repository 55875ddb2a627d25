"""``amurlink design``: SECR survey design (expected counts, spacing, layout search, power).

``amurlink design expect --traps TRAPS --detector proximity --detectfn HHN --D 1e-4
--lambda0 0.1 --sigma 3000 --noccasions 60 [--buffer M | --mask MASK.csv] --format json``
prints E(n), E(r), E(m), E(n2) and the rule-of-thumb RSE(D) of one setting.
"""

from __future__ import annotations

import enum
import json
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


_TRAPS = typer.Option(..., "--traps", help="Detector layout: secr text format (ID x y \\[usage]) "
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

_MAX_SWAPS = typer.Option(None, "--max-swaps", help="Stop after this many improving swaps: "
                          "the work, not the machine's speed, decides (reproducible).")


def _search_limits(time_limit: float | None, max_swaps: int | None) -> float | None:
    """The search's time limit: as given, 30 s by default, none when only --max-swaps is."""
    if time_limit is not None and not time_limit > 0:
        raise usage_error("--time-limit must be positive")
    if max_swaps is not None and max_swaps < 0:
        raise usage_error("--max-swaps must be 0 or more")
    if time_limit is None and max_swaps is None:
        return 30.0
    return time_limit


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


def _budgets(values: list[str] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for v in values or []:
        country, sep, amount = v.partition("=")
        try:
            out[country.strip()] = float(amount)
            if not sep or not country.strip() or out[country.strip()] < 0:
                raise ValueError
        except ValueError:
            raise usage_error(f"--budget {v!r}: give COUNTRY=CAMERAS, e.g. --budget CN=60") \
                from None
    return out


def _read_candidates(path: Path):
    import pandas as pd

    from amurlink.exceptions import DataError

    if not path.is_file():
        raise usage_error(f"--candidates {path}: file not found")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: cannot read the candidate table as CSV ({exc})") from None
    missing = {"x", "y"} - set(frame.columns)
    if missing:
        raise DataError(f"{path}: candidate table needs columns x and y (metres); missing "
                        f"{', '.join(sorted(missing))}")
    for col in ("x", "y", "cameras"):
        if col in frame:
            vals = pd.to_numeric(frame[col], errors="coerce")
            bad = ~vals.abs().lt(float("inf"))  # NaN (not a number) or infinite
            if bad.any():
                row = int(bad.to_numpy().nonzero()[0][0]) + 2
                raise DataError(f"{path}, row {row}, field {col}: expected a number, got "
                                f"{frame[col].iloc[row - 2]!r}; fix or remove the row")
            frame[col] = vals.astype(float)
    if "site_id" not in frame:
        frame["site_id"] = [str(i + 1) for i in range(len(frame))]
    return frame


@design_app.command("search")
def search(
    candidates: Path = typer.Option(..., "--candidates", help="CSV of candidate sites: x, y "
                                    "(metres) [, site_id, country, cameras (2 = paired "
                                    "station), fixed (1 = camera already out), current "
                                    "(1 = in the current layout)]."),
    k: int = typer.Option(..., "-k", "--k", help="Number of sites to choose."),
    detector: DetectorType = _DETECTOR,
    detectfn: DetectFn = _DETECTFN,
    D: float = _D,  # noqa: N803
    lambda0: float | None = _LAMBDA0,
    g0: float | None = _G0,
    sigma: float = _SIGMA,
    noccasions: int = _NOCC,
    criterion: str = typer.Option("min_nr", "--criterion", help="min_nr (min(E(n), E(r))), "
                                  "En, Er or En2."),
    budget: list[str] | None = typer.Option(None, "--budget", help="COUNTRY=CAMERAS, "
                                            "repeatable."),
    min_distance: str | None = typer.Option(None, "--min-distance", help="Least distance "
                                            "between chosen sites (metres or 2km)."),
    roads: Path | None = typer.Option(None, "--roads", help="GeoJSON of roads/tracks (same "
                                      "projected CRS as the candidates)."),
    road_distance: str | None = typer.Option(None, "--road-distance", help="Sites must lie "
                                             "within this distance of --roads."),
    buffer: str | None = _BUFFER,
    nx: int = _NX,
    time_limit: float | None = typer.Option(None, "--time-limit", help="Seconds for the "
                                            "search (default 30; none with --max-swaps)."),
    max_swaps: int | None = _MAX_SWAPS,
    seed: int = typer.Option(0, "--seed", help="Seed of the random restarts."),
    transboundary_weight: float = typer.Option(0.0, "--transboundary-weight", help="Add w x "
                                               "E(animals detected in both countries) to the "
                                               "criterion."),
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Choose k of n candidate sites maximising min(E(n), E(r)) (or another criterion).

    Prints site IDs, the criterion, E(n), E(r), RSE and the gain over the current layout
    (``current`` column) or an evenly spread one; no coordinates are printed.
    """
    import numpy as np

    from amurlink.analysis.secr import make_mask
    from amurlink.cli.secr import parse_distance
    from amurlink.design import CRITERIA, near_lines, search_layout

    par = _detectpar(detectfn.value, lambda0, g0, sigma)
    if criterion not in CRITERIA:
        raise usage_error(f"--criterion must be one of {', '.join(CRITERIA)}")
    if (roads is None) != (road_distance is None):
        raise usage_error("--roads and --road-distance go together")
    time_limit = _search_limits(time_limit, max_swaps)
    if not transboundary_weight >= 0:
        raise usage_error("--transboundary-weight must be >= 0")
    budgets = _budgets(budget)
    dmin = parse_distance(min_distance, name="--min-distance") or 0.0
    with handle_errors():
        cand = _read_candidates(candidates)
        xy = cand[["x", "y"]].to_numpy(float)
        eligible = None
        if roads is not None:
            import shapely

            if not roads.is_file():
                raise usage_error(f"--roads {roads}: file not found")
            gj = json.loads(roads.read_text(encoding="utf-8"))
            feats = gj.get("features", [gj]) if isinstance(gj, dict) else []
            lines = [shapely.geometry.shape(f.get("geometry", f)) for f in feats]
            eligible = near_lines(xy, lines, parse_distance(road_distance,
                                                            name="--road-distance"))
        fixed = (np.flatnonzero(cand["fixed"].fillna(0).astype(float) > 0)
                 if "fixed" in cand else None)
        current = (np.flatnonzero(cand["current"].fillna(0).astype(float) > 0)
                   if "current" in cand else None)
        if current is not None and len(current) != k:
            current = None
        mask = make_mask(xy, buffer=parse_distance(buffer, name="--buffer") or 4.0 * sigma,
                         nx=nx)
        res = search_layout(cand, mask, k, D=D, detectpar=par, noccasions=noccasions,
                            detectfn=detectfn.value, detector=detector.value,
                            criterion=criterion, budgets=budgets, min_distance=dmin,
                            eligible=eligible, fixed=fixed,
                            baseline=current if current is not None else "regular",
                            time_limit=time_limit, max_swaps=max_swaps, seed=seed,
                            transboundary_weight=transboundary_weight)
    ids = cand["site_id"].astype(str).to_numpy()
    payload = res.to_dict()
    payload["chosen_site_ids"] = [ids[i] for i in res.chosen]
    payload["baseline_kind"] = "current" if current is not None else "regular"
    if payload["baseline"] is not None:
        payload["baseline"]["chosen_site_ids"] = [ids[i] for i in payload["baseline"]["chosen"]]
    if output_format == OutputFormat.json:
        emit_json(payload)
        return
    c = res.counts
    lines = [f"chose {len(res.chosen)} of {len(cand)} sites in {res.seconds:.1f} s "
             f"({criterion} = {res.criterion:.2f})",
             f"E(n) {c['En']:.2f}  E(r) {c['Er']:.2f}  RSE(D) {_pct(res.rse)}"
             + (f"  transboundary {c['transboundary']:.2f}" if "transboundary" in c else "")]
    for country, v in res.per_country.items():
        lines.append(f"  {country}: {v['sites']} sites, {v['cameras']:g} cameras")
    if res.gain is not None:
        lines.append(f"{payload['baseline_kind']} layout: {criterion} = "
                     f"{res.baseline[criterion]:.2f}, RSE(D) {_pct(res.baseline_rse)}; "
                     f"gain {100 * res.gain:+.1f}%")
    lines.append("sites: " + " ".join(payload["chosen_site_ids"]))
    typer.echo("\n".join(lines))


@design_app.command("power")
def power(
    rse: float = typer.Option(..., "--rse", help="RSE (CV) of one survey's density estimate, "
                              "e.g. from 'design expect'."),
    ratio: float | None = typer.Option(None, "--ratio", help="Two surveys: the change D2/D1 "
                                       "to detect (e.g. 0.7)."),
    annual_change: float | None = typer.Option(None, "--annual-change", help="Annual surveys:"
                                               " annual change to detect (0.059 = +5.9 %)."),
    double_in: float | None = typer.Option(None, "--double-in", help="Annual surveys: density "
                                           "doubles in this many years (e.g. 12)."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level."),
    target: float = typer.Option(0.8, "--power", help="Target power (annual surveys)."),
    test: str = typer.Option("two.sided", "--test", help="two.sided, increase or decrease."),
    adjust_rse: bool = typer.Option(False, "--adjust-rse", help="Two surveys: scale the second"
                                    " RSE by 1/sqrt(D2/D1) (secrdesign adjustRSE)."),
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Power to detect a change: two surveys (secrdesign) or a trend over annual surveys."""
    from amurlink.design.power import (
        annual_change_for,
        power_two_surveys,
        ratio_interval,
        trend_power,
        years_to_detect,
    )

    modes = sum(v is not None for v in (ratio, annual_change, double_in))
    if modes != 1:
        raise usage_error("give exactly one of --ratio, --annual-change, --double-in")
    with handle_errors():
        if ratio is not None:
            p = power_two_surveys(ratio, rse, alpha=alpha, test=test, adjust_rse=adjust_rse)
            lo, hi = ratio_interval(ratio, rse, alpha=alpha, adjust_rse=adjust_rse)
            payload: dict[str, Any] = {"mode": "two_surveys", "ratio": ratio, "rse": rse,
                                       "alpha": alpha, "test": test, "power": p,
                                       "expected_interval": [lo, hi]}
            text = (f"power to detect D2/D1 = {ratio:g} with RSE {_pct(rse)}: {100 * p:.1f}% "
                    f"(expected {100 * (1 - alpha):g}% interval {lo:.2f}-{hi:.2f})")
        else:
            r = annual_change if annual_change is not None else annual_change_for(2.0,
                                                                                 double_in)
            years = years_to_detect(r, rse, alpha=alpha, power=target, test=test)
            curve = [trend_power(n, r, rse, alpha=alpha, test=test).power
                     for n in range(3, (years or 30) + 1)]
            payload = {"mode": "trend", "annual_change": r, "rse": rse, "alpha": alpha,
                       "target_power": target, "test": test, "years": years,
                       "power_by_years": dict(zip(range(3, 3 + len(curve)), curve,
                                                  strict=True))}
            text = (f"annual change {100 * r:+.2f}% with CV {_pct(rse)}: "
                    + (f"{years} annual surveys reach {100 * target:g}% power"
                       if years else "not detectable within 100 years"))
    if output_format == OutputFormat.json:
        emit_json(payload)
    else:
        typer.echo(text)


@design_app.command("theme")
def theme(
    scenario: str = typer.Option("neaspec", "--scenario", help="Simulator scenario: small, "
                                 "neaspec or large."),
    seed: int = typer.Option(7, "--seed", help="Seed of the landscape and camera layout."),
    road_distance: str | None = typer.Option(None, "--road-distance", help="Only candidate "
                                             "sites within this distance of roads/tracks."),
    transboundary_weight: float = typer.Option(1.0, "--transboundary-weight", help="Weight of "
                                               "E(animals detected in both countries)."),
    time_limit: float | None = typer.Option(None, "--time-limit", help="Seconds for the "
                                            "search (default 30; none with --max-swaps)."),
    max_swaps: int | None = _MAX_SWAPS,
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Propose a joint layout for a simulated theme study against the study's own layout.

    Figures only (RSE(D), E(n), E(r), expected transboundary animals, joint against
    national); no site positions are printed.
    """
    from amurlink.cli.secr import parse_distance
    from amurlink.design.theme import theme_study_design

    if scenario not in ("small", "neaspec", "large"):
        raise usage_error("--scenario must be small, neaspec or large")
    time_limit = _search_limits(time_limit, max_swaps)
    if not transboundary_weight >= 0:
        raise usage_error("--transboundary-weight must be >= 0")
    with handle_errors():
        r = theme_study_design(scenario, seed=seed, time_limit=time_limit, max_swaps=max_swaps,
                               road_distance_m=parse_distance(road_distance,
                                                              name="--road-distance"),
                               transboundary_weight=transboundary_weight)
    r.pop("proposed_xy")
    if output_format == OutputFormat.json:
        emit_json(r)
        return
    lines = [f"theme study design, scenario {scenario} (seed {seed}), "
             f"{r['settings']['candidates']} candidate sites"]
    for label in ("current", "proposed"):
        d = r[label]
        cams = ", ".join(f"{c} {v:g}" for c, v in d["cameras"].items())
        lines.append(f"{label:9s} cameras {cams}: E(n) {d['En']:.1f}, E(r) {d['Er']:.1f}, "
                     f"RSE(D) {_pct(d['rse'])}, transboundary animals detected "
                     f"{d['transboundary_detected']:.1f}")
    lines.append(f"gain in the criterion: {100 * r['gain']:+.1f}%")
    for row in r["joint_vs_national"]:
        lines.append(f"  RSE(D) {row['survey']}: {_pct(row['rse'])}")
    typer.echo("\n".join(lines))


@design_app.command("national")
def national(
    layout: Path = typer.Option(..., "--layout", help="CSV of stations: x, y, country "
                                "[, cameras (2 = paired), current (1 = out now; with "
                                "--candidates-from-layout the others are candidates)]."),
    detector: DetectorType = _DETECTOR,
    detectfn: DetectFn = _DETECTFN,
    D: float = _D,  # noqa: N803
    lambda0: float | None = _LAMBDA0,
    g0: float | None = _G0,
    sigma: float = _SIGMA,
    noccasions: int = _NOCC,
    buffer: str | None = _BUFFER,
    nx: int = _NX,
    cameras_needed: bool = typer.Option(False, "--cameras-needed", help="Also: how many of "
                                        "its sites each country needs alone (current = 1 kept, "
                                        "the other rows added) to reach the joint RSE of the "
                                        "current rows."),
    unitcost: list[str] | None = typer.Option(None, "--unitcost", help="NAME=VALUE: perarray, "
                                              "perdetector, pervisit, perkm, perdetection."),
    visits: int | None = typer.Option(None, "--visits", help="Station visits (default "
                                      "noccasions + 1)."),
    occasion_days: float = typer.Option(1.0, "--occasion-days", help="Days per occasion."),
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Joint against national RSE(D), cameras each country needs alone, costing per country."""
    from amurlink.cli.secr import parse_distance
    from amurlink.design import cameras_needed_alone, costing, joint_vs_national

    par = _detectpar(detectfn.value, lambda0, g0, sigma)
    costs: dict[str, float] = {}
    for v in unitcost or []:
        name, sep, value = v.partition("=")
        try:
            costs[name.strip()] = float(value)
            if not sep:
                raise ValueError
        except ValueError:
            raise usage_error(f"--unitcost {v!r}: give NAME=VALUE, e.g. perdetector=300") \
                from None
    if visits is not None and visits < 1:
        raise usage_error("--visits must be at least 1")
    with handle_errors():
        frame = _read_candidates(layout)
        if "country" not in frame:
            from amurlink.exceptions import DataError

            raise DataError(f"{layout}: the layout needs a country column (e.g. CN, RU)")
        buf = parse_distance(buffer, name="--buffer")
        cur = frame[frame["current"].fillna(0).astype(float) > 0] if "current" in frame \
            else frame
        kw = {"D": D, "detectpar": par, "noccasions": noccasions, "detectfn": detectfn.value,
              "detector": detector.value}
        jvn = joint_vs_national(cur.reset_index(drop=True), buffer=buf, nx=nx, **kw)
        cost = costing(cur.reset_index(drop=True), unitcost=costs, visits=visits,
                       occasion_days=occasion_days, **kw)
        need = None
        if cameras_needed:
            target = float(jvn.loc[jvn["survey"] == "joint", "rse"].iloc[0])
            need = cameras_needed_alone(frame, target_rse=target, buffer=buf, nx=nx, **kw)
    payload = {"joint_vs_national": jvn.to_dict(orient="records"),
               "costing": cost.to_dict(orient="records"),
               "cameras_needed_alone": None if need is None else need.to_dict(orient="records")}
    if output_format == OutputFormat.json:
        emit_json(payload)
        return
    lines = ["RSE(D), rule of thumb:"]
    for r in jvn.itertuples():
        lines.append(f"  {r.survey:18s} {r.stations:4d} stations {r.cameras:6g} cameras  "
                     f"{_pct(r.rse)}")
    lines.append("costing per country:")
    lines.append(cost.to_string(index=False))
    if need is not None:
        lines.append("stations each country needs alone for the joint RSE:")
        for r in need.itertuples():
            got = "not reachable with its sites" if r.stations is None or r.stations != \
                r.stations else f"{int(r.stations)} stations, {r.cameras:g} cameras"
            lines.append(f"  {r.country}: {got} (RSE {_pct(r.reached_rse)})")
    typer.echo("\n".join(lines))
