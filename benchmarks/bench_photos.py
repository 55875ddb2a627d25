"""Photo identification speed: extraction rate and query time against a 10,000-image gallery.

Usage: ``.venv/bin/python benchmarks/bench_photos.py [--gallery 10000] [--extract 200]``

* Extraction: RootSIFT (500 keypoints cap) of rendered 640 x 480 flank photos, one thread
  (``cv2.setNumThreads(1)``), reported as images per second per core.
* Query: one photo against a gallery of ``--gallery`` images in the stated index
  (``IndexIVFFlat``, nlist 1024, nprobe 16; trained on 100,000 descriptors), LNBNN over
  the gallery then RANSAC on the 20-image shortlist; median and 95th percentile over queries.
  The gallery's descriptors are real descriptors of ``--extract`` rendered photos, repeated
  with small Gaussian noise to reach ``--gallery`` images (rendering and extracting 10,000
  photos would only make the benchmark slower, not the query).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def main() -> None:
    import cv2

    from amurlink.identify.photos.features import Features, extract_features
    from amurlink.identify.photos.ranking import (
        DescriptorIndex,
        IndexParams,
        lnbnn_scores,
        sample_descriptors,
        verify_pair,
    )
    from amurlink.simulate.flanks import jpeg_roundtrip, render_flank

    ap = argparse.ArgumentParser()
    ap.add_argument("--gallery", type=int, default=10_000)
    ap.add_argument("--extract", type=int, default=200)
    ap.add_argument("--queries", type=int, default=30)
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    photos = []
    for i in range(args.extract):
        img, info = render_flank(i // 2, "tiger" if i % 4 < 2 else "leopard", "left", rng=rng)
        photos.append((jpeg_roundtrip(img, info["jpeg_quality"]),
                       (info["bboxX"], info["bboxY"], info["bboxWidth"], info["bboxHeight"])))
    cv2.setNumThreads(1)
    t0 = time.perf_counter()
    feats = [extract_features(img, box) for img, box in photos]
    t_ext = time.perf_counter() - t0
    cv2.setNumThreads(-1)

    params = IndexParams()
    gallery: list[Features] = []
    for j in range(args.gallery):
        f = feats[j % len(feats)]
        noise = rng.normal(0, 0.01, f.descriptors.shape).astype(np.float32) if j >= len(feats) \
            else 0
        d = f.descriptors + noise
        d /= np.linalg.norm(d, axis=1, keepdims=True) + 1e-9
        gallery.append(Features(f.xy, f.size, f.angle, d.astype(np.float32), f.chip_shape,
                                f.crop))
    t0 = time.perf_counter()
    template = DescriptorIndex.empty_trained(sample_descriptors(gallery, params.train_size),
                                             params)
    t_train = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = DescriptorIndex.build(gallery, [str(i) for i in range(len(gallery))], params,
                                  template=template)
    t_add = time.perf_counter() - t0

    times = []
    for q in range(args.queries):
        img, box = photos[(q * 7) % len(photos)]
        t0 = time.perf_counter()
        f = extract_features(img, box)
        dist, owner = index.search(f.descriptors, params.knn + 1)
        scores = lnbnn_scores(dist, owner, len(index.keys), params.knn)
        top = np.argsort(-scores, kind="stable")[: params.shortlist]
        [verify_pair(f, gallery[i], params) for i in top]
        times.append(time.perf_counter() - t0)
    out = {
        "extract_images": args.extract,
        "extract_images_per_s_per_core": round(args.extract / t_ext, 1),
        "gallery_images": args.gallery,
        "gallery_descriptors": int(index.index.ntotal),
        "index": f"{type(index.index).__name__} nlist={params.nlist} nprobe={params.nprobe}",
        "train_s": round(t_train, 2),
        "add_s": round(t_add, 2),
        "query_median_s": round(float(np.median(times)), 3),
        "query_p95_s": round(float(np.percentile(times, 95)), 3),
        "queries": args.queries,
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
