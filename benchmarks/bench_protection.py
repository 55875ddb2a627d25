"""Location protection speed: ``protect_dataset`` on 1e6 media + 1e6 observations per audience.

No peer tool does this, so the baseline is the owner's view (which passes data through).
"""

from __future__ import annotations

import os
import time

from amurlink.core.protection import Audience, ProtectionPolicy, protect_dataset
from amurlink.testing import make_synthetic_records

N = int(os.environ.get("AMURLINK_BENCH_ROWS", 1_000_000))


def main() -> None:
    ds, _ = make_synthetic_records(n_deployments=2_000, n_records=N, rng=20240301)
    policy = ProtectionPolicy()
    print(f"records: {N:,} media + {N:,} observations at 2,000 deployments")
    print(f"{'audience':<28}{'seconds':>10}")
    for label, audience in (("owner (baseline)", Audience.owner()),
                            ("partner (1km)", Audience.partner()),
                            ("public (withheld)", Audience.public())):
        t = time.perf_counter()
        protect_dataset(ds, audience=audience, policy=policy)
        print(f"{label:<28}{time.perf_counter() - t:>10.2f}")


if __name__ == "__main__":
    main()
