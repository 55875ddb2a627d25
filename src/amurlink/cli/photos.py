"""``amurlink photos``: index, identify, link and evaluate flank photos."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import typer

from amurlink.cli import app
from amurlink.cli._common import FORMAT_OPTION, OutputFormat, emit_json, handle_errors

__all__ = ["photos_app", "package_photos"]

photos_app = typer.Typer(
    name="photos",
    help="Flank-pattern photo identification: index a catalogue, identify photos, propose "
    "cross-border links, evaluate on a simulated photo set.",
    no_args_is_help=True,
)
app.add_typer(photos_app, name="photos")

_STORE = typer.Option(None, "--store", help="Photo store folder (default: DIR/.amurlink-photos).")
_CALIBRATION = typer.Option(None, "--calibration", exists=True, dir_okay=False,
                            help="JSON file with a, b, new_threshold, link_threshold.")

_CATALOGUE_DIR_0 = typer.Argument(..., exists=True, file_okay=False, resolve_path=True,
                                   help="Camtrap DP package or photo set folder.")
_IMAGES_1 = typer.Argument(..., exists=True, dir_okay=False, resolve_path=True)
_STORE_2 = typer.Option(..., "--store", exists=True, file_okay=False,
                         help="Photo store folder made by `photos index`.")
_SIDE_3 = typer.Option("unknown", "--side", help="Flank side: left, right or unknown.")
_TOP_K_4 = typer.Option(5, "--top-k", min=1)
_JOINT_DIR_5 = typer.Argument(..., exists=True, file_okay=False, resolve_path=True,
                              help="Joint package folder (holds datapackage.json).")
_EVIDENCE_DIR_6 = typer.Option(None, "--evidence-dir",
                                help="Folder of evidence images (default: "
                                "JOINT_DIR/photo-evidence).")
_SIM_DIR_7 = typer.Argument(..., exists=True, file_okay=False, resolve_path=True,
                            help="Photo set: images/ and truth/photos.csv.")
_TUNE_DIR_8 = typer.Option(None, "--tune-dir", exists=True, file_okay=False,
                            help="Photo set of another seed to fit the calibration on "
                            "(default: the shipped one).")
_PLOT_9 = typer.Option(None, "--plot", help="PNG of top-1 per distortion.")

def _calibration(path: Path | None):
    from amurlink.identify.photos import DEFAULT_CALIBRATION, Calibration

    if path is None:
        return DEFAULT_CALIBRATION
    return Calibration(**json.loads(Path(path).read_text()))


def _side_of(tags: Any) -> str:
    text = "" if tags is None or (isinstance(tags, float) and math.isnan(tags)) else str(tags)
    for token in text.replace(",", "|").split("|"):
        key, _, value = token.strip().partition(":")
        if key.strip().lower() in ("side", "flank") and value.strip():
            return value.strip().lower()
    return "unknown"


def package_photos(folder: Path, *, n_frames: int = 5) -> pd.DataFrame:
    """Flank photos of a photo set (``truth/photos.csv``) or of a Camtrap DP package.

    In a package, every animal observation with a ``mediaID`` is one flank; its side comes
    from an ``observationTags`` token ``side:left`` / ``side:right`` (else unknown); video
    media give ``n_frames`` evenly spread frames.
    """
    from amurlink.identify.photos.features import video_frames

    if (folder / "truth" / "photos.csv").is_file():
        from amurlink.identify.photos.evaluate import read_photo_truth

        truth = read_photo_truth(folder)
        return truth.assign(filePath=truth["absPath"])
    import amurlink.io as _io

    ds = _io.read_camtrap_dp(folder)
    obs = ds.observations
    obs = obs[obs["mediaID"].notna() & (obs["observationType"] == "animal")]
    media = ds.media.set_index("mediaID")
    rows = []
    for r in obs.itertuples():
        m = media.loc[r.mediaID]
        path = folder / str(m["filePath"])
        box = {c: getattr(r, c, None) for c in ("bboxX", "bboxY", "bboxWidth", "bboxHeight")}
        base = {"filePath": str(path), "mediaID": r.mediaID, "individualID": r.individualID,
                "species": r.scientificName, "side": _side_of(getattr(r, "observationTags",
                                                                      None)), **box}
        if str(m["fileMediatype"]).startswith("video"):
            for f in video_frames(path, n_frames=n_frames):
                rows.append({**base, "frame": f})
        elif str(m["fileMediatype"]).startswith("image"):
            rows.append(base)
    return pd.DataFrame(rows)


def _store(folder: Path, store: Path | None):
    from amurlink.identify.photos import PhotoStore

    return PhotoStore(folder / ".amurlink-photos" if store is None else store)


@photos_app.command("index")
def index(
    catalogue_dir: Path = _CATALOGUE_DIR_0,
    store: Path | None = _STORE,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Extract features of new photos and update the descriptor indices (incremental)."""
    with handle_errors():
        photos = package_photos(catalogue_dir)
        st = _store(catalogue_dir, store)
        extracted = st.add(photos)
        out = {"store": str(st.root), "images": len(st.records), "extracted": extracted,
               "catalogues": st.catalogues}
    if fmt is OutputFormat.json:
        emit_json(out)
    else:
        typer.echo(f"{out['images']} images in {out['store']} ({extracted} extracted now)")


@photos_app.command("identify")
def identify(
    images: list[Path] = _IMAGES_1,
    store: Path = _STORE_2,
    side: str = _SIDE_3,
    top_k: int = _TOP_K_4,
    calibration: Path | None = _CALIBRATION,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Ranked candidate individuals (with scores) for each photo (one thread)."""
    from amurlink.identify.photos import PhotoStore, identify_photos
    from amurlink.identify.photos.ranking import single_threaded

    with handle_errors(), single_threaded():
        st = PhotoStore(store)
        frame = identify_photos(st, [str(p) for p in images], side=side, top_k=top_k,
                                calibration=_calibration(calibration))
    if fmt is OutputFormat.json:
        emit_json(frame.astype(object).where(frame.notna(), None).to_dict(orient="records"))
    else:
        typer.echo(frame.to_string(index=False))


@photos_app.command("link")
def link(
    joint_dir: Path = _JOINT_DIR_5,
    store: Path | None = _STORE,
    evidence_dir: Path | None = _EVIDENCE_DIR_6,
    calibration: Path | None = _CALIBRATION,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Propose links between the Chinese and Russian catalogues (reciprocal best matches)."""
    from amurlink.identify.links import LinkStore
    from amurlink.identify.photos import link_catalogues

    with handle_errors():
        links = LinkStore(joint_dir)
        st = _store(joint_dir, store)
        st.add(package_photos(joint_dir))
        cats = st.catalogues
        cn = [c for c in cats if c.upper().startswith("CN")]
        ru = [c for c in cats if c.upper().startswith("RU")]
        if len(cn) != 1 or len(ru) != 1:
            raise ValueError(f"expected one CN and one RU catalogue, found {cats}")
        ev = joint_dir / "photo-evidence" if evidence_dir is None else evidence_dir
        proposals = link_catalogues(st, cn[0], ru[0], calibration=_calibration(calibration),
                                    evidence_dir=ev)
        result = links.propose(proposals, method="photo", by="amurlink photos") \
            if len(proposals) else None
        out = {"candidates": len(proposals),
               "proposed": 0 if result is None else len(result.proposed),
               "skipped": 0 if result is None else len(result.skipped),
               "pairs": [{"subjectA": r.subjectA, "subjectB": r.subjectB, "score": r.score}
                         for r in proposals.itertuples()]}
    if fmt is OutputFormat.json:
        emit_json(out)
    else:
        typer.echo(f"{out['proposed']} link(s) proposed, {out['skipped']} skipped")


@photos_app.command("evaluate")
def evaluate(
    sim_dir: Path = _SIM_DIR_7,
    tune_dir: Path | None = _TUNE_DIR_8,
    calibration: Path | None = _CALIBRATION,
    plot: Path | None = _PLOT_9,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Accuracy figures: top1, top5, mAP, auroc_new, link_precision, link_recall, baseline."""
    from amurlink.identify.photos.evaluate import (
        distortion_accuracy,
        evaluate_photo_set,
        plot_distortion_accuracy,
        tune_calibration,
    )
    from amurlink.identify.photos.ranking import single_threaded

    with handle_errors(), single_threaded():
        cal = tune_calibration(tune_dir) if tune_dir is not None else _calibration(calibration)
        result = evaluate_photo_set(sim_dir, calibration=cal)
        queries = result.pop("queries")
        if plot is not None:
            plot_distortion_accuracy(distortion_accuracy(queries), plot)
    if fmt is OutputFormat.json:
        emit_json(result)
    else:
        for key in ("top1", "top5", "mAP", "auroc_new", "link_precision", "link_recall",
                    "baseline_top1"):
            typer.echo(f"{key:15s} {result.get(key, float('nan')):.3f}")
