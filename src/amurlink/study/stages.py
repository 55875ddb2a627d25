"""The built-in stages of ``amurlink run``: harmonise, link, analyse, report.

=================  =====================================================  ==================
stage              reads                                                  writes
=================  =====================================================  ==================
harmonise          ``[inputs.XX]`` sources, crosswalk, border, the link   (in memory)
                   log of the previous joint package (carried over)
joint package      harmonise                                              ``joint/``
photo links        ``[inputs] photos`` catalogues and their photos        (value)
photo comparison   photo links, harmonise (species), crosswalk            (value)
dna                ``[inputs] dna`` lab files, ``dna_reference``          (value)
crossborder        harmonise, confirmed links                             (value)
secr               harmonise, confirmed links                             (value)
camtrap            harmonise                                              (value)
report <name>      harmonise, secr, dna, camtrap, photo comparison        ``report/<name>/``
link proposals     joint package, photo links, DNA lab files              ``joint`` link log
=================  =====================================================  ==================

Values are kept in ``OUT/.amurlink-run/`` so a later run that reruns only a report does not
refit SECR.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from amurlink.config import CONFIG_FILENAME
from amurlink.exceptions import DataError
from amurlink.study._runner import (
    SKIPPED_BY_CONFIG,
    Stage,
    StageContext,
    Study,
    register_stage,
    resolve_source,
)

__all__ = ["carry_over_links", "place_beside", "propose_photo_links", "reference_only_dropped",
           "report_name"]

logger = logging.getLogger(__name__)

_LINKS_FILE = "identity-links.csv"


# ==============================================================================================
# Helpers shared with the single-step commands
# ==============================================================================================
def place_beside(joint_dir: str | Path, config_file: str | Path | None,
                 border_file: str | Path | None) -> None:
    """Copy the study settings and the border beside a joint package.

    ``amurlink crossborder``, ``report`` and ``links`` then work on the joint folder alone:
    ``JOINT/border.<ext>`` and ``JOINT/amurlink.toml`` (its ``[border] file`` pointed at the
    copy; ``[inputs]`` left out, since its paths belong to the study folder).
    """
    joint = Path(joint_dir)
    border_name = None
    if border_file is not None and Path(border_file).is_file():
        border_name = "border" + "".join(Path(border_file).suffixes[-1:] or [".geojson"])
        if Path(border_file).resolve() != (joint / border_name).resolve():
            shutil.copy2(border_file, joint / border_name)
    if config_file is None or not Path(config_file).is_file():
        return
    text = Path(config_file).read_text(encoding="utf-8")
    text = _drop_inputs(text)
    if border_name is not None:
        text = _set_border(text, border_name)
    tmp = joint / f".{CONFIG_FILENAME}.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(joint / CONFIG_FILENAME)


def _drop_inputs(text: str) -> str:
    """The TOML text without its ``[inputs]`` tables (they name study-folder paths)."""
    out, skip = [], False
    for line in text.splitlines(keepends=True):
        head = re.match(r"^\s*\[\[?\s*([A-Za-z0-9_.\"-]+)\s*\]\]?", line)
        if head:
            skip = head.group(1).split(".")[0].strip('"') == "inputs"
        if not skip:
            out.append(line)
    return "".join(out)


def _set_border(text: str, name: str) -> str:
    lines = text.splitlines(keepends=True)
    section = None
    for i, line in enumerate(lines):
        head = re.match(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]", line)
        if head:
            section = head.group(1)
            continue
        if section == "border" and re.match(r"^\s*file\s*=", line):
            lines[i] = f'file = "{name}"\n'
            return "".join(lines)
    for i, line in enumerate(lines):
        if re.match(r"^\s*\[\s*border\s*\]", line):
            lines.insert(i + 1, f'file = "{name}"\n')
            return "".join(lines)
    return "".join(lines) + f'\n[border]\nfile = "{name}"\n'


def carry_over_links(old: pd.DataFrame | None, new: pd.DataFrame | None) -> pd.DataFrame:
    """The link log of a rebuilt joint package: every earlier event, then the new pairs.

    Every event of ``old`` (the log of the joint package being replaced: reviewers'
    decisions, proposals and their history) is kept as it was. Events of ``new`` (the
    rebuild's crosswalk) are added only for pairs ``old`` never saw, so a decision is never
    overwritten by the crosswalk it was made on.
    """
    from amurlink.identify.links import empty_links

    if old is None or not len(old):
        return new if new is not None else empty_links()
    if new is None or not len(new):
        return old.reset_index(drop=True)

    def pairs(log: pd.DataFrame) -> pd.Series:
        a, b = log["subjectA"].astype(str), log["subjectB"].astype(str)
        return a.where(a < b, b) + "\x1f" + b.where(a < b, a)

    seen = set(pairs(old))
    fresh = new[~pairs(new).isin(seen).to_numpy()]
    fresh = fresh[~fresh["linkEventID"].isin(set(old["linkEventID"]))]
    if not len(fresh):
        return old.reset_index(drop=True)
    return pd.concat([old, fresh.astype(old.dtypes.to_dict(), errors="ignore")],
                     ignore_index=True)


def report_name(audience: str, lang: str) -> str:
    """Folder name of a report: the language for the owner, else ``<audience>-<lang>``."""
    return lang if audience == "owner" else f"{audience}-{lang}"


# ==============================================================================================
# harmonise + joint package
# ==============================================================================================
def _harmonise_files(study: Study) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for key, path in study.sources():
        src = resolve_source(path)
        files[key] = src
        if src.suffix == ".toml" and src.is_file():
            # a mapping reads the tables it names (or a preset's folder): hash those too
            files.update({f"{key}:{k}": v for k, v in _mapping_files(src).items()})
    if study.crosswalk is not None:
        files["inputs.crosswalk"] = study.crosswalk
    if study.border_file is not None:
        files["inputs.border"] = study.border_file
    if study.config.source is not None:
        files["amurlink.toml"] = Path(study.config.source)
    from amurlink.study.themes import _incident_files

    files.update({k: v for k, v in _incident_files(study).items()
                  if k != "settlements"})  # the books travel in the joint package
    return files


def _incident_books(study: Study) -> dict[str, pd.DataFrame]:
    """Every country's incident books (``[inputs.XX] incidents|smart|earthranger`` or
    ``incidents/<cc>/``) as extension tables of the joint package. ``claimants`` is left out:
    personal data stays in the owner's own folders, beside the package, never in it."""
    from amurlink.schema import INCIDENT_BOOK_TABLES
    from amurlink.study.themes import _read_incident_tables, incident_inputs

    if not incident_inputs(study):
        return {}
    return {n: f for n, f in _read_incident_tables(study).items() if n in INCIDENT_BOOK_TABLES}


def _mapping_files(mapping: Path) -> dict[str, Path]:
    """The files a mapping TOML reads (``[tables.X] file``, ``[source] folder``), relative to
    its folder; its whole folder when the TOML cannot be read (harmonise reports why)."""
    import tomllib

    try:
        data = tomllib.loads(mapping.read_text(encoding="utf-8"))
        out: dict[str, Path] = {}
        for name, table in (data.get("tables") or {}).items():
            if isinstance(table, dict) and isinstance(table.get("file"), str):
                out[str(name)] = mapping.parent / Path(table["file"]).expanduser()
        folder = (data.get("source") or {}).get("folder")
        if isinstance(folder, str):
            out["folder"] = mapping.parent / Path(folder).expanduser()
        return out
    except (OSError, ValueError, AttributeError):
        return {"folder": mapping.parent}


def _read_old_links(joint: Path) -> pd.DataFrame | None:
    f = joint / _LINKS_FILE
    if not f.is_file():
        return None
    from amurlink.identify._links_core import check_links

    raw = pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""])
    return check_links(raw, name=str(f))


def _harmonise(ctx: StageContext) -> dict[str, Any]:
    from amurlink.core.border import load_border
    from amurlink.harmonise import harmonise
    from amurlink.identify.links import current_links

    study = ctx.study
    sources = [resolve_source(p) for _, p in study.sources()]
    if not sources:
        raise DataError(f"{study.folder / CONFIG_FILENAME}: [inputs] names no record source; "
                        "add e.g. [inputs.CN] camtrap_dp = [\"cn\"] (docs/study.md)")
    crosswalk = study.crosswalk
    hres = harmonise(*sources, config=study.config, links=crosswalk)
    refused = [i for i in hres.report.issues
               if i.code in ("crosswalk-link", "crosswalk-conflict")]
    other = [i for i in hres.report.errors if i.code != "crosswalk-link"]
    if other:
        hres.report.raise_for_errors()
    dataset = hres.dataset
    old = _read_old_links(study.joint_dir)
    carried = 0
    if old is not None and len(old):
        merged = carry_over_links(old, dataset.get("identityLinks"))
        carried = len(old)
        dataset = dataset.replace(identityLinks=merged)
        manifest = dict(hres.manifest)
        manifest["linkSet"] = {**manifest.get("linkSet", {}), "events": len(merged),
                               "carriedOver": carried}
        hres = dataclasses.replace(hres, dataset=dataset, manifest=manifest)
    books = _incident_books(study)
    if books:
        dataset = dataset.replace(**books)
        manifest = dict(hres.manifest)
        manifest["rows"] = {**manifest.get("rows", {}), **{n: len(f) for n, f in books.items()}}
        hres = dataclasses.replace(hres, dataset=dataset, manifest=manifest)
    border = None
    if study.border_file is not None:
        border = load_border(study.border_file, crs=study.config.crs.working)
    links = dataset.get("identityLinks")
    cur = current_links(links, two_party=study.config.links.two_party) \
        if links is not None and len(links) else None
    n_rows = 0
    if crosswalk is not None:
        try:
            n_rows = int(len(pd.read_csv(crosswalk, dtype=str)))
        except (OSError, ValueError):
            n_rows = 0
    stored = int(((cur["method"] == "expert") & (cur["status"] == "confirmed")).sum()) \
        if cur is not None else 0
    from amurlink.analysis.quality import for_analyses

    # the records every analysis uses, as _load_joint gives them on a rerun (before, a stage
    # run in this process right after harmonise got the whole dataset, flagged records and
    # all, while one run in a child or on a rerun got these)
    return {"hres": hres, "dataset": dataset, "analysis": for_analyses(dataset, study.config),
            "border": border, "manifest": hres.manifest, "links": cur, "carried": carried,
            "crosswalk": {"rows": n_rows, "stored": stored,
                          "refused": [i.message.splitlines()[0] for i in refused]},
            "issues": dict(hres.report.counts())}


def _load_joint(ctx: StageContext) -> dict[str, Any]:
    from amurlink.core.border import load_border
    from amurlink.io import read_camtrap_dp

    study = ctx.study
    dataset = read_camtrap_dp(study.joint_dir)
    manifest = None
    mf = study.joint_dir / "manifest.json"
    if mf.is_file():
        manifest = json.loads(mf.read_text(encoding="utf-8"))
    border = None
    if study.border_file is not None:
        border = load_border(study.border_file, crs=study.config.crs.working)
    from amurlink.analysis.quality import for_analyses

    # The records every analysis uses ([quality] records, [inputs] period); it remembers the
    # complete dataset, so a record left out still makes its station sensitive.
    return {"dataset": dataset, "analysis": for_analyses(dataset, study.config),
            "border": border, "manifest": manifest}


def _analysis(joint: dict[str, Any]) -> Any:
    """The joint dataset the analyses use (sound records within the study period)."""
    return joint.get("analysis", joint["dataset"])


def _harmonise_summary(value: dict[str, Any]) -> dict[str, Any]:
    from amurlink.study.analyses import link_sources

    cur = value.get("links")
    ls = link_sources(cur)
    return {"crosswalk": value.get("crosswalk", {}), "issues": value.get("issues", {}),
            "carriedOver": value.get("carried", 0),
            "rows": value["manifest"].get("rows", {}) if value.get("manifest") else {},
            "linkSources": [{"method": r.method, "status": r.status, "links": int(r.links)}
                            for r in ls.itertuples()]}


def _joint_package(ctx: StageContext) -> str:
    from amurlink.harmonise import write_harmonised

    value = ctx.result("harmonise")
    study = ctx.study
    if "hres" not in value:  # harmonise was not rerun: its joint package is on disk
        place_beside(study.joint_dir, study.config.source, study.border_file)
        return str(study.joint_dir)
    path = write_harmonised(value["hres"], study.joint_dir, overwrite=True, allow_errors=True)
    place_beside(path, study.config.source, study.border_file)
    return str(path)


register_stage(Stage(
    "harmonise", _harmonise,
    what="importing every country's sources and harmonising them with the expert crosswalk",
    files=_harmonise_files, outputs=("joint/datapackage.json",), load=_load_joint,
    summarise=_harmonise_summary))
register_stage(Stage(
    "joint package", _joint_package, what="writing the joint package (joint/)",
    needs=("harmonise",), outputs=("joint/datapackage.json", "joint/manifest.json"),
    where="fork", cache=False))


# ==============================================================================================
# photo links, DNA
# ==============================================================================================
def _photo_files(study: Study) -> dict[str, Path]:
    files = {f"inputs.photos:{p}": study.path(p) for p in study.config.inputs.all_photos}
    for p in study.config.inputs.all_photos:  # the photos the catalogue names
        cat = study.path(p)
        if cat.is_file():
            try:
                paths = pd.read_csv(cat, usecols=["filePath"])["filePath"].dropna()
            except (ValueError, OSError):
                continue
            for fp in sorted(set(paths.astype(str))):
                q = Path(fp)
                files[f"photo:{fp}"] = q if q.is_absolute() else study.folder / q
    return files


def _photo_task(item: tuple[list[str], str]) -> Any:
    from amurlink.study.analyses import link_photos

    return link_photos(*item)


def _photo_links(ctx: StageContext) -> pd.DataFrame:
    study = ctx.study
    item = ([str(study.path(p)) for p in study.config.inputs.all_photos], str(study.folder))
    if ctx.client is not None:
        from amurlink.parallel import map_items

        return map_items(_photo_task, [item], client=ctx.client)[0]
    return _photo_task(item)


def _photo_comparison(ctx: StageContext) -> dict[str, pd.DataFrame]:
    from amurlink.study.analyses import compare_photo_links

    joint = ctx.result("harmonise")
    return compare_photo_links(ctx.result("photo links"), crosswalk=ctx.study.crosswalk,
                               individuals=joint["dataset"].get("individuals"),
                               truth_dir=ctx.study.folder if ctx.study.is_simulation
                               else None)


def _photo_summary(value: dict[str, pd.DataFrame]) -> dict[str, Any]:
    sp = value.get("species")
    rows = []
    if sp is not None and len(sp):
        t = sp if "scientificName" in sp else sp.rename_axis("scientificName").reset_index()
        for r in t.to_dict("records"):
            rows.append({k: (None if isinstance(v, float) and math.isnan(v) else v)
                         for k, v in r.items()})
    pairs = value.get("pairs")
    n = int(pairs["in_photo"].fillna(False).astype(bool).sum()) if pairs is not None else 0
    return {"proposed": n, "species": rows}


def _no_photos(study: Study) -> str | None:
    return None if study.config.inputs.all_photos else "no photo catalogue in [inputs]"


def _dna_files(study: Study) -> dict[str, Path]:
    inp = study.config.inputs
    files = {f"inputs.dna:{p}": study.path(p) for p in inp.all_dna}
    files.update({f"inputs.dna_reference:{p}": study.path(p) for p in inp.dna_reference})
    return files


def _dna(ctx: StageContext) -> dict[str, pd.DataFrame]:
    from amurlink.study.analyses import dna_tables

    inp = ctx.config.inputs
    return dna_tables([ctx.study.path(p) for p in inp.all_dna],
                      [ctx.study.path(p) for p in inp.dna_reference])


def _dna_summary(value: dict[str, pd.DataFrame]) -> dict[str, Any]:
    m = value.get("Genotype matching")
    if m is None or not len(m):
        return {}
    r = m.iloc[0]
    return {"samples": int(r["samples"]), "individuals": int(r["individuals"])}


def _no_dna(study: Study) -> str | None:
    return None if study.config.inputs.all_dna else "no DNA lab file in [inputs]"


def _crosswalk_file(study: Study) -> dict[str, Path]:
    return {"inputs.crosswalk": study.crosswalk} if study.crosswalk is not None else {}


register_stage(Stage(
    "photo links", _photo_links, what="linking the national catalogues by flank photos",
    files=_photo_files, where="spawn", heavy=True, applies=_no_photos,
    summarise=lambda v: {"proposed": len(v)}))
register_stage(Stage(
    "photo comparison", _photo_comparison,
    what="comparing the photo links with the expert crosswalk",
    needs=("photo links", "harmonise"), files=_crosswalk_file, summarise=_photo_summary))
register_stage(Stage(
    "dna", _dna, what="matching DNA genotypes across labs", files=_dna_files, where="fork",
    applies=_no_dna, summarise=_dna_summary))


# ==============================================================================================
# analyses
# ==============================================================================================
def _crossborder(ctx: StageContext) -> pd.DataFrame:
    from amurlink.analysis import crossborder as cb
    from amurlink.study.analyses import species_summary

    joint = ctx.result("harmonise")
    if joint.get("border") is None:
        raise DataError("no border: set [inputs] border (or [border] file) in amurlink.toml")
    res = cb.crossborder(_analysis(joint), border=joint["border"], species=None,
                         two_party=ctx.config.links.two_party)
    return species_summary(res.individuals, ctx.study.truth() or None)


def _table_summary(value: pd.DataFrame) -> dict[str, Any]:
    rows = []
    for r in value.to_dict("records"):
        rows.append({k: (None if isinstance(v, float) and math.isnan(v) else
                         v.item() if hasattr(v, "item") else v) for k, v in r.items()})
    return {"species": rows}


def _secr(ctx: StageContext) -> dict[str, Any]:
    from amurlink.study.analyses import secr_fits

    joint = ctx.result("harmonise")
    if joint.get("border") is None:
        raise DataError("no border: set [inputs] border (or [border] file) in amurlink.toml")
    fits, skipped, problems = secr_fits(_analysis(joint), joint["border"], client=ctx.client,
                                        two_party=ctx.config.links.two_party)
    return {"fits": fits, "not_fitted": skipped, "problems": problems}


def _secr_summary(value: dict[str, Any]) -> dict[str, Any]:
    lines = []
    for label, fit in value.get("fits", {}).items():
        parts = []
        try:
            for name, r in {"joint": fit.joint, **dict(fit.national)}.items():
                d = r.predict().loc["D"]
                parts.append({"fit": name, "D_per_100km2": float(d["estimate"] * 1e4),
                              "lcl": float(d["lcl"] * 1e4), "ucl": float(d["ucl"] * 1e4)})
        except Exception:  # noqa: BLE001 - the report shows the fit anyway
            parts = []
        lines.append({"species": label, "fits": parts})
    nf = value.get("not_fitted")
    skipped = [] if nf is None else [
        {"species": r.scientificName, "reason": str(r.reason),
         "animals": None if pd.isna(r.animals) else int(r.animals),
         "recaptures": None if pd.isna(r.recaptures) else int(r.recaptures)}
        for r in nf.itertuples()]
    return {"fitted": lines, "not_fitted": skipped}


def _camtrap(ctx: StageContext) -> dict[str, pd.DataFrame]:
    from amurlink.study.analyses import camtrap_tables

    return camtrap_tables(_analysis(ctx.result("harmonise")))


register_stage(Stage(
    "crossborder", _crossborder, what="cross-border movement", needs=("harmonise",),
    links=True, summarise=_table_summary))
register_stage(Stage(
    "secr", _secr, what="SECR density per species, joint and per country",
    needs=("harmonise",), links=True, heavy=True, summarise=_secr_summary))
register_stage(Stage(
    "camtrap", _camtrap, what="camera-trap effort, relative abundance and activity",
    needs=("harmonise",), where="fork"))


# ==============================================================================================
# reports
# ==============================================================================================
_PARTS = (("secr", "secr"), ("dna", "dna"), ("camtrap", "camtrap"),
          ("photo_links", "photo comparison"))


def _report_inputs(ctx: StageContext) -> Any:
    if "inputs" in ctx.memo:
        return ctx.memo["inputs"]
    from amurlink.report import ReportInputs
    from amurlink.report._sections import MISSING_REASONS

    joint = ctx.result("harmonise")
    missing: dict[str, str] = {}
    for part, stage in _PARTS:
        st = ctx.status(stage) or ""
        if st.startswith(("failed", "skipped: needs")):
            missing[part] = st
    secr = ctx.result("secr") or {}
    fits, not_fitted = secr.get("fits") or {}, secr.get("not_fitted")
    if "secr" not in missing and not fits and (not_fitted is None or not_fitted.empty):
        missing["secr"] = MISSING_REASONS["secr"]
    from amurlink.study.themes import THEME_PARTS

    themes: dict[str, Any] = {}
    for part, stage in THEME_PARTS:  # survey design, corridors, incidents, SECR models
        st = ctx.status(stage) or ""
        # failed, or left out ([run] skip): the section says the run's summary tells why
        if st.startswith(("failed", "skipped: needs", SKIPPED_BY_CONFIG)):
            missing[part] = st
        elif ctx.result(stage) is not None:
            themes[part] = ctx.result(stage)
    inputs = ReportInputs(dataset=_analysis(joint), config=ctx.config,
                          border=joint.get("border"), secr=fits or None,
                          secr_not_fitted=not_fitted, dna=ctx.result("dna") or None,
                          photo_links=ctx.result("photo comparison") or None,
                          camtrap=ctx.result("camtrap") or None,
                          manifest=joint.get("manifest"), missing=missing, themes=themes)
    ctx.memo["inputs"] = inputs
    return inputs


def _report_stage(audience: str, lang: str, *, after: str | None = None) -> Stage:
    """One report. The owner's reports share one view: the first (``after`` None) builds it
    in this process; the others run after it in forked children that inherit the view, side
    by side; another audience's report builds its own view in a forked child at once."""
    name = report_name(audience, lang)

    def run(ctx: StageContext) -> str:
        from amurlink.core.protection import Audience
        from amurlink.report import build_view, write_report

        inputs = _report_inputs(ctx)
        view = None
        if audience == "owner":
            key = "view:owner"
            if key not in ctx.memo:
                ctx.memo[key] = build_view(inputs, audience=Audience.owner())
            view = ctx.memo[key]
        files = write_report(inputs, ctx.study.report_dir / name, lang=lang,
                             audience=audience, view=view)
        return str(files.html)

    return Stage(f"report {name}", run, what=f"report {name} ({audience}, {lang})",
                 needs=("harmonise",),
                 uses=("secr", "dna", "camtrap", "photo comparison", "design", "corridors",
                       "incidents", "secr models", *((f"report {after}",) if after else ())),
                 links=True, outputs=(f"report/{name}/report.html",),
                 where="main" if audience == "owner" and after is None else "fork",
                 summarise=lambda html: {"html": str(html)})


import amurlink.study.themes  # noqa: E402,F401 - registers design, corridors, incidents, models


@register_stage
def _reports(study: Study) -> list[Stage]:
    stages, first_owner = [], None
    for audience, lang in study.config.inputs.report_list:
        after = first_owner if audience == "owner" else None
        stages.append(_report_stage(audience, lang, after=after))
        if audience == "owner" and first_owner is None:
            first_owner = report_name(audience, lang)
    return stages


# ==============================================================================================
# link proposals
# ==============================================================================================
def propose_photo_links(joint_dir: str | Path, pairs: pd.DataFrame) -> int:
    """Store photo links (``in_photo`` rows of ``compare_links``) as proposals (``photo``).

    Pairs already confirmed, or rejected by a reviewer, are skipped by the store; the rest
    wait for a reviewer (``amurlink links list``, or the platform's review page). Returns
    the number of proposals appended.
    """
    from amurlink.identify.links import LinkStore

    sel = pairs[pairs["in_photo"].fillna(False).astype(bool)]
    if not len(sel):
        return 0
    props = pd.DataFrame({"subjectA": sel["cn_individualID"].to_numpy(),
                          "subjectB": sel["ru_individualID"].to_numpy(),
                          "score": sel["score"].to_numpy(float)})
    res = LinkStore(joint_dir).propose(props, method="photo", by="amurlink run (flank photos)")
    return len(res.proposed)


def reference_only_dropped(proposals: pd.DataFrame, reference_files: list[Path]
                           ) -> pd.DataFrame:
    """DNA proposals without those joining reference samples only.

    Reference samples are tissue typed by every lab to calibrate their allele sizes (the
    ``dna_reference`` files): a ``cross-lab`` proposal whose samples on both sides are all
    reference samples says only that the labs typed the same tissue, which is how the
    samples were made, not evidence about an animal in the field (on the neaspec demo, 6 of
    the 14 cross-lab proposals). A reference sample that field samples match (the tissue of
    an animal also sampled in the field) keeps its proposals.
    """
    if proposals is None or not len(proposals) or "kind" not in proposals:
        return proposals
    ref: set[str] = set()
    for f in reference_files:
        try:
            ref |= set(pd.read_csv(f, dtype=str)["sampleID"].dropna().astype(str))
        except (OSError, ValueError, KeyError):
            continue
    if not ref:
        return proposals

    def only_reference(row: Any) -> bool:
        if row.kind != "cross-lab":
            return False
        ev = row.evidence if isinstance(row.evidence, dict) else {}
        groups = ev.get("samples") or [[row.subjectA], [row.subjectB]]
        return all(str(x) in ref for g in groups for x in g)

    drop = [only_reference(r) for r in proposals.itertuples(index=False)]
    return proposals[~pd.Series(drop, index=proposals.index, dtype=bool)].reset_index(
        drop=True)


def _link_proposals(ctx: StageContext) -> dict[str, Any]:
    """Photo and DNA proposals appended to the joint link store in one locked change (one
    read of the joint package)."""
    from amurlink.identify.links import LinkStore, empty_links, propose_links

    study = ctx.study
    out: dict[str, Any] = {"photo": 0, "dna": 0}
    problems = []
    photo = ctx.result("photo links")
    photo_props = None
    if photo is not None and len(photo):
        photo_props = pd.DataFrame({"subjectA": photo["cn_individualID"].to_numpy(),
                                    "subjectB": photo["ru_individualID"].to_numpy(),
                                    "score": photo["score"].to_numpy(float)})
    dna_props = None
    inp = ctx.config.inputs
    if inp.all_dna:
        try:
            from amurlink.identify.genotypes import dna_results
            from amurlink.identify.genotypes._link import _confirmed_catalogue_samples

            ds = ctx.result("harmonise")["dataset"]
            log = ds.get("identityLinks")
            refs = [study.path(p) for p in inp.dna_reference]
            res = dna_results([study.path(p) for p in inp.all_dna],
                              reference=refs[0] if refs else None,
                              catalogue_samples=_confirmed_catalogue_samples(
                                  log if log is not None else empty_links()),
                              observations=ds.observations, deployments=ds.deployments)
            dna_props = reference_only_dropped(res.proposals, refs).drop(columns="kind")
        except Exception as exc:  # noqa: BLE001 - photo proposals are still stored
            from amurlink.study._proc import describe

            problems.append(f"DNA proposals: {describe(exc)}")
    if photo_props is not None or dna_props is not None:
        store = LinkStore(study.joint_dir)
        two_party = getattr(store, "two_party", True)

        def change(_ds: Any, log: pd.DataFrame) -> pd.DataFrame:
            if photo_props is not None:
                r = propose_links(log, photo_props, method="photo",
                                  by="amurlink run (flank photos)", two_party=two_party)
                log, out["photo"] = r.links, len(r.proposed)
            if dna_props is not None:
                r = propose_links(log, dna_props, by="amurlink run (DNA)",
                                  two_party=two_party)
                log, out["dna"] = r.links, len(r.proposed)
            return log

        store._change(change)
    if problems:
        out["problems"] = problems
    return out


def _no_proposals(study: Study) -> str | None:
    inp = study.config.inputs
    return None if inp.all_photos or inp.all_dna else "no photo catalogue or DNA file"


register_stage(Stage(
    "link proposals", _link_proposals,
    what="storing photo and DNA link proposals in the joint link store",
    needs=("joint package", "harmonise"), uses=("photo links",), files=_dna_files,
    state=(f"joint/{_LINKS_FILE}",), where="fork", applies=_no_proposals,
    summarise=lambda v: {k: v[k] for k in ("photo", "dna") if k in v}))
