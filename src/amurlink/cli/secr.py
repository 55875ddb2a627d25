"""``amurlink secr``: fit an SECR model to detector and detection files (secr formats)."""

from __future__ import annotations

import enum
import warnings
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
from amurlink.exceptions import AmurlinkWarning

__all__ = ["secr_command", "fit_files"]


class Detector(str, enum.Enum):  # noqa: UP042 - same style as cli._common.OutputFormat
    proximity = "proximity"
    count = "count"
    multi = "multi"
    single = "single"


_FILE = {"exists": False, "dir_okay": False, "resolve_path": True}


def fit_files(
    traps: Path,
    captures: Path,
    *,
    detector: str,
    detectfn: str = "HN",
    mask: Path | None = None,
    spacing: float | None = None,
    buffer: float | None = None,
    n_occasions: int | None = None,
    conditional: bool = False,
    fastproximity: bool = True,
) -> tuple[dict[str, Any], Any]:
    """Read the files, fit, and return the JSON payload of the ``secr`` command and the results.

    The mask is read from ``mask`` (spacing from ``spacing`` or the grid), or built around the
    detectors with ``buffer`` (default 100 m, secr's default) and ``spacing`` (default 64
    cells across).
    """
    from amurlink.analysis.secr import fit_secr, make_mask, read_capthist, read_mask

    ch = read_capthist(traps, captures, detector=detector, n_occasions=n_occasions)
    sessions = ch if isinstance(ch, list) else [ch]
    if mask is not None:
        m = read_mask(mask, spacing=spacing)
    else:
        import numpy as np

        xy = np.vstack([c.traps for c in sessions])
        m = make_mask(xy, buffer=100.0 if buffer is None else buffer, spacing=spacing)
    res = fit_secr(ch, m, detectfn=detectfn, conditional=conditional,
                   fastproximity=fastproximity)
    out = res.to_dict()
    out["detector"] = detector
    out["mask"] = {"points": m.n_points, "spacing_m": m.spacing, "cell_area_ha": m.cell_area_ha,
                   "area_ha": m.area_ha}
    out["units"] = {"D": "animals per hectare", "sigma": "metres"}
    return out, res


def _text(payload: dict[str, Any], res: Any) -> str:
    return res.summary().to_text()


_TRAPS_OPT = typer.Option(..., "--traps", help="Detector file: CSV trap_id,x,y[,occ1..] "
                               "or secr text 'trapID x y [usage]'.", **_FILE)
_CAPTURES_OPT = typer.Option(..., "--captures", help="Detections: CSV session,animal_id,"
                                  "occasion,trap_id or secr text 'Session ID Occasion Detector'.",
                                  **_FILE)
_MASK_OPT = typer.Option(None, "--mask", help="Mask points (x,y[,covariates]); "
                                     "default: a buffer around the detectors.", **_FILE)
_SPACING_OPT = typer.Option(None, "--spacing", min=0.0, help="Mask spacing in "
                                         "metres (default: from the mask grid, or 64 cells).")
_BUFFER_OPT = typer.Option(None, "--buffer", min=0.0, help="Mask buffer in metres "
                                        "when no --mask is given (default 100).")
_DETECTOR_OPT = typer.Option(..., "--detector", help="Detector type.")
_DETECTFN_OPT = typer.Option("HN", "--detectfn", help="Detection function: HN, HHN, EX, "
                                 "HEX.")
_NOCCASIONS_OPT = typer.Option(None, "--noccasions", min=1, help="Number of "
                                          "occasions (default: usage columns, else the last "
                                          "occasion with a detection).")
_CL_OPT = typer.Option(False, "--cl", help="Conditional likelihood.")
_FASTPROXIMITY_OPT = typer.Option(True, "--fastproximity/--no-fastproximity",
                                       help="Collapse proximity/count data over occasions "
                                       "(secr's default).")


@app.command("secr")
def secr_command(
    traps: Path = _TRAPS_OPT,
    captures: Path = _CAPTURES_OPT,
    mask: Path | None = _MASK_OPT,
    spacing: float | None = _SPACING_OPT,
    buffer: float | None = _BUFFER_OPT,
    detector: Detector = _DETECTOR_OPT,
    detectfn: str = _DETECTFN_OPT,
    noccasions: int | None = _NOCCASIONS_OPT,
    cl: bool = _CL_OPT,
    fastproximity: bool = _FASTPROXIMITY_OPT,
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Fit an SECR model (secr 5.5.0 likelihood) to detector and detection files."""
    from amurlink.analysis.secr import get_detectfn

    try:
        get_detectfn(detectfn)
    except ValueError as exc:
        raise usage_error(str(exc)) from None
    if mask is not None and buffer is not None:
        raise usage_error("give either --mask or --buffer, not both")
    for label, path in (("--traps", traps), ("--captures", captures), ("--mask", mask)):
        if path is not None and not path.is_file():
            raise usage_error(f"{label} {path}: file not found")
    with handle_errors():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AmurlinkWarning)
            payload, res = fit_files(
                traps, captures, detector=detector.value, detectfn=detectfn, mask=mask,
                spacing=spacing, buffer=buffer, n_occasions=noccasions, conditional=cl,
                fastproximity=fastproximity,
            )
        for w in caught:
            typer.secho(f"warning: {w.message}", err=True, fg=typer.colors.YELLOW)
        if output_format == OutputFormat.json:
            emit_json(payload)
        else:
            typer.echo(_text(payload, res))
