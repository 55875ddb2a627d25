"""``amurlink crossborder``: which tigers and leopards cross the China-Russia border."""

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
    table_text,
    usage_error,
)
from amurlink.exceptions import AmurlinkWarning

__all__ = ["crossborder_command", "run_crossborder"]


class LifeStage(str, enum.Enum):  # noqa: UP042 - same style as cli._common.OutputFormat
    adult = "adult"
    subadult = "subadult"
    juvenile = "juvenile"
    all = "all"


class Level(str, enum.Enum):  # noqa: UP042
    exact = "exact"
    km1 = "1km"
    km10 = "10km"
    withheld = "withheld"


def _find_config(joint_dir: Path, config: Path | None) -> Path | None:
    if config is not None:
        return config
    for folder in (joint_dir, joint_dir.parent):
        candidate = folder / "amurlink.toml"
        if candidate.is_file():
            return candidate
    return None


def run_crossborder(
    joint_dir: Path,
    *,
    border: Path | None = None,
    config: Path | None = None,
    species: list[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    life_stage: str | None = "adult",
    tolerance_m: float | None = None,
    level: str = "exact",
) -> Any:
    """Read the joint package, the study config and the border; return the CrossBorderResult.

    The border file is ``border`` or the config's ``[border] file``; the config is ``config``
    or the ``amurlink.toml`` in ``joint_dir`` or its parent folder.
    """
    from amurlink.analysis.crossborder import (
        DEFAULT_TOLERANCE_M,
        crossborder,
        protect_crossborder,
    )
    from amurlink.config import StudyConfig, load_config
    from amurlink.core.border import load_border
    from amurlink.io import read_camtrap_dp

    cfg_path = _find_config(joint_dir, config)
    cfg = load_config(cfg_path) if cfg_path is not None else StudyConfig()
    border_path = border or cfg.border.file
    if border_path is None:
        raise usage_error(
            f"no border file: pass --border FILE or set [border] file in an amurlink.toml "
            f"in {joint_dir} or its parent folder (or pass --config)")
    crs = cfg.crs.working
    b = load_border(border_path, crs=crs)
    from amurlink.analysis.quality import for_analyses

    # the records every analysis uses ([quality] records, [inputs] period): the report's
    ds = for_analyses(read_camtrap_dp(joint_dir, strict=False), cfg)
    countries = cfg.country_codes or ("CN", "RU")
    res = crossborder(
        ds, border=b, species=species or None, life_stage=life_stage, start=start, end=end,
        tolerance_m=DEFAULT_TOLERANCE_M if tolerance_m is None else tolerance_m,
        threshold_min=cfg.events.independence_minutes, countries=countries,
    )
    return protect_crossborder(res, level=level)


def _text(res: Any) -> str:
    from amurlink.analysis.crossborder import answer

    lines = []
    cs = res.countries
    if not len(res.summary):
        return "no identified individuals in the selection"
    first = answer(res)
    lines.append("Recorded in both countries, of the joint individuals identified:")
    for r in first["species"].itertuples(index=False):
        lines.append(f"  {r.scientificName}: {r.transboundary} of {r.individuals}")
    if len(first["individuals"]):
        lines.append("Each of them: encounters per country, crossings, farthest km from the "
                     "border")
        lines.append(table_text(first["individuals"].drop(columns=["members"]), index=False,
                                float_format=lambda v: f"{v:.1f}", na_rep="-"))
    lines.append("")
    lines.append("Per species")
    cols = ["scientificName", "individuals", "transboundary", "transboundary_share",
            *[f"national_{c}" for c in cs], "national_sum", "double_counted",
            "crossings_per_individual"]
    lines.append(table_text(res.summary[cols], index=False,
                            float_format=lambda v: f"{v:.2f}"))
    lines.append("")
    lines.append("Per individual")
    ind = res.individuals
    cols = ["jointID", "scientificName", *[f"encounters_{c}" for c in cs], "encounters_border",
            "crossings", *[f"max_distance_km_{c}" for c in cs], "first_seen", "last_seen",
            "sources"]
    shown = ind[cols].copy()
    for c in ("first_seen", "last_seen"):
        shown[c] = shown[c].dt.strftime("%Y-%m-%d")
    lines.append(table_text(shown, index=False, float_format=lambda v: f"{v:.1f}",
                            na_rep="-"))
    return "\n".join(lines)


_JOINT_DIR = typer.Argument(..., exists=True, file_okay=False, dir_okay=True, resolve_path=True,
                            help="Joint package folder (holds datapackage.json).")


_SPECIES = typer.Option(None, "--species", help="Only this species (repeat for several); a "
                        "species name also matches its subspecies.")
_FROM = typer.Option(None, "--from", help="First day (UTC), e.g. 2014-09-01.")
_TO = typer.Option(None, "--to", help="Last day (UTC, inclusive).")
_STAGE = typer.Option(LifeStage.adult, "--life-stage",
                      help="Individuals of this life stage (or all).")
_BORDER = typer.Option(None, "--border", exists=True, dir_okay=False, resolve_path=True,
                       help="border.geojson (default: from amurlink.toml).")
_CONFIG = typer.Option(None, "--config", exists=True, dir_okay=False, resolve_path=True,
                       help="amurlink.toml (default: in JOINT_DIR or above).")
_TOL = typer.Option(250.0, "--tolerance-m", min=0.0, help="Encounters this close to the "
                    "border line, in metres, are 'at the border'.")
_LEVEL = typer.Option(Level.exact, "--level",
                      help="Location protection of distances in the output.")


@app.command("crossborder")
def crossborder_command(
    joint_dir: Path = _JOINT_DIR,
    species: list[str] | None = _SPECIES,
    start: str | None = _FROM,
    end: str | None = _TO,
    life_stage: LifeStage = _STAGE,
    border: Path | None = _BORDER,
    config: Path | None = _CONFIG,
    tolerance_m: float = _TOL,
    level: Level = _LEVEL,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Per joint individual: encounters per country, crossings, distance from the border."""
    with handle_errors():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AmurlinkWarning)
            res = run_crossborder(
                joint_dir, border=border, config=config, species=species, start=start,
                end=end, life_stage=None if life_stage is LifeStage.all else life_stage.value,
                tolerance_m=tolerance_m, level=level.value,
            )
        for w in caught:
            if issubclass(w.category, AmurlinkWarning):
                typer.secho(f"warning: {w.message}", err=True, fg=typer.colors.YELLOW)
    if fmt is OutputFormat.json:
        emit_json(res.to_dict())
    else:
        typer.echo(_text(res))
