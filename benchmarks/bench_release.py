"""The output gate's cost: ``release`` against ``protect_dataset`` alone (its floor).

``release`` decides the stations' levels on the complete dataset, scopes (species, tables,
embargo), protects what is left and recomputes the metadata. 1e6 media + 1e6 observations at
2,000 deployments (``make_synthetic_records``); best of ``AMURLINK_BENCH_REPEAT`` runs.
"""

from __future__ import annotations

import os
import time
from datetime import date

from amurlink.core.protection import Audience, ProtectionPolicy, protect_dataset
from amurlink.exchange import Agreement
from amurlink.release import release
from amurlink.testing import make_synthetic_records

N = int(os.environ.get("AMURLINK_BENCH_ROWS", 1_000_000))
REPEAT = int(os.environ.get("AMURLINK_BENCH_REPEAT", 3))


def _best(fn) -> float:
    times = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ds, _ = make_synthetic_records(n_deployments=2_000, n_records=N, rng=20240301)
    policy = ProtectionPolicy()
    tigers = Agreement(recipient="LLNP", species=("Panthera tigris",), level="1km",
                       embargo_date=date(2014, 2, 1))
    print(f"records: {N:,} media + {N:,} observations at 2,000 deployments")
    print(f"{'path':<52}{'seconds':>10}")
    rows = (
        ("protect_dataset, public (floor)",
         lambda: protect_dataset(ds, audience=Audience.public(), policy=policy)),
        ("release, public", lambda: release(ds, audience=Audience.public(), policy=policy)),
        ("protect_dataset, partner 1km (floor)",
         lambda: protect_dataset(ds, audience=tigers.audience, policy=policy)),
        ("release, partner: tigers only, embargo 2014-02-01",
         lambda: release(ds, agreement=tigers, policy=policy, today=date(2025, 1, 1))),
        ("release, owner", lambda: release(ds, audience=Audience.owner(), policy=policy)),
    )
    for label, fn in rows:
        print(f"{label:<52}{_best(fn):>10.2f}")


if __name__ == "__main__":
    main()
