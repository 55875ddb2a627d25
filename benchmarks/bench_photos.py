"""Photo identification speed: extraction rate and query time against a 10,000-image gallery.

Usage: ``.venv/bin/python benchmarks/bench_photos.py [--gallery 10000] [--extract 200]``

Every figure uses the library's defaults (``IndexParams()``, ``MAX_KEYPOINTS``), the same
settings as the accuracy study of ``docs/photos.md``, with OpenCV and faiss on one thread.

* Extraction: RootSIFT (keypoint cap ``MAX_KEYPOINTS``) of rendered 640 x 480 flank photos,
  one thread (``cv2.setNumThreads(1)``), reported as images per second per core.
* Query: one photo against a gallery of ``--gallery`` images in the stated index
  (``IndexIVFFlat``, nlist and nprobe from ``IndexParams``; quantizer trained on up to
  ``train_size`` descriptors), LNBNN over the gallery, then RANSAC on the shortlist; median
  and 95th percentile over queries, with the time split by stage (extract, search, LNBNN,
  RANSAC). The gallery's descriptors are real descriptors of ``--extract`` rendered photos,
  repeated with small Gaussian noise to reach ``--gallery`` images (rendering and
  extracting 10,000 photos would only make the benchmark slower, not the query).

Wall-clock figures depend on the machine's load (printed); the CPU seconds of the process
(``time.process_time``, one thread) are given beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def main() -> None:
    from amurlink.identify.photos.ranking import single_threaded

    ap = argparse.ArgumentParser()
    ap.add_argument("--gallery", type=int, default=10_000)
    ap.add_argument("--extract", type=int, default=200)
    ap.add_argument("--queries", type=int, default=30)
    args, _ = ap.parse_known_args()  # run.py passes its own arguments through
    with single_threaded():  # OpenCV, faiss and BLAS on one thread
        run(args)


def run(args: argparse.Namespace) -> None:
    from amurlink.identify.photos.features import MAX_KEYPOINTS, Features, extract_features
    from amurlink.identify.photos.ranking import (
        DescriptorIndex,
        IndexParams,
        lnbnn_scores,
        sample_descriptors,
        verify_pair,
    )
    from amurlink.simulate.flanks import jpeg_roundtrip, render_flank

    rng = np.random.default_rng(0)
    photos = []
    for i in range(args.extract):
        img, info = render_flank(i // 2, "tiger" if i % 4 < 2 else "leopard", "left", rng=rng)
        photos.append((jpeg_roundtrip(img, info["jpeg_quality"]),
                       (info["bboxX"], info["bboxY"], info["bboxWidth"], info["bboxHeight"])))
    c0 = time.process_time()
    t0 = time.perf_counter()
    feats = [extract_features(img, box) for img, box in photos]
    t_ext = time.perf_counter() - t0
    c_ext = time.process_time() - c0

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

    stages: dict[str, list[float]] = {"extract": [], "search": [], "lnbnn": [], "ransac": []}
    times, cpu, hits = [], [], []
    n_animals = max(1, args.extract // 2)
    qrng = np.random.default_rng(1)
    for q in range(args.queries):
        animal = (q * 7) % n_animals
        i = 2 * animal
        img, info = render_flank(animal, "tiger" if i % 4 < 2 else "leopard", "left", rng=qrng)
        img = jpeg_roundtrip(img, info["jpeg_quality"])
        box = (info["bboxX"], info["bboxY"], info["bboxWidth"], info["bboxHeight"])
        c0 = time.process_time()
        t0 = time.perf_counter()
        f = extract_features(img, box)
        t1 = time.perf_counter()
        dist, owner = index.search(f.descriptors, params.knn + 1)
        t2 = time.perf_counter()
        scores = lnbnn_scores(dist, owner, len(index.keys), params.knn)
        top = np.argsort(-scores, kind="stable")[: params.shortlist]
        t3 = time.perf_counter()
        inliers = [verify_pair(f, gallery[i], params)[0] for i in top]
        t4 = time.perf_counter()
        cpu.append(time.process_time() - c0)
        best = int(top[int(np.argmax(inliers))]) if len(top) else -1
        hits.append(best >= 0 and (best % len(feats)) // 2 == animal)
        times.append(t4 - t0)
        for name, dt in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            stages[name].append(dt)
    out = {
        "extract_images": args.extract,
        "max_keypoints": MAX_KEYPOINTS,
        "extract_images_per_s_per_core": round(args.extract / t_ext, 1),
        "extract_images_per_cpu_s": round(args.extract / c_ext, 1),
        "gallery_images": args.gallery,
        "gallery_descriptors": int(index.index.ntotal),
        "index": f"{type(index.index).__name__} nlist={params.nlist} nprobe={params.nprobe}"
                 f" (trained on {min(params.train_size, int(index.index.ntotal))})",
        "shortlist": params.shortlist,
        "threads": 1,
        "train_s": round(t_train, 2),
        "add_s": round(t_add, 2),
        "query_median_s": round(float(np.median(times)), 3),
        "query_p95_s": round(float(np.percentile(times, 95)), 3),
        "query_cpu_median_s": round(float(np.median(cpu)), 3),
        "query_cpu_p95_s": round(float(np.percentile(cpu, 95)), 3),
        "stage_median_s": {k: round(float(np.median(v)), 4) for k, v in stages.items()},
        "queries": args.queries,
        "query_top1": round(float(np.mean(hits)), 3),
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
