"""``amurlink genotypes``: group DNA samples into individuals."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import typer

from amurlink.cli import app
from amurlink.cli._common import FORMAT_OPTION, OutputFormat, emit_json, handle_errors, usage_error

genotypes_app = typer.Typer(name="genotypes", help="DNA genotypes: read, harmonise, match.",
                            no_args_is_help=True)
app.add_typer(genotypes_app, name="genotypes")


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


_FILES = typer.Argument(..., help="Genotype files (long, wide or GenAlEx).")
_MISSING = typer.Option(None, "--missing", help="Missing-allele code(s).")
_IGNORE = typer.Option(None, "--ignore", help="Metadata columns to skip (comma list).")
_REFERENCE = typer.Option(
    None, "--reference-samples",
    help="CSV with referenceID,sampleID: samples of the same DNA typed by different labs; "
         "lab offsets are estimated from them and applied before matching.")
_ALLOWANCE = typer.Option("auto", "--allowance", help="Mismatch allowance or 'auto'.")


@genotypes_app.command("match")
def match(
    files: list[Path] = _FILES,
    missing: list[str] = _MISSING,
    ignore: list[str] = _IGNORE,
    reference_samples: Path = _REFERENCE,
    allowance: str = _ALLOWANCE,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Group samples into individuals (allelematch's method, allowance chosen from the data)."""
    from amurlink.identify.genotypes import (
        apply_lab_offsets,
        estimate_lab_offsets,
        match_genotypes,
        read_genotypes,
    )

    if allowance != "auto" and not allowance.isdigit():
        raise usage_error(f"--allowance must be 'auto' or a whole number, got {allowance!r}")
    for f in files:
        if not f.exists():
            raise usage_error(f"file not found: {f}")
    with handle_errors():
        opts = {"ignore": _split(ignore)}
        if missing:
            opts["missing"] = _split(missing)
        tables = read_genotypes(files, **opts)
        genotypes = tables.genotypes
        calibration = None
        if reference_samples is not None:
            ref = pd.read_csv(reference_samples, dtype=str)
            calibration = estimate_lab_offsets(genotypes, tables.samples, ref)
            genotypes = apply_lab_offsets(genotypes, tables.samples, calibration.loci)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = match_genotypes(
                genotypes, sex=tables.sex if len(tables.sex) else None,
                mismatch_allowance="auto" if allowance == "auto" else int(allowance))
        payload = result.to_dict()
        payload["warnings"] = [str(w.message) for w in caught]
        if calibration is not None:
            payload["lab_offsets"] = calibration.fit.to_dict(orient="records")
            payload["unmapped_alleles"] = calibration.unmapped.to_dict(orient="records")
        if fmt == OutputFormat.json:
            emit_json(payload)
            return
        typer.echo(f"{payload['n_samples']} samples -> {payload['n_individuals']} individuals "
                   f"(mismatch allowance {result.mismatch_allowance}, profile "
                   f"{result.profile_shape}); panel PID {result.pid:.3g}, PIDsib "
                   f"{result.pidsib:.3g}")
        for ind in payload["individuals"]:
            flag = f"  re-type: {', '.join(ind['ambiguous'])}" if ind["ambiguous"] else ""
            typer.echo(f"  {ind['individual']}: {len(ind['samples'])} samples, "
                       f"PIDsib {ind['pidsib']:.2g}{flag}")
        for w in payload["warnings"]:
            typer.secho(f"warning: {w}", err=True, fg=typer.colors.YELLOW)


_JOINT = typer.Argument(..., help="Joint package folder (holds datapackage.json).")
_LINK_FILES = typer.Argument(..., help="Genotype files of every lab, or a folder (e.g. a "
                                       "simulated study or its dna/ folder).")
_LAB = typer.Option(None, "--lab",
                    help="Lab of files without a lab column: NAME for all, or FILE=NAME "
                         "(repeat or comma list; FILE is the file name or stem).")
_MAX_KM = typer.Option(5.0, "--max-km", min=0.0,
                       help="A camera detection within this distance of a sample ...")
_MAX_DAYS = typer.Option(60.0, "--max-days", min=0.0,
                         help="... and this many days is proposed as a dna-camera link.")
_NO_WITHIN = typer.Option(False, "--no-within-lab",
                          help="Do not propose each sample as its lab individual.")


def _labs(values: list[str] | None) -> str | dict[str, str] | None:
    items = _split(values)
    if not items:
        return None
    if len(items) == 1 and "=" not in items[0]:
        return items[0]
    out = {}
    for it in items:
        if "=" not in it:
            raise usage_error(f"--lab {it!r}: give FILE=LAB for each file, or one LAB for all")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    return out


@genotypes_app.command("link")
def link(
    joint_dir: Path = _JOINT,
    files: list[Path] = _LINK_FILES,
    missing: list[str] = _MISSING,
    ignore: list[str] = _IGNORE,
    reference_samples: Path = _REFERENCE,
    lab: list[str] = _LAB,
    allowance: str = _ALLOWANCE,
    max_km: float = _MAX_KM,
    max_days: float = _MAX_DAYS,
    no_within_lab: bool = _NO_WITHIN,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Propose DNA links in the joint package: each lab's individuals against the other's
    (``dna``), against catalogue individuals with confirmed samples (``dna``), and near camera
    detections of catalogue individuals (``dna-camera``, for review). Nothing is confirmed."""
    from amurlink.identify.genotypes import link_genotypes

    if allowance != "auto" and not allowance.isdigit():
        raise usage_error(f"--allowance must be 'auto' or a whole number, got {allowance!r}")
    if not (joint_dir / "datapackage.json").is_file():
        raise usage_error(f"{joint_dir} is not a package folder (no datapackage.json)")
    for f in files:
        if not f.exists():
            raise usage_error(f"file not found: {f}")
    labs = _labs(lab)
    with handle_errors():
        opts: dict = {"ignore": _split(ignore), "max_km": max_km, "max_days": max_days,
                      "within_lab": not no_within_lab,
                      "mismatch_allowance": "auto" if allowance == "auto" else int(allowance)}
        if missing:
            opts["missing"] = _split(missing)
        if labs is not None:
            opts["labs"] = labs
        if reference_samples is not None:
            opts["reference"] = reference_samples
        source = files[0] if len(files) == 1 and files[0].is_dir() else files
        res, prop = link_genotypes(joint_dir, source, **opts)
        kinds = res.proposals["kind"].value_counts().to_dict()
        payload = {
            "n_samples": len(res.samples), "n_individuals": res.match.n_individuals,
            "mismatch_allowance": res.match.mismatch_allowance,
            "profile_shape": res.match.profile_shape,
            "proposals": {k: int(v) for k, v in kinds.items()},
            "appended": len(prop.proposed),
            "skipped": {k: int(v) for k, v in prop.skipped["skipReason"].value_counts().items()},
            "warnings": res.warnings,
        }
        if fmt == OutputFormat.json:
            emit_json(payload)
            return
        typer.echo(f"{payload['n_samples']} samples -> {payload['n_individuals']} DNA individuals "
                   f"(mismatch allowance {payload['mismatch_allowance']}, profile "
                   f"{payload['profile_shape']})")
        for k in ("cross-lab", "within-lab", "catalogue", "camera"):
            typer.echo(f"  {k}: {int(kinds.get(k, 0))} proposal(s)")
        typer.echo(f"appended {payload['appended']} proposed link(s) to {joint_dir}; skipped "
                   f"{len(prop.skipped)} {payload['skipped'] or ''}".rstrip())
        for w in payload["warnings"]:
            typer.secho(f"warning: {w}", err=True, fg=typer.colors.YELLOW)
