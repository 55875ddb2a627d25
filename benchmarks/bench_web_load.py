"""Web platform under load: gunicorn with several workers, 100 locust users, PostgreSQL and SQLite.

For each database this script creates a throwaway site (PostgreSQL: a cluster made with
``initdb`` in a temporary folder and started with ``pg_ctl``, or the server in
``AMURLINK_BENCH_DB_URL``; SQLite: a file), migrates it, loads the demo site
(``demo_site``: two parks, the secretariat, the bundled toy package split in two national
datasets plus the joint package), starts ``gunicorn amurlink_web.config.wsgi`` and runs
``locust`` headless with ``benchmarks/locustfile.py``: users are demo users (on sessions made
with Django's ``login()`` beforehand, or through the login form with ``--real-login``) who
browse dataset lists and pages, individuals, the map pages and the map data API with a 1-3 s
think time. Statistics are reset after ``--warm-up`` seconds (every user started, caches
filled), then collected for ``--duration`` seconds; the server's CPU time (gunicorn workers and
PostgreSQL backends, from /proc) over the measured part is reported per request. The audit
log records every read (it cannot be turned off); the script counts the rows it gained to show
it was on. Everything is torn down at the end.

    .venv/bin/python benchmarks/bench_web_load.py                 # 100 users, 60 s, 4 workers
    .venv/bin/python benchmarks/bench_web_load.py --users 20 --duration 15 --backends sqlite

PostgreSQL is skipped, with a message, when ``initdb``/``pg_ctl`` are not found and
``AMURLINK_BENCH_DB_URL`` is not set.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
PYTHON = sys.executable


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _run(cmd: list[str], *, env: dict[str, str] | None = None, user: str | None = None) -> str:
    if user is not None:
        cmd = ["runuser", "-u", user, "--", *cmd]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n"
                           f"{done.stderr}")
    return done.stdout


@contextlib.contextmanager
def postgres_cluster(tmp: Path) -> Iterator[str | None]:
    """A throwaway PostgreSQL server; yields its URL (None when the binaries are absent)."""
    url = os.environ.get("AMURLINK_BENCH_DB_URL")
    if url:
        yield url
        return
    initdb, pg_ctl, createdb = _tool("initdb"), _tool("pg_ctl"), _tool("createdb")
    if not (initdb and pg_ctl and createdb):
        print("PostgreSQL skipped: initdb/pg_ctl/createdb not found on PATH or in "
              "/usr/lib/postgresql/*/bin (install postgresql, or set AMURLINK_BENCH_DB_URL)")
        yield None
        return
    data = tmp / "pgdata"
    data.mkdir()
    user = None
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        user = "postgres"
        shutil.chown(tmp, user=user)
        shutil.chown(data, user=user)
    port = _free_port()
    _run([initdb, "-D", str(data), "-U", "amurlink", "--auth=trust", "-E", "UTF8",
          "--no-sync"], user=user)
    # settings for a throwaway benchmark server: durability off, as on a CI runner
    _run([pg_ctl, "-D", str(data), "-l", str(data / "server.log"), "-w", "-o",
          f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c max_connections=200 "
          "-c fsync=off -c synchronous_commit=off -c shared_buffers=128MB", "start"], user=user)
    try:
        _run([createdb, "-h", "127.0.0.1", "-p", str(port), "-U", "amurlink", "amurlink"],
             user=user)
        _POSTMASTER_PID[:] = [int((data / "postmaster.pid").read_text().split()[0])]
        yield f"postgres://amurlink@127.0.0.1:{port}/amurlink"
    finally:
        _POSTMASTER_PID.clear()
        with contextlib.suppress(RuntimeError):
            _run([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], user=user)


def _site_env(home: Path, db_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMURLINK_")}
    env.update({
        "AMURLINK_WEB_HOME": str(home),
        "AMURLINK_SECRET_KEY": secrets.token_urlsafe(40),
        "AMURLINK_DEBUG": "0",
        # plain HTTP on 127.0.0.1 (production runs behind TLS with secure cookies)
        "AMURLINK_SECURE_COOKIES": "0",
        "AMURLINK_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SETTINGS_MODULE": "amurlink_web.config.settings",
        "PYTHONPATH": str(ROOT / "src"),
    })
    if db_url:
        env["AMURLINK_DB_URL"] = db_url
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    return _run([PYTHON, "-m", "amurlink_web", *args], env=env)


_SESSIONS_CODE = """
import itertools, json, sys
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
users = {u.username: u for u in get_user_model().objects.filter(username__in=%r)}
out = []
for name, _ in zip(itertools.cycle(%r), range(%d)):
    c = Client()
    c.force_login(users[name])
    out.append({"username": name, "cookie": settings.SESSION_COOKIE_NAME,
                "key": c.cookies[settings.SESSION_COOKIE_NAME].value})
json.dump(out, open(%r, "w"))
"""


def _sessions(env: dict[str, str], n: int, path: Path) -> Path:
    """Log ``n`` sessions in for the demo users (Django's own login(), as the login view does)."""
    sys.path.insert(0, str(HERE))
    from locustfile import USERS

    _manage(env, "shell", "-c", _SESSIONS_CODE % (list(USERS), list(USERS), n, str(path)))
    return path


def _audit_rows(env: dict[str, str]) -> int:
    out = _manage(env, "shell", "-c", "from amurlink_web.apps.core.models import AuditLog; "
                  "print(AuditLog.objects.count())")
    return int(out.strip().splitlines()[-1])


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(parents: set[int]) -> float:
    """CPU time (user + system) of the given processes and their direct children."""
    total = 0.0
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat, encoding="ascii", errors="replace") as fh:
                text = fh.read()
        except OSError:
            continue
        pid = int(stat.split("/")[2])
        fields = text[text.rindex(")") + 2:].split()
        if pid in parents or int(fields[1]) in parents:
            total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def _server_pids(db_url: str | None) -> set[int]:
    """gunicorn's master and, for a local PostgreSQL cluster, the postmaster."""
    pids = set(_GUNICORN_PIDS)
    if db_url and _POSTMASTER_PID:
        pids.add(_POSTMASTER_PID[0])
    return pids


_GUNICORN_PIDS: list[int] = []
_POSTMASTER_PID: list[int] = []


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *, workers: int, threads: int) -> Iterator[str]:
    port = _free_port()
    cmd = [str(BIN / "gunicorn"), "amurlink_web.config.wsgi", "--bind", f"127.0.0.1:{port}",
           "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
           "--preload", "--backlog", "2048", "--log-level", "warning", "--timeout", "60",
           # idle connections stay open longer than a user's think time: no request is sent on
           # a connection the server is closing at that moment
           "--keep-alive", "30"]
    log = open(Path(env["AMURLINK_WEB_HOME"]) / "gunicorn.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    _GUNICORN_PIDS[:] = [proc.pid]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/accounts/login/", timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start; see {log.name}")
            time.sleep(0.5)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _locust(url: str, out: Path, *, users: int, spawn_rate: float, duration: int,
            warm_up: float, think: tuple[float, float]) -> list[dict[str, str]]:
    cmd = [str(BIN / "locust"), "-f", str(HERE / "locustfile.py"), "--headless",
           "--host", url, "-u", str(users), "-r", str(spawn_rate),
           "-t", f"{int(warm_up + duration)}s",
           "--measure-after", str(warm_up), "--csv", str(out / "locust"), "--only-summary",
           "--stop-timeout", "5", "--think-min", str(think[0]), "--think-max", str(think[1]),
           "--loglevel", "WARNING"]
    env = dict(os.environ)
    env.pop("AMURLINK_BENCH_SESSIONS", None)
    if (out / "sessions.json").is_file():
        env["AMURLINK_BENCH_SESSIONS"] = str(out / "sessions.json")
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    stats = out / "locust_stats.csv"
    if not stats.is_file():
        raise RuntimeError(f"locust wrote no statistics ({done.returncode}):\n{done.stderr}")
    warm = 0
    for line in (done.stdout + done.stderr).splitlines():
        if line.startswith("WARMUP"):
            print(f"    warm-up ({warm_up:.0f} s: ramp-up, logins, caches): {line[7:]}")
            warm = int(line.split("requests=")[1].split()[0])
    with open(stats, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    failures = out / "locust_failures.csv"
    if failures.is_file():
        with open(failures, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                print(f"    failure: {row.get('Method')} {row.get('Name')}: "
                      f"{row.get('Error')} x{row.get('Occurrences')}")
    return rows, warm


def run_backend(label: str, db_url: str | None, tmp: Path, args: argparse.Namespace) -> dict:
    home = tmp / f"home-{label}"
    home.mkdir()
    env = _site_env(home, db_url)
    t = time.perf_counter()
    _manage(env, "migrate", "--noinput")
    _manage(env, "demo_site")
    print(f"  {label}: site migrated and demo site loaded in {time.perf_counter() - t:.1f} s",
          flush=True)
    out = tmp / f"locust-{label}"
    out.mkdir()
    if not args.real_login:
        _sessions(env, args.users, out / "sessions.json")
    before = _audit_rows(env)
    load = os.getloadavg()
    with gunicorn(env, workers=args.workers, threads=args.threads) as url:
        pids = _server_pids(db_url)
        # the server's CPU time when the statistics are reset (end of warm-up; locust starts
        # in about a second) and at the end: CPU per request of the measured part alone
        marks: list[float] = []
        timer = threading.Timer(args.warm_up + 1.0, lambda: marks.append(_cpu_seconds(pids)))
        timer.start()
        rows, warm = _locust(url, out, users=args.users, spawn_rate=args.spawn_rate,
                       duration=args.duration, warm_up=args.warm_up,
                       think=(args.think_min, args.think_max))
        timer.cancel()
        cpu = _cpu_seconds(pids) - marks[0] if marks else float("nan")
    after = _audit_rows(env)
    return {"label": label, "rows": rows, "audit": after - before, "load_before": load,
            "load_after": os.getloadavg(), "cpu": cpu, "warm": warm}


def _fmt(row: dict[str, str], key: str) -> str:
    value = row.get(key, "")
    try:
        return f"{float(value):,.0f}"
    except ValueError:
        return value or "-"


def report(result: dict, args: argparse.Namespace) -> None:
    rows = result["rows"]
    total = next(r for r in rows if r["Name"] == "Aggregated")
    print(f"\n[{result['label']}] {args.users} users, {args.duration} s after ramp-up, gunicorn "
          f"{args.workers} workers x {args.threads} threads; load average before "
          f"{result['load_before'][0]:.2f}, after {result['load_after'][0]:.2f}")
    print(f"{'endpoint':<38}{'requests':>9}{'errors':>8}{'req/s':>8}{'p50 ms':>8}"
          f"{'p95 ms':>8}{'p99 ms':>8}{'max ms':>8}")
    for r in rows:
        name = "all" if r["Name"] == "Aggregated" else r["Name"]
        print(f"{name:<38}{r['Request Count']:>9}{r['Failure Count']:>8}"
              f"{float(r['Requests/s']):>8.1f}{_fmt(r, '50%'):>8}{_fmt(r, '95%'):>8}"
              f"{_fmt(r, '99%'):>8}{_fmt(r, 'Max Response Time'):>8}")
    print(f"audit log rows added during the run: {result['audit']:,}")
    total = next(r for r in result["rows"] if r["Name"] == "Aggregated")
    served = max(1, int(total["Request Count"]))
    print(f"server CPU (gunicorn workers{' + PostgreSQL' if 'postgres' in result['label'] else ''}"
          f") while measured: {result['cpu']:.1f} s for {served:,} requests = "
          f"{1000 * result['cpu'] / served:.1f} ms per request")
    ok = float(total["99%"]) < 300 and int(total["Failure Count"]) == 0
    print(f"target p99 < 300 ms and no errors: {'met' if ok else 'NOT met'}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=int(os.environ.get("AMURLINK_BENCH_USERS", 100)))
    p.add_argument("--spawn-rate", type=float, default=20.0)
    p.add_argument("--duration", type=int,
                   default=int(os.environ.get("AMURLINK_BENCH_SECONDS", 60)),
                   help="seconds measured after every user has started")
    p.add_argument("--warm-up", type=float, default=30.0,
                   help="seconds before measuring: ramp-up, every user's login, cold caches")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--think-min", type=float, default=1.0)
    p.add_argument("--think-max", type=float, default=3.0)
    p.add_argument("--backends", default="postgres,sqlite")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    p.add_argument("--real-login", action="store_true",
                   help="log every user in through the login form during the warm-up "
                   "(default: sessions made beforehand, so 100 scrypt checks stay out)")
    args = p.parse_args(argv)
    wanted = [b.strip() for b in args.backends.split(",") if b.strip()]
    print(f"web load: {args.users} locust users (think time {args.think_min}-{args.think_max} s)"
          f", demo site (toy package), {os.cpu_count()} CPUs", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="amurlink-webload-"))
    results = []
    try:
        if "postgres" in wanted:
            with postgres_cluster(tmp) as url:
                if url is not None:
                    results.append(run_backend("postgresql", url, tmp, args))
        if "sqlite" in wanted:
            results.append(run_backend("sqlite", None, tmp, args))
    finally:
        if args.keep:
            print(f"kept {tmp} (gunicorn.log, locust_*.csv)")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    for r in results:
        report(r, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
