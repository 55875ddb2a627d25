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
