"""Photos for the demo site: the simulator's flank photos behind the toy package's media rows.

Each media row of the toy package whose observation names an individual gets a photo
rendered by :func:`amurlink.simulate.flanks.render_flank` with the animal's coat (the two
national IDs of one animal, linked or proposed, share one coat), written at the row's
``filePath`` inside the joint package, with the camera's EXIF ``DateTimeOriginal`` (the
pages show server-made thumbnails without it). The observation gets the flank
(``observationTags`` ``flank:left``) and the flank's bounding box.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from amurlink import Dataset as PackageData

#: Photographed leopard pairs the demo site adds for review (:func:`with_review_pairs`).
DEMO_REVIEW_PAIRS = 12

#: National IDs of one animal (the toy's confirmed tiger link, the demo's proposed leopard).
DEMO_ANIMALS = {"CN-NTLNP:T01": 1, "RU-LLNP:T-1": 1, "CN-NTLNP:L01": 2, "RU-LLNP:L-7": 2}


def demo_photos(data: PackageData, *, seed: int = 2014, animals: dict[str, int] | None = None
                ) -> tuple[PackageData, list[tuple[str, np.ndarray, int, str]]]:
    """Render a photo for each identified media row of ``data``.

    Returns the package with each photo's flank (``observationTags`` ``flank:left``) and the
    flank's bounding box in its observation, and the photos to write with
    :func:`demo_photos_write` (``filePath``, pixels, JPEG quality, EXIF time).
    """
    from amurlink.simulate.flanks import render_flank

    obs = data.observations.copy()
    media = data.media.set_index(data.media["mediaID"].astype(str))
    rng = np.random.default_rng(seed)
    counter: dict[str, int] = {}
    photos = []
    tags = obs["observationTags"].astype(object).copy()
    boxes = {c: obs[c].astype(float).copy() for c in ("bboxX", "bboxY", "bboxWidth",
                                                       "bboxHeight")}
    for i, row in obs[obs["individualID"].notna() & obs["mediaID"].notna()].iterrows():
        ind, mid = str(row["individualID"]), str(row["mediaID"])
        if mid not in media.index:
            continue
        n = counter.get(ind, 0)
        counter[ind] = n + 1
        # leopards: the left flank only (the proposal's evidence); tigers: both flanks
        leopard = "pardus" in str(row["scientificName"])
        side = "left" if leopard or n % 2 == 0 else "right"
        animal = (animals or DEMO_ANIMALS).get(ind, zlib.crc32(ind.encode()) % 10_000 + 100)
        image, info = render_flank(seed * 1000 + animal, "leopard" if leopard else "tiger",
                                   side, rng=rng, distortions={"infrared": False,
                                                               "occlusion": 0.0})
        tags[i] = f"flank:{side}"
        for c in boxes:
            boxes[c][i] = float(info[c])
        ts = pd.Timestamp(media.loc[mid, "timestamp"]).strftime("%Y:%m:%d %H:%M:%S")
        photos.append((str(media.loc[mid, "filePath"]), image, int(info["jpeg_quality"]), ts))
    obs["observationTags"] = tags.astype(data.observations["observationTags"].dtype)
    for c, v in boxes.items():
        obs[c] = v.astype(data.observations[c].dtype)
    return data.replace(observations=obs), photos


def with_review_pairs(data: PackageData, n_pairs: int, *, seed: int = 7
                      ) -> tuple[PackageData, pd.DataFrame, dict[str, int]]:
    """``data`` with ``n_pairs`` more leopards photographed once in each country, and the
    photo matcher's proposals between them (two in three are one animal, the rest two).

    Returns the package, the proposals (``subjectA, subjectB, score, evidence``) for
    :meth:`amurlink.identify.LinkStore.propose` and the coat of every national ID (for
    :func:`demo_photos`).
    """
    rng = np.random.default_rng(seed)
    obs, media, ind = data.observations, data.media, data["individuals"]
    o_tpl = obs[obs["individualID"].astype(str) == "CN-NTLNP:L01"].iloc[[0]]
    m_tpl = media[media["mediaID"].astype(str) == str(o_tpl["mediaID"].iloc[0])].iloc[[0]]
    i_tpl = ind[ind["individualID"].astype(str) == "CN-NTLNP:L01"].iloc[[0]]
    start = pd.Timestamp("2014-09-03T20:00:00Z")
    new_o, new_m, new_i, proposals = [], [], [], []
    animals = dict(DEMO_ANIMALS)
    for k in range(n_pairs):
        same = k % 3 != 2
        ids = {"CN": f"CN-NTLNP:L{100 + k}", "RU": f"RU-LLNP:L-{100 + k}"}
        animals[ids["CN"]] = 1000 + k
        animals[ids["RU"]] = 1000 + k if same else 5000 + k
        for j, (country, dep) in enumerate((("CN", f"CN-A{k % 3 + 1}"),
                                            ("RU", f"RU-B{k % 3 + 1}"))):
            mid = f"m-r{k:03d}{country.lower()}"
            when = start + pd.Timedelta(hours=int(k * 31 + j * 173))
            m = m_tpl.copy()
            m["mediaID"], m["deploymentID"], m["timestamp"] = mid, dep, when
            m["filePath"] = f"media/{dep}/{mid}.jpg"
            m["fileName"] = f"{mid}.jpg"
            o = o_tpl.copy()
            o["observationID"], o["mediaID"], o["eventID"] = f"o-r{k:03d}{country}", mid, \
                f"e-r{k:03d}{country}"
            o["deploymentID"], o["eventStart"], o["eventEnd"] = dep, when, when
            o["individualID"] = ids[country]
            i = i_tpl.copy()
            i["individualID"] = ids[country]
            i["catalogue"] = "CN-NTLNP" if country == "CN" else "RU-LLNP"
            new_o.append(o)
            new_m.append(m)
            new_i.append(i)
        score = rng.uniform(0.65, 0.95) if same else rng.uniform(0.3, 0.55)
        proposals.append({"subjectA": ids["CN"], "subjectB": ids["RU"],
                          "score": round(float(score), 2),
                          "evidence": f'{{"flank": "left", "pair": {k}}}'})
    tables = {"observations": pd.concat([obs, *new_o], ignore_index=True)
              .astype(obs.dtypes.to_dict()),
              "media": pd.concat([media, *new_m], ignore_index=True)
              .astype(media.dtypes.to_dict()),
              "individuals": pd.concat([ind, *new_i], ignore_index=True)
              .astype(ind.dtypes.to_dict())}
    out = PackageData({**data.tables, **tables}, metadata=dict(data.metadata),
                      extra_resources=list(data.extra_resources))
    return out, pd.DataFrame(proposals), animals


def demo_photos_write(package: Path, photos: list[tuple[str, np.ndarray, int, str]]
                      ) -> list[str]:
    """Write the photos of :func:`demo_photos` into ``package`` (kept when present), each
    with its EXIF ``DateTimeOriginal``; returns the ``filePath`` of each."""
    from amurlink.simulate.flanks import write_jpeg

    root = package.resolve()
    written = []
    for fp, image, quality, ts in photos:
        target = (root / fp).resolve()
        if root not in target.parents:
            continue
        if not target.is_file():
            write_jpeg(target, image, quality, datetime_original=ts)
        written.append(fp)
    return written
