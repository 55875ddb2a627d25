"""Read microsatellite genotype files (long, wide, GenAlEx) into ``samples`` and ``genotypes``."""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from amurlink.io.validation import ValidationReport
from amurlink.schema import TABLES

__all__ = ["GenotypeTables", "read_genotypes", "validate_genotypes_file"]

#: Columns of the ``samples`` table, in declared order.
SAMPLE_COLUMNS: tuple[str, ...] = TABLES["samples"].field_names
#: Columns of the ``genotypes`` table, in declared order.
GENOTYPE_COLUMNS: tuple[str, ...] = TABLES["genotypes"].field_names
#: Columns of the per-sample sex calls (no declared table yet; see docs/genotypes.md).
SEX_COLUMNS: tuple[str, ...] = ("sampleID", "sex", "replicate")

_SAMPLE_TYPES = TABLES["samples"]["sampleType"].enum or ()

# Accepted spellings (case- and punctuation-insensitive) of the long-form columns.
_LONG_ALIASES: dict[str, tuple[str, ...]] = {
    "sampleID": ("sampleid", "sample", "sampleidentifier", "id", "individual", "specimen"),
    "locus": ("locus", "marker", "loc"),
    "allele1": ("allele1", "a1", "allelea", "size1"),
    "allele2": ("allele2", "a2", "alleleb", "size2"),
    "replicate": ("replicate", "rep", "pcr", "pcrreplicate", "tube", "run"),
}
_INDEX_NAMES = ("sampleid", "sample", "id", "individual", "samplename", "specimen")
_SEX_NAMES = ("sex", "gender")
_PAIR_SUFFIXES = (("a", "b"), ("_1", "_2"), (".1", ".2"), ("_a", "_b"), ("-1", "-2"), ("1", "2"))
#: Largest allele size accepted, in bp (microsatellite fragments are a few hundred bp).
MAX_ALLELE_BP = 10_000
#: Largest genotype file read, in bytes (a lab's file is a few MB at most).
MAX_FILE_BYTES = 256 * 1024**2


@dataclass(frozen=True)
class GenotypeTables:
    """The ``samples`` and ``genotypes`` tables read from one or more genotype files.

    Attributes
    ----------
    samples : DataFrame
        One row per sample, with the columns of ``amurlink.schema.TABLES["samples"]``.
    genotypes : DataFrame
        One row per sample, locus and PCR replicate, with the columns of
        ``amurlink.schema.TABLES["genotypes"]``; alleles are nullable integers (bp) in the
        lab's own sizes, smaller first.
    sex : DataFrame
        Sex calls per sample and replicate (``sampleID``, ``sex`` in {"F", "M"},
        ``replicate``); empty when the files have no sex column.
    report : ValidationReport
        What reading found (only warnings: errors raise).
    """

    samples: pd.DataFrame
    genotypes: pd.DataFrame
    sex: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(SEX_COLUMNS)))
    report: ValidationReport = field(default_factory=ValidationReport)

    @property
    def loci(self) -> list[str]:
        """Loci in the order first seen."""
        return list(dict.fromkeys(self.genotypes["locus"]))


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _read_text(path: Path) -> str:
    from amurlink.exceptions import DataError

    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise DataError(f"cannot read genotype file {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise DataError(f"{path}: larger than {MAX_FILE_BYTES // 1024**2} MiB; a genotype file "
                        "is a few MB: split it by lab or batch")
    if b"\x00" in raw:
        raise DataError(f"{path}: holds NUL bytes, so it is not a text table (a spreadsheet "
                        "or UTF-16 file?); save it as UTF-8 CSV")
    for enc in ("utf-8-sig", "cp1251", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    from amurlink.exceptions import DataError

    raise DataError(f"{path}: not UTF-8, CP1251 or GB18030 text; save the file as UTF-8")


def _rows(text: str, path: Path | str = "") -> list[list[str]]:
    """The non-blank rows, each as its stripped cells."""
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    out = []
    try:
        for r in reader:
            cells = [c.strip() for c in r]
            if any(cells):
                out.append(cells)
    except csv.Error as exc:
        from amurlink.exceptions import DataError

        raise DataError(f"{path}: line {reader.line_num} cannot be read as CSV ({exc}); close "
                        "every quoted value and keep values under 128 KiB") from None
    return out


def _detect_layout(rows: list[list[str]]) -> str:
    if not rows:
        return "long"
    header = {_norm(c) for c in rows[0]}
    if {"locus", "allele1", "allele2"} <= header or (
        header & set(_LONG_ALIASES["locus"]) and header & set(_LONG_ALIASES["allele1"])
    ):
        return "long"
    # GenAlEx: first row holds counts (n loci, n samples, n pops, ...), all integers.
    first = [c for c in rows[0] if c]
    if first and all(c.lstrip("-").isdigit() for c in first) and len(rows) > 3:
        return "genalex"
    return "wide"


class _Parser:
    """Collects rows of one file into frames; records every bad row in ``report``."""

    def __init__(self, path: str, report: ValidationReport, missing: set[str]) -> None:
        self.path = path
        self.report = report
        self.missing = missing
        self.geno: list[tuple[str, str, object, object, int]] = []
        self.samples: dict[str, dict[str, object]] = {}
        self.sex: list[tuple[str, str, int]] = []

    def error(self, code: str, row: int, field_: str | None, message: str, **kw: str) -> None:
        self.report.error(code, message, file=self.path, row=row, field=field_, **kw)

    def allele(self, value: str, row: int, col: str) -> tuple[bool, int | None]:
        """Parse one allele cell: (ok, size or None for missing)."""
        v = value.strip()
        if v in self.missing or v == "":
            return True, None
        try:
            f = float(v)
        except ValueError:
            self.error("type-error", row, col, f"allele {v[:40]!r} is not a size in bp",
                       expected="a whole number of base pairs or the missing code", got=v[:40],
                       fix="correct the cell or pass its code with --missing")
            return False, None
        if not math.isfinite(f) or f > MAX_ALLELE_BP:
            self.error("out-of-range", row, col, f"allele {v[:40]!r} is not a fragment size",
                       expected=f"a whole number of base pairs from 0 to {MAX_ALLELE_BP}",
                       got=v[:40], fix="correct the cell or pass its code with --missing")
            return False, None
        if f != int(f) or f < 0:
            self.error("type-error", row, col, f"allele {v!r} is not a non-negative whole size",
                       expected="a whole number of base pairs >= 0", got=v,
                       fix="round binned sizes before export, or set the missing code")
            return False, None
        return True, int(f)

    def pair(self, sid: str, locus: str, a: str, b: str, rep: int, row: int, cols: tuple[str, str]):
        ok1, x = self.allele(a, row, cols[0])
        ok2, y = self.allele(b, row, cols[1])
        if not (ok1 and ok2):
            return False
        if (x is None) != (y is None):
            self.error("half-typed", row, cols[1] if y is None else cols[0],
                       f"locus {locus} has one allele called and the other missing",
                       expected="both alleles called (a homozygote repeats its size) or neither",
                       got=f"{a!r}, {b!r}", fix="enter a homozygote as the same size twice")
            return False
        if x is not None and y is not None and x > y:
            x, y = y, x
        self.geno.append((sid, locus, x, y, rep))
        return True


def _short_row(p: _Parser, r: int, cells: list[str], header: list[str], needed: int) -> None:
    p.error("short-row", r, header[len(cells)] if len(cells) < len(header) else None,
            f"row has {len(cells)} cells but the header has {len(header)}; the row stops "
            f"before column {header[len(cells)]!r}",
            expected=f"{len(header)} cells", got=f"{len(cells)} cells",
            fix="restore the missing cells (write the missing code for untyped loci)")


def _sample_record(sid: str) -> dict[str, object]:
    """A blank ``samples`` row; columns of the file fill it, the defaults come last."""
    rec: dict[str, object] = {c: None for c in SAMPLE_COLUMNS}
    rec["sampleID"] = sid
    return rec


def _fill_defaults(rec: dict[str, object], opts: dict) -> None:
    """Options fill only what the file's own columns left empty (``sampleType``, ``lab``...)."""
    for name, key in (("lab", "lab"), ("sampleType", "sample_type"),
                      ("scientificName", "scientific_name")):
        if rec.get(name) is None:
            rec[name] = opts[key]


def _parse_long(p: _Parser, rows: list[list[str]], opts: dict) -> None:
    header = rows[0]
    norm = [_norm(c) for c in header]
    where: dict[str, int] = {}
    for target, aliases in _LONG_ALIASES.items():
        for i, n in enumerate(norm):
            if n in aliases or n == _norm(target):
                where.setdefault(target, i)
                break
    missing_cols = [c for c in ("sampleID", "locus", "allele1", "allele2") if c not in where]
    if missing_cols:
        p.error("missing-column", 1, None,
                f"long-form genotype file lacks column(s) {missing_cols}",
                expected="sampleID, locus, allele1, allele2[, replicate]", got=", ".join(header),
                fix="rename the columns or pass layout='wide' for two columns per locus")
        return
    extra = {i: header[i] for i in range(len(header)) if header[i] in SAMPLE_COLUMNS
             and i not in where.values()}
    seen: set[tuple[str, str, int]] = set()
    needed = max(where.values()) + 1
    for r, cells in enumerate(rows[1:], start=2):
        if len(cells) < needed:
            _short_row(p, r, cells, header, needed)
            continue
        cells = cells + [""] * (len(header) - len(cells))
        sid = cells[where["sampleID"]]
        locus = cells[where["locus"]]
        if not sid:
            p.error("required", r, header[where["sampleID"]], "sample ID is empty",
                    fix="fill in the sample ID")
            continue
        if not locus:
            p.error("required", r, header[where["locus"]], "locus name is empty",
                    fix="fill in the locus")
            continue
        rep = 1
        if "replicate" in where and cells[where["replicate"]]:
            raw = cells[where["replicate"]]
            if not raw.isdigit() or int(raw) < 1:
                p.error("type-error", r, header[where["replicate"]],
                        f"replicate {raw!r} is not a whole number >= 1", got=raw,
                        expected="1, 2, 3, ...", fix="number PCR replicates from 1")
                continue
            rep = int(raw)
        key = (sid, locus, rep)
        if key in seen:
            p.error("duplicate", r, None,
                    f"sample {sid} locus {locus} replicate {rep} appears twice",
                    fix="give repeated PCRs distinct replicate numbers")
            continue
        seen.add(key)
        if _norm(locus) in _SEX_NAMES:
            call = cells[where["allele1"]].upper()
            if call in ("F", "M"):
                p.sex.append((sid, call, rep))
            elif call and call not in p.missing:
                p.error("enum", r, header[where["allele1"]], f"sex call {call!r} is not F or M",
                        got=call, expected="F, M or the missing code")
            p.samples.setdefault(sid, _sample_record(sid))
            continue
        p.pair(sid, locus, cells[where["allele1"]], cells[where["allele2"]], rep, r,
               (header[where["allele1"]], header[where["allele2"]]))
        rec = p.samples.setdefault(
            sid, _sample_record(sid))
        for i, name in extra.items():
            if cells[i] and rec.get(name) is None:
                rec[name] = cells[i]


def _locus_pairs(names: list[str]) -> tuple[list[tuple[str, int, int]], list[int]]:
    """Pair allele columns: (locus, i, j) for each pair; indices of unpaired columns."""
    pairs: list[tuple[str, int, int]] = []
    i = 0
    left: list[int] = []
    while i < len(names):
        a = names[i]
        b = names[i + 1] if i + 1 < len(names) else None
        if b is not None:
            if b == "" or b.lower().startswith("unnamed") or b == a:
                pairs.append((a, i, i + 1))
                i += 2
                continue
            hit = None
            for s1, s2 in _PAIR_SUFFIXES:
                if a.lower().endswith(s1) and b.lower().endswith(s2) and (
                    a[: len(a) - len(s1)] == b[: len(b) - len(s2)]
                ):
                    hit = a[: len(a) - len(s1)]
                    break
            if hit:
                pairs.append((hit.rstrip("_.-") or hit, i, i + 1))
                i += 2
                continue
        left.append(i)
        i += 1
    return pairs, left


def _parse_wide(p: _Parser, rows: list[list[str]], opts: dict, *, header_row: int = 0) -> None:
    header = rows[header_row]
    ignore = {_norm(c) for c in opts["ignore"]}
    norm = [_norm(c) for c in header]
    index_col = opts.get("index_column")
    if index_col is not None:
        if _norm(index_col) not in norm:
            p.error("missing-column", header_row + 1, index_col,
                    f"sample ID column {index_col!r} not in the header",
                    got=", ".join(header), fix="name the sample ID column with --index")
            return
        idx = norm.index(_norm(index_col))
    else:
        idx = next((i for i, n in enumerate(norm) if n in _INDEX_NAMES), 0)
    if opts["layout"] == "genalex":
        # GenAlEx: sample, population, then loci with the name on the first column only.
        ignore.add(norm[1] if len(norm) > 1 else "")
    meta: dict[int, str] = {}
    sex_col: int | None = None
    candidates: list[int] = []
    for i, n in enumerate(norm):
        if i == idx or (n in ignore and n):
            continue
        if header[i] in SAMPLE_COLUMNS and header[i] != "sampleID":
            meta[i] = header[i]
        elif n in _SEX_NAMES:
            sex_col = i
        else:
            candidates.append(i)
    names = [header[i] for i in candidates]
    pairs, left = _locus_pairs(names)
    if left:
        bad = [names[k] for k in left]
        p.error("unpaired-column", header_row + 1, bad[0],
                f"column(s) {bad} do not form allele pairs (two columns per locus)",
                expected="LOCa/LOCb, LOC_1/LOC_2 or a name then a blank header per locus",
                got=", ".join(names),
                fix="list metadata columns with --ignore, or rename the allele columns")
        return
    loci = [(loc, candidates[i], candidates[j]) for loc, i, j in pairs]
    first_col: dict[str, int] = {}
    for loc, i, _j in loci:
        if loc in first_col:
            p.error("duplicate-locus", header_row + 1, header[i],
                    f"locus {loc!r} has two pairs of allele columns (columns "
                    f"{first_col[loc] + 1} and {i + 1})", got=", ".join(header),
                    expected="one pair of columns per locus",
                    fix="remove the repeated columns or rename the locus")
            return
        first_col[loc] = i
    # a row may leave trailing empty cells out, never cells that hold alleles or the ID
    needed = max([idx, *[j for _l, _i, j in loci]]) + 1
    counts: dict[str, int] = {}
    for r, cells in enumerate(rows[header_row + 1:], start=header_row + 2):
        if len(cells) > len(header) and any(cells[len(header):]):
            p.error("extra-cell", r, None,
                    f"row has {len(cells)} cells but the header has {len(header)}",
                    fix="remove stray cells or add the missing header names")
            continue
        if len(cells) < needed:
            _short_row(p, r, cells, header, needed)
            continue
        cells = cells + [""] * (len(header) - len(cells))
        sid = cells[idx]
        if not sid:
            p.error("required", r, header[idx], "sample ID is empty", fix="fill in the sample ID")
            continue
        counts[sid] = counts.get(sid, 0) + 1
        rep = counts[sid]
        ok = True
        start = len(p.geno)
        for locus, i, j in loci:
            ok &= bool(p.pair(sid, locus, cells[i], cells[j], rep, r, (header[i], header[j] or
                                                                         f"{header[i]} (2nd)")))
        if not ok:
            del p.geno[start:]
            continue
        if sex_col is not None:
            call = cells[sex_col].upper()
            if call in ("F", "M"):
                p.sex.append((sid, call, rep))
            elif call and call not in p.missing:
                p.error("enum", r, header[sex_col], f"sex call {call!r} is not F or M", got=call,
                        expected="F, M or the missing code")
        rec = p.samples.setdefault(
            sid, _sample_record(sid))
        for i, name in meta.items():
            if cells[i] and cells[i] not in p.missing and rec.get(name) is None:
                rec[name] = cells[i]


def _coerce_samples(samples: pd.DataFrame, report: ValidationReport, path: str) -> pd.DataFrame:
    out = samples.copy()
    for name in ("latitude", "longitude"):
        out[name] = pd.to_numeric(out[name], errors="coerce")
    out["coordinateUncertainty"] = pd.to_numeric(
        out["coordinateUncertainty"], errors="coerce").astype("Int64")
    out["collectionDate"] = pd.to_datetime(out["collectionDate"], utc=True, errors="coerce")
    bad = ~out["sampleType"].isin(_SAMPLE_TYPES)
    for sid, st in out.loc[bad, ["sampleID", "sampleType"]].itertuples(index=False):
        report.error("enum", f"sample {sid}: sampleType {st!r} is not one of {_SAMPLE_TYPES}",
                     file=path, field="sampleType", got=str(st))
    return out


def read_genotypes(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    /,
    *,
    layout: str = "auto",
    missing: str | Sequence[str] = ("-99", "-9", "NA", "?"),
    ignore: Sequence[str] = (),
    lab: str | Mapping[str, str] | Sequence[str] | None = None,
    sample_type: str = "other",
    scientific_name: str | None = None,
    index_column: str | None = None,
) -> GenotypeTables:
    """Read microsatellite genotype files into the ``samples`` and ``genotypes`` tables.

    Every row of every file is checked first; nothing is returned unless all rows are good
    (a file is never half-imported).

    Parameters
    ----------
    paths : path or iterable of paths
        CSV or tab-separated files. Sample IDs must be unique across files.
    layout : {"auto", "long", "wide", "genalex"}
        ``long``: one row per sample, locus (and replicate) with columns
        ``sampleID, locus, allele1, allele2[, replicate]`` (common spellings accepted).
        ``wide``: one row per sample (allelematch style), two columns per locus named
        ``LOCa/LOCb``, ``LOC_1/LOC_2``, ``LOC.1/LOC.2`` or a name followed by a blank header;
        a repeated sample ID is read as a further PCR replicate. ``genalex``: GenAlEx's
        three header lines (counts, title, column names; sample and population columns first).
        ``auto`` picks from the header.
    missing : str or sequence of str
        Cell values read as a missing allele (empty cells always are).
    ignore : sequence of str
        Metadata columns of wide files that are neither sample fields nor alleles.
    lab : str, mapping or sequence of str, optional
        Lab that typed the samples (``samples.lab``) where the file has no ``lab`` column (or
        leaves it empty): one name for all files, a mapping from file (name, stem or path)
        to lab, or one name per file in order. Defaults to the file name stem.
    sample_type : {"scat", "hair", "tissue", "saliva", "other"}
        ``samples.sampleType`` for rows that do not carry one (a ``sampleType`` column wins).
    scientific_name : str, optional
        ``samples.scientificName`` for rows that do not carry one.
    index_column : str, optional
        Sample ID column of wide files (default: a column named like ``sampleID`` or the
        first column).

    Returns
    -------
    GenotypeTables
        ``samples`` and ``genotypes`` frames (columns as declared in ``amurlink.schema``), the
        ``sex`` calls found in a ``sex`` column or locus, and the reading report.

    Raises
    ------
    SchemaError
        If any row is bad. The message lists file, row and reason of the first errors; the
        full :class:`~amurlink.io.ValidationReport` is attached as ``.report``.
    DataError
        If a file cannot be read at all.

    See Also
    --------
    validate_genotypes_file : the same checks, returning the report instead of raising.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "lab.csv").write_text("sampleId,L1a,L1b\\nS1,100,104\\nS2,-99,-99\\n")
    >>> t = read_genotypes(d / "lab.csv", lab="CN-lab")
    >>> t.genotypes[["sampleID", "locus", "allele1", "allele2"]].values.tolist()
    [['S1', 'L1', 100, 104], ['S2', 'L1', <NA>, <NA>]]
    """
    tables, report = _read_all(paths, layout=layout, missing=missing, ignore=ignore, lab=lab,
                               sample_type=sample_type, scientific_name=scientific_name,
                               index_column=index_column)
    report.raise_for_errors()
    assert tables is not None
    return GenotypeTables(*tables, report=report)


def validate_genotypes_file(
    paths: str | os.PathLike | Iterable[str | os.PathLike], /, **options
) -> ValidationReport:
    """Check genotype files as :func:`read_genotypes` does and return the report.

    Parameters
    ----------
    paths : path or iterable of paths
    **options
        Keyword options of :func:`read_genotypes`.

    Returns
    -------
    ValidationReport
        Every bad row with its file, row number (header = row 1) and reason.
    """
    return _read_all(paths, **{"layout": "auto", "missing": ("-99", "-9", "NA", "?"),
                               "ignore": (), "lab": None, "sample_type": "other",
                               "scientific_name": None, "index_column": None, **options})[1]


def _lab_of(lab, path: Path, k: int, n: int) -> str:
    if lab is None:
        return path.stem
    if isinstance(lab, str):
        return lab
    if isinstance(lab, Mapping):
        for key in (str(path), path.name, path.stem):
            if key in lab:
                return str(lab[key])
        return path.stem
    labs = list(lab)
    if len(labs) != n:
        from amurlink.exceptions import SchemaError

        raise SchemaError(f"lab= names {len(labs)} lab(s) for {n} file(s); give one per file, "
                          "a mapping file -> lab, or one name for all")
    return str(labs[k])


def _read_all(paths, *, layout, missing, ignore, lab, sample_type, scientific_name, index_column):
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    paths = [Path(p) for p in paths]
    missing_set = {missing} if isinstance(missing, str) else set(missing)
    if layout not in ("auto", "long", "wide", "genalex"):
        from amurlink.exceptions import SchemaError

        raise SchemaError(f"layout={layout!r}; expected 'auto', 'long', 'wide' or 'genalex'")
    report = ValidationReport(source=", ".join(str(p) for p in paths))
    geno_frames, sample_frames, sex_frames = [], [], []
    owner: dict[str, str] = {}
    for k, path in enumerate(paths):
        rows = _rows(_read_text(path), path)
        if not rows:
            report.error("empty-file", "file has no rows", file=str(path))
            continue
        lay = _detect_layout(rows) if layout == "auto" else layout
        opts = {"layout": lay, "ignore": ignore, "lab": _lab_of(lab, path, k, len(paths)),
                "sample_type": sample_type, "scientific_name": scientific_name,
                "index_column": index_column}
        parser = _Parser(str(path), report, missing_set)
        if lay == "long":
            _parse_long(parser, rows, opts)
        elif lay == "genalex":
            _parse_wide(parser, rows, opts, header_row=2)
        else:
            _parse_wide(parser, rows, opts)
        for rec in parser.samples.values():
            _fill_defaults(rec, opts)
        for sid in parser.samples:
            if sid in owner:
                report.error("duplicate", f"sample {sid} is in both {owner[sid]} and {path}",
                             file=str(path), field="sampleID",
                             fix="sample IDs must be unique; prefix them with the lab")
            owner.setdefault(sid, str(path))
        report.row_counts[str(path)] = len(rows) - 1
        geno_frames.append(pd.DataFrame(parser.geno, columns=list(GENOTYPE_COLUMNS)))
        s = pd.DataFrame(list(parser.samples.values()), columns=list(SAMPLE_COLUMNS))
        sample_frames.append(_coerce_samples(s, report, str(path)))
        sex_frames.append(pd.DataFrame(parser.sex, columns=list(SEX_COLUMNS)))
    if not report.valid:
        return None, report
    genotypes = pd.concat(geno_frames, ignore_index=True)
    for c in ("allele1", "allele2"):
        genotypes[c] = genotypes[c].astype("Int64")
    genotypes["replicate"] = genotypes["replicate"].astype("int64")
    samples = pd.concat(sample_frames, ignore_index=True)
    sex = pd.concat(sex_frames, ignore_index=True)
    sex["replicate"] = sex["replicate"].astype("int64")
    return (samples, genotypes, sex), report
