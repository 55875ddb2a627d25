"""Media browser over 50,000 photos: server time of the first, a middle and the last page.

A joint package with ``AMURLINK_BENCH_MEDIA`` media rows (default 50,000) is served by the
platform in this process (Django's test client, SQLite, the demo site's users). The photos
of the measured pages are written (64x48 px JPEGs with an EXIF block) and their thumbnails
made first, as at import (``review.media.thumbnails_make``). For each of three pages of 100
photos (the first, the one after row N/2, the last; keyset cursors), the page and its 100
thumbnails are
requested ``AMURLINK_BENCH_REPEAT`` times (default 20) by a Chinese park reviewer; the table
gives the median and p99 server time (wall) of the page and of one thumbnail (target p99 <
200 ms), and their CPU time (``time.process_time`` of the request, which the machine's other
load does not inflate). There is no baseline: the platform had no photo pages before; the
load test beside the baseline is ``bench_web_load.py``.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amurlink_web.config.settings")
os.environ["AMURLINK_WEB_HOME"] = tempfile.mkdtemp(prefix="amurlink-bench-media-")
os.environ.setdefault("AMURLINK_SECRET_KEY", "bench-only-not-secret-" + "x" * 40)


def _package(n: int):
    import numpy as np
    import pandas as pd

    from amurlink import Dataset
    from amurlink.datasets import load_example

    toy = load_example()
    rng = np.random.default_rng(1)
    deps = toy.deployments
    media, obs = toy.media, toy.observations
    dep = rng.choice(deps["deploymentID"].astype(str).to_numpy(), n)
    start = deps.set_index("deploymentID")["deploymentStart"]
    when = pd.to_datetime(start.reindex(dep).to_numpy(), utc=True) + pd.to_timedelta(
        rng.integers(0, 80 * 86_400, n), unit="s")
    ids = [f"b{i:06d}" for i in range(n)]
    m = pd.DataFrame({c: pd.Series([media[c].iloc[0]] * n) for c in media.columns})
    m["mediaID"], m["deploymentID"], m["timestamp"] = ids, dep, when
    m["filePath"] = [f"media/{d}/{i}.jpg" for d, i in zip(dep, ids, strict=True)]
    m["fileName"] = [f"{i}.jpg" for i in ids]
    o = pd.DataFrame({c: pd.Series([obs[c].iloc[0]] * n) for c in obs.columns})
    o["observationID"] = [f"o{i}" for i in ids]
    o["mediaID"], o["deploymentID"], o["eventID"] = ids, dep, [f"e{i}" for i in ids]
    o["eventStart"] = o["eventEnd"] = when
    o["individualID"] = pd.NA
    tables = dict(toy.tables)
    tables["media"] = pd.concat([media, m], ignore_index=True).astype(media.dtypes.to_dict())
    tables["observations"] = pd.concat([obs, o], ignore_index=True).astype(
        obs.dtypes.to_dict())
    return Dataset(tables, metadata=dict(toy.metadata),
                   extra_resources=list(toy.extra_resources))


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_databases, setup_test_environment

    setup_test_environment()
    setup_databases(verbosity=0, interactive=False)
    settings.ALLOWED_HOSTS = ["*"]
    import cv2
    import numpy as np
    from django.contrib.auth.models import User
    from django.test import Client

    from amurlink.io import write_camtrap_dp
    from amurlink.simulate.flanks import write_jpeg
    from amurlink_web.apps.core.demo import demo_site_create, toy_border_write
    from amurlink_web.apps.identities.selectors import joint_package_path
    from amurlink_web.apps.review import selectors as sel
    from amurlink_web.apps.review.media import thumbnails_make

    n = int(os.environ.get("AMURLINK_BENCH_MEDIA", "50000"))
    repeat = int(os.environ.get("AMURLINK_BENCH_REPEAT", "20"))
    t0 = time.perf_counter()
    data = _package(n)
    joint = joint_package_path()
    write_camtrap_dp(data, joint)
    toy_border_write(joint.parent)
    demo_site_create()
    user = User.objects.get(username="cn-reviewer")
    client = Client()
    client.force_login(user)
    frame = sel.photos_of(sel.reader_get(fetched_by=user))
    keys = frame["sortKey"].tolist()
    cursors = {"first": "", "middle": keys[len(keys) // 2 - 1],
               "last": keys[len(keys) - 101]}
    pages = {name: sel.keyset_page(frame, after=after, size=100)
             for name, after in cursors.items()}
    # the photos of the measured pages on disk, their thumbnails made as at import (the
    # other rows' files are never opened by a page)
    rng = np.random.default_rng(2)
    by_id = frame.set_index("mediaID")["filePath"]
    paths = [str(by_id[r["mediaID"]]) for p in pages.values() for r in p.rows]
    for fp in paths:
        img = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
        write_jpeg(joint / fp, cv2.GaussianBlur(img, (5, 5), 0), 80,
                   datetime_original="2014:10:01 12:00:00")
    made = thumbnails_make(joint, paths)
    print(f"setup: {len(keys):,} photos ({made} thumbnails on the measured pages) in "
          f"{time.perf_counter() - t0:.1f} s; load average {os.getloadavg()[0]:.1f}")
    client.get("/media/")  # the release and the photo table are cached once
    print(f"| page (of {len(keys):,} photos) | page median ms | page p99 ms | page CPU "
          "median / p99 ms | thumbnail median ms | thumbnail p99 ms | thumbnail CPU median / "
          "p99 ms | target p99 < 200 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, after in cursors.items():
        page_t, thumb_t, page_c, thumb_c = [], [], [], []
        for _ in range(repeat):
            t, c = time.perf_counter(), time.process_time()
            r = client.get("/media/", {"after": after} if after else {})
            page_t.append((time.perf_counter() - t) * 1000)
            page_c.append((time.process_time() - c) * 1000)
            assert r.status_code == 200, r.status_code
        page = pages[name]
        assert len(page.rows) == 100
        for _ in range(max(1, repeat // 10)):
            for row in page.rows:
                t, c = time.perf_counter(), time.process_time()
                r = client.get(f"/media/{row['mediaID']}/thumb.jpg")
                b"".join(r.streaming_content)
                thumb_t.append((time.perf_counter() - t) * 1000)
                thumb_c.append((time.process_time() - c) * 1000)
                assert r.status_code == 200
        p99 = max(_pct(page_t, 0.99), _pct(thumb_t, 0.99))
        print(f"| {name} | {statistics.median(page_t):.1f} | {_pct(page_t, 0.99):.1f} | "
              f"{statistics.median(page_c):.1f} / {_pct(page_c, 0.99):.1f} | "
              f"{statistics.median(thumb_t):.1f} | {_pct(thumb_t, 0.99):.1f} | "
              f"{statistics.median(thumb_c):.1f} / {_pct(thumb_c, 0.99):.1f} | "
              f"{'met' if p99 < 200 else 'MISSED'} |")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
