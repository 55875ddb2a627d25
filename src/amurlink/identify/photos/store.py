"""On-disk photo store: per-image features, a manifest and descriptor indices, all incremental.

Layout of a store folder::

    manifest.csv                  one row per indexed flank image (see MANIFEST_COLUMNS)
    features/ab/abcdef....npz     RootSIFT keypoints of one image (written aside, then moved)
    index/template.npz            the trained, empty IVF index shared by every group
    index/<catalogue>__<side>.npz descriptor index of one (catalogue, side) group + its keys

Every file is written to a temporary name and moved into place, so an interrupted run leaves
either the old or the new file. Adding photos extracts only images whose key (content hash of
the file, frame, box and keypoint cap) is not in the store yet; features written before an
interruption are picked up again without re-extraction. Indices are extended with the new
images' descriptors (no retraining); a group is rebuilt only when rows left it.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from amurlink.identify.photos.features import (
    MAX_KEYPOINTS,
    Features,
    extract_features,
    normalise_side,
)
from amurlink.identify.photos.ranking import (
    DescriptorIndex,
    IndexParams,
    lnbnn_scores,
    sample_descriptors,
    verify_pair,
)

__all__ = ["MANIFEST_COLUMNS", "PhotoStore", "catalogue_of", "photo_key"]

#: Columns of ``manifest.csv`` (and of :attr:`PhotoStore.records`).
MANIFEST_COLUMNS: tuple[str, ...] = (
    "key", "filePath", "mediaID", "frame", "individualID", "catalogue", "species", "side",
    "bboxX", "bboxY", "bboxWidth", "bboxHeight", "nKeypoints",
)
_BBOX = ("bboxX", "bboxY", "bboxWidth", "bboxHeight")
_CACHE_SIZE = 4096


def catalogue_of(individual_id: Any) -> str:
    """Catalogue of a national ID: ``CN-NTLNP:T012`` -> ``CN-NTLNP`` ("" when unknown)."""
    if individual_id is None or (isinstance(individual_id, float) and np.isnan(individual_id)):
        return ""
    text = str(individual_id)
    return text.split(":", 1)[0] if ":" in text else ""


def photo_key(path: str | Path, *, frame: int | None = None, bbox: Any = None,
              max_keypoints: int = MAX_KEYPOINTS) -> str:
    """Content key of one flank image: file bytes, frame, box and keypoint cap."""
    h = hashlib.sha1(Path(path).read_bytes())
    box = "" if bbox is None else ",".join(
        "nan" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{float(v):.5f}"
        for v in bbox)
    h.update(f"|{-1 if frame is None else int(frame)}|{box}|{int(max_keypoints)}".encode())
    return h.hexdigest()[:20]


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _npz_bytes(arrays: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _extract_task(task: dict[str, Any]) -> tuple[str, dict[str, np.ndarray]]:
    """Pure extraction of one image (run serially or by dask workers)."""
    feats = extract_features(task["path"], task["bbox"], max_keypoints=task["max_keypoints"],
                             frame=task["frame"])
    return task["key"], feats.to_arrays()


class PhotoStore:
    """Features and descriptor indices of a photo catalogue, kept in a folder.

    Parameters
    ----------
    root : path_like
        Store folder (created if needed).
    params : IndexParams, optional
        Index and ranking parameters.
    max_keypoints : int, optional
        Keypoint cap per image (part of the image key).

    See Also
    --------
    amurlink.identify.photos.identify_photos, link_catalogues, find_duplicates
    """

    def __init__(self, root: str | os.PathLike[str], /, *, params: IndexParams | None = None,
                 max_keypoints: int = MAX_KEYPOINTS) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.params = IndexParams() if params is None else params
        self.max_keypoints = int(max_keypoints)
        self._cache: OrderedDict[str, Features] = OrderedDict()
        self._indices: dict[tuple[str, str], DescriptorIndex] = {}
        self.records = self._read_manifest()

    def __repr__(self) -> str:
        return f"PhotoStore({str(self.root)!r}, images={len(self.records)})"

    # -- manifest ---------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.csv"

    def _read_manifest(self) -> pd.DataFrame:
        if not self.manifest_path.is_file():
            return pd.DataFrame({c: pd.Series(dtype=object) for c in MANIFEST_COLUMNS})
        df = pd.read_csv(self.manifest_path, dtype={"key": str, "individualID": object,
                                                    "catalogue": object, "mediaID": object})
        for col in ("individualID", "catalogue", "mediaID", "species"):
            df[col] = df[col].astype(object).where(df[col].notna(), None)
        df["catalogue"] = df["catalogue"].fillna("")
        return df[list(MANIFEST_COLUMNS)]

    def _write_manifest(self) -> None:
        _atomic_write_bytes(self.manifest_path, self.records.to_csv(index=False).encode())

    def _feature_path(self, key: str) -> Path:
        return self.root / "features" / key[:2] / f"{key}.npz"

    # -- adding -----------------------------------------------------------------------------
    def add(self, photos: pd.DataFrame, /, *, base_dir: str | os.PathLike[str] | None = None,
            client: Any = None, scheduler: str | None = None, batch: int = 64,
            sync: bool = True) -> int:
        """Extract and add the photos not in the store yet; update labels of known ones.

        Parameters
        ----------
        photos : DataFrame
            ``filePath`` (required; relative paths are under ``base_dir``) and optionally
            ``mediaID``, ``frame`` (video frame), ``individualID``, ``catalogue`` (default:
            the individualID's prefix), ``species``, ``side`` (left/right/unknown) and the
            Camtrap DP box ``bboxX``, ``bboxY``, ``bboxWidth``, ``bboxHeight``.
        base_dir : path_like, optional
            Folder of relative file paths.
        client, scheduler
            Passed to :func:`amurlink.parallel.map_items` for the extraction.
        batch : int
            Images extracted between two manifest writes (the unit lost by an interruption).
        sync : bool
            Update the descriptor indices afterwards.

        Returns
        -------
        int
            Number of images whose features were extracted (not found on disk).
        """
        from amurlink.parallel import map_items

        rows = self._normalise(photos, base_dir)
        known = set(self.records["key"])
        fresh = rows[~rows["key"].isin(known)].drop_duplicates("key")
        # relabel known images (labels are not part of the key)
        old = rows[rows["key"].isin(known)].drop_duplicates("key", keep="last")
        if len(old):
            rec = self.records.set_index("key")
            for col in ("individualID", "catalogue", "species", "side", "mediaID"):
                rec.loc[old["key"], col] = old[col].to_numpy(object)
            self.records = rec.reset_index()[list(MANIFEST_COLUMNS)]
            self._write_manifest()
        extracted = 0
        for start in range(0, len(fresh), max(1, int(batch))):
            chunk = fresh.iloc[start:start + int(batch)]
            todo = [k for k in chunk["key"] if not self._feature_path(k).is_file()]
            tasks = [{"key": r.key, "path": r.absPath,
                      "bbox": None if pd.isna(r.bboxX) else
                      (r.bboxX, r.bboxY, r.bboxWidth, r.bboxHeight),
                      "frame": None if pd.isna(r.frame) else int(r.frame),
                      "max_keypoints": self.max_keypoints}
                     for r in chunk.itertuples() if r.key in set(todo)]
            for key, arrays in map_items(_extract_task, tasks, client=client,
                                         scheduler=scheduler, batch_size=8):
                _atomic_write_bytes(self._feature_path(key), _npz_bytes(arrays))
            extracted += len(tasks)
            counts = [len(self.features(k)) for k in chunk["key"]]
            new_rows = chunk.assign(nKeypoints=counts)[list(MANIFEST_COLUMNS)]
            self.records = pd.concat([self.records, new_rows], ignore_index=True) \
                if len(self.records) else new_rows.reset_index(drop=True)
            self._write_manifest()
        if sync:
            self.sync_index()
        return extracted

    def _normalise(self, photos: pd.DataFrame, base_dir: Any) -> pd.DataFrame:
        if "filePath" not in photos.columns:
            raise ValueError("photos need a filePath column")
        df = photos.copy()
        base = Path(base_dir) if base_dir is not None else None
        df["absPath"] = [str(base / p) if base is not None and not Path(p).is_absolute()
                         else str(p) for p in df["filePath"]]
        for col in ("mediaID", "individualID", "species", "frame", *_BBOX):
            if col not in df.columns:
                df[col] = None
        df["side"] = [normalise_side(s) for s in df["side"]] if "side" in df.columns \
            else "unknown"
        if "catalogue" not in df.columns:
            df["catalogue"] = [catalogue_of(i) for i in df["individualID"]]
        df["catalogue"] = df["catalogue"].fillna("").astype(str)
        for col in ("frame", *_BBOX):
            df[col] = pd.to_numeric(df[col], errors="coerce")
        df["key"] = [
            photo_key(r.absPath, frame=None if pd.isna(r.frame) else int(r.frame),
                      bbox=None if pd.isna(r.bboxX) else
                      (r.bboxX, r.bboxY, r.bboxWidth, r.bboxHeight),
                      max_keypoints=self.max_keypoints)
            for r in df.itertuples()
        ]
        df["filePath"] = df["absPath"]
        df["nKeypoints"] = 0
        return df

    def remove(self, keys: list[str]) -> None:
        """Drop images from the manifest (their indices are rebuilt at the next sync)."""
        self.records = self.records[~self.records["key"].isin(set(keys))].reset_index(drop=True)
        self._write_manifest()

    # -- features ---------------------------------------------------------------------------
    def features(self, key: str) -> Features:
        """Features of one image (cached in memory)."""
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        with np.load(self._feature_path(key)) as data:
            feats = Features.from_arrays(data)
        self._cache[key] = feats
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return feats

    # -- indices ----------------------------------------------------------------------------
    def _index_path(self, catalogue: str, side: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in catalogue) or "_none"
        return self.root / "index" / f"{safe}__{side}.npz"

    def _template(self) -> Any:
        path = self.root / "index" / "template.npz"
        if path.is_file():
            with np.load(path, allow_pickle=True) as data:
                return DescriptorIndex.from_bytes(data, self.params).index
        total = int(self.records["nKeypoints"].sum()) if len(self.records) else 0
        if total < self.params.min_train:
            return None
        feats = [self.features(k) for k in self.records["key"]]
        sample = sample_descriptors(feats, self.params.train_size)
        template = DescriptorIndex.empty_trained(sample, self.params)
        blob = DescriptorIndex(template, np.zeros(0, np.int64), [], self.params).to_bytes()
        _atomic_write_bytes(path, _npz_bytes(blob))
        return template

    def sync_index(self) -> None:
        """Bring every (catalogue, side) index up to date with the manifest."""
        template = self._template()
        groups = self.records.groupby(["catalogue", "side"], sort=True)["key"].apply(list)
        wanted = set(groups.index)
        for (catalogue, side), keys in groups.items():
            path = self._index_path(catalogue, side)
            current = self._load_index(path)
            need_flat = template is None
            if current is not None and (current.kind == "FlatL2") != need_flat:
                current = None  # the store crossed the training threshold: rebuild
            if current is not None and set(current.keys) <= set(keys):
                have = set(current.keys)
                missing = [k for k in keys if k not in have]
                if not missing:
                    self._indices[(catalogue, side)] = current
                    continue
                current.add([self.features(k) for k in missing], missing)
            else:
                current = DescriptorIndex.build([self.features(k) for k in keys], keys,
                                                self.params, template=template)
            _atomic_write_bytes(path, _npz_bytes(current.to_bytes()))
            self._indices[(catalogue, side)] = current
        for key in list(self._indices):
            if key not in wanted:
                del self._indices[key]

    def _load_index(self, path: Path) -> DescriptorIndex | None:
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=True) as data:
            return DescriptorIndex.from_bytes(data, self.params)

    def index(self, catalogue: str, side: str) -> DescriptorIndex | None:
        """The descriptor index of one group (loaded from disk on first use)."""
        if (catalogue, side) not in self._indices:
            idx = self._load_index(self._index_path(catalogue, side))
            if idx is None:
                return None
            self._indices[(catalogue, side)] = idx
        return self._indices[(catalogue, side)]

    @property
    def catalogues(self) -> list[str]:
        return sorted(set(self.records["catalogue"]))

    # -- ranking ----------------------------------------------------------------------------
    def score_images(
        self,
        feats: Features,
        /,
        *,
        side: str = "unknown",
        catalogues: list[str] | None = None,
        exclude: set[str] | None = None,
        verify: bool = True,
    ) -> pd.DataFrame:
        """LNBNN and RANSAC scores of the gallery images compatible with the query.

        Returns
        -------
        DataFrame
            One row per gallery image with at least one LNBNN vote: ``key``, ``individualID``,
            ``catalogue``, ``side``, ``lnbnn``, ``inliers`` (0 when not in the shortlist),
            sorted by (inliers, lnbnn), best first.
        """
        side = normalise_side(side)
        sides = ("left", "right", "unknown") if side == "unknown" else (side, "unknown")
        cats = self.catalogues if catalogues is None else list(catalogues)
        parts = []
        p = self.params
        for cat in cats:
            for s in sides:
                idx = self.index(cat, s)
                if idx is None or not idx.keys:
                    continue
                dist, img = idx.search(feats.descriptors, p.knn + 1)
                lnbnn = lnbnn_scores(dist, img, len(idx.keys), p.knn)
                hit = np.nonzero(lnbnn > 0)[0]
                parts.append(pd.DataFrame({"key": np.asarray(idx.keys, object)[hit],
                                           "lnbnn": lnbnn[hit]}))
        if not parts:
            return pd.DataFrame(columns=["key", "individualID", "catalogue", "side", "lnbnn",
                                         "inliers"])
        scores = pd.concat(parts, ignore_index=True)
        if exclude:
            scores = scores[~scores["key"].isin(exclude)]
        meta = self.records.set_index("key")[["individualID", "catalogue", "side", "mediaID"]]
        scores = scores.join(meta, on="key")
        scores = scores.sort_values(["lnbnn", "key"], ascending=[False, True],
                                    kind="mergesort").reset_index(drop=True)
        scores["inliers"] = 0
        if verify:
            top = scores.index[: p.shortlist]
            scores.loc[top, "inliers"] = [verify_pair(feats, self.features(k), p)[0]
                                          for k in scores.loc[top, "key"]]
        return scores.sort_values(["inliers", "lnbnn", "key"], ascending=[False, False, True],
                                  kind="mergesort").reset_index(drop=True)
