"""Cold CPU of the web platform's pages per reader (in-process, SQLite, the load benchmark's site).

    .venv/bin/python benchmarks/web_cold.py [--warm]       # a temporary site, then measure
    .venv/bin/python benchmarks/web_cold.py --home H --prepare [--media 50000]   # once
    .venv/bin/python benchmarks/web_cold.py --home H [--warm] [--profile OUT.prof]

``--prepare`` migrates, loads ``demo_site`` and appends the 50,000 photos as
``bench_web_load.py`` does (about 30 s); without ``--home`` that is done in a temporary folder
(removed afterwards) before measuring. Measuring, in a fresh process: for each reader kind (Chinese
park, Russian park, secretariat) in turn, the first request of each page kind, with its CPU
seconds (``time.process_time``; the machine is shared, so wall seconds say little).
``--warm`` first runs the gunicorn master's warm-up (``amurlink_web.apps.jobs.warm``), as
production does before forking, and reports its CPU apart.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
READERS = {"cn": "cn-reviewer", "ru": "ru-reviewer", "secretariat": "secretariat-viewer"}


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMURLINK_", "DJANGO_"))}
    env.update(AMURLINK_WEB_HOME=str(home), AMURLINK_SECRET_KEY="bench-cold-not-secret",
               AMURLINK_DEBUG="0", AMURLINK_ALLOWED_HOSTS="testserver,localhost",
               DJANGO_SETTINGS_MODULE="amurlink_web.config.settings")
    return env


def prepare(home: Path, media: int) -> None:
    sys.path.insert(0, str(HERE))
    from bench_web_load import media_add

    env = _env(home)
    (home / "data").mkdir(parents=True, exist_ok=True)
    for args in (("migrate", "--noinput"), ("demo_site",)):
        subprocess.run([sys.executable, "-m", "amurlink_web", *args], env=env, check=True,
                       cwd=ROOT, stdout=subprocess.DEVNULL)
    media_add(home / "data" / "joint", media)


def measure(warm: bool, profile: str | None) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile(time.process_time)
    if warm:
        from amurlink_web.apps.jobs.warm import warm_caches

        t = time.process_time()
        done = warm_caches()
        print(f"warm-up (gunicorn master): {time.process_time() - t:.2f} s CPU, {done} readers")
    users = get_user_model().objects
    pages = ["/", "/map/", "/map/data.json", "/review/?status=proposed", "REVIEW",
             "/individuals/", "INDIVIDUAL", "/media/"]
    total_all = 0.0
    for kind, name in READERS.items():
        c = Client()
        c.force_login(users.get(username=name))
        row = []
        total = 0.0
        for page in pages:
            url = page
            if page == "REVIEW":
                import re

                html = c.get("/review/?status=proposed").content.decode()
                found = re.findall(r'href="(/review/[^"?]+/)(?:\?[^"]*)?"', html)
                if not found:
                    row.append((page, None))
                    continue
                url = found[0]
            if page == "INDIVIDUAL":
                import re

                html = c.get("/individuals/").content.decode()
                found = re.findall(r'href="(/individuals/[^"?]+/)"', html)
                if not found:
                    row.append((page, None))
                    continue
                url = found[0]
            if prof:
                prof.enable()
            t = time.process_time()
            r = c.get(url)
            cpu = time.process_time() - t
            if prof:
                prof.disable()
            total += cpu
            row.append((url if page in ("REVIEW", "INDIVIDUAL") else page,
                        f"{cpu * 1000:.0f} ms ({r.status_code})"))
        total_all += total
        print(f"{kind} ({name}): cold total {total:.2f} s CPU")
        for p, v in row:
            print(f"    {p}: {v}")
    print(f"all readers: {total_all:.2f} s CPU")
    if prof:
        prof.dump_stats(profile)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--home", type=Path, help="the site's folder (default: a temporary one)")
    p.add_argument("--prepare", action="store_true")
    p.add_argument("--media", type=int, default=50_000)
    p.add_argument("--warm", action="store_true")
    p.add_argument("--profile")
    args = p.parse_args()
    if args.home is None:
        import shutil
        import tempfile

        home = Path(tempfile.mkdtemp(prefix="amurlink-webcold-"))
        try:
            prepare(home, args.media)
            cmd = [sys.executable, __file__, "--home", str(home)]
            cmd += ["--warm"] if args.warm else []
            cmd += ["--profile", args.profile] if args.profile else []
            return subprocess.run(cmd, check=False).returncode
        finally:
            shutil.rmtree(home, ignore_errors=True)
    if args.prepare:
        prepare(args.home, args.media)
        return 0
    os.environ.update(_env(args.home))
    measure(args.warm, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
