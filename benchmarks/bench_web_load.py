"""Web platform under load on PostgreSQL: the platform issue's pages beside the baseline commit.

One command (``.venv/bin/python benchmarks/bench_web_load.py``, about 5 minutes on 2 quiet
cores) does everything and prints Markdown:

1. a throwaway PostgreSQL cluster (``initdb`` in a temporary folder, started with ``pg_ctl``
   as user ``postgres`` when run as root; or the server in ``AMURLINK_BENCH_DB_URL``), one
   database per site;
2. the baseline (``--baseline``, default :data:`BASELINE`, the commit before the platform
   issue's first commit) checked out with ``git worktree add`` in the temporary folder, and
   the current tree; each site is migrated and loaded with its own ``demo_site``, then the
   same 50,000 photos (``--media``: media rows with their observations appended to the joint
   package, within the deployments' dates) are added to both; the current site's photos of
   the measured pages are written to its photo store and every thumbnail made at import
   (``review.media.package_thumbnails_make``);
3. for each site in turn on the same machine, ``gunicorn amurlink_web.config.wsgi`` (4
   workers x 4 gthread threads, access log with each request's server time; with the tree's
   production settings ``-c python:amurlink_web.config.gunicorn`` where it has them, as
   docs/web.md says: the master warms the per-reader caches before forking) and ``locust``
   headless with ``benchmarks/locustfile.py``: 100 users on sessions made with Django's
   ``login()`` beforehand, 1-3 s think time; the baseline browses the pages it has, the
   current site those and the issue's new pages (review queue and page with photos and
   match picture, individuals, the photo browser's first, middle and last page with ten
   thumbnails each, the Leaflet map's data). Statistics are reset after ``--warm-up``
   seconds, then collected for ``--duration`` seconds; the server's CPU time (gunicorn and
   PostgreSQL, from /proc) over the measured part is given per request;
4. on the current site, after the load: the first, a middle and the last page of 100
   thumbnails over the 50,000 photos, each requested ``--repeat`` times with all its 100
   thumbnails twice, one request at a time (after ``2 x --workers`` unmeasured requests, so
   that no measured one is a worker's first); server time from gunicorn's access log
   (``%(D)s``), beside the server time of the same pages during the load.

The audit log records every read (it cannot be turned off); the script counts the rows each
run added. The machine's load average is printed with every figure: on a shared machine
the figures are upper bounds. Everything is torn down at the end (``--keep`` keeps the
temporary folder, its logs and locust CSVs).

    .venv/bin/python benchmarks/bench_web_load.py
    .venv/bin/python benchmarks/bench_web_load.py --users 20 --duration 15 --no-baseline
    .venv/bin/python benchmarks/bench_web_load.py --backends sqlite   # no PostgreSQL
    .venv/bin/python benchmarks/bench_web_load.py --browser-cache  # users keep cached images

PostgreSQL is skipped, with a message, when ``initdb``/``pg_ctl`` are not found and
``AMURLINK_BENCH_DB_URL`` is not set.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import glob
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
PYTHON = sys.executable
#: The commit before the platform issue's first commit (71efdb5, jobs on Django's task
#: framework; the review pages, the Leaflet map and the uploads came after it).
BASELINE = "3e557a8"
#: Targets of the platform issue: every request's p99 (ms) under load, and the p99 server
#: time (ms) of a page of 100 thumbnails and of its thumbnails.
TARGET_P99 = 150.0
TARGET_MEDIA_P99 = 200.0


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


def _run(cmd: list[str], *, env: dict[str, str] | None = None, user: str | None = None,
         cwd: Path = ROOT) -> str:
    if user is not None:
        cmd = ["runuser", "-u", user, "--", *cmd]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=cwd)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n"
                           f"{done.stderr}")
    return done.stdout


_POSTMASTER_PID: list[int] = []


@contextlib.contextmanager
def postgres_cluster(tmp: Path) -> Iterator[str | None]:
    """A throwaway PostgreSQL server; yields its URL without the database name (None when
    the binaries are absent)."""
    url = os.environ.get("AMURLINK_BENCH_DB_URL")
    if url:
        yield url.rsplit("/", 1)[0]
        return
    initdb, pg_ctl = _tool("initdb"), _tool("pg_ctl")
    if not (initdb and pg_ctl and _tool("createdb")):
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
        _POSTMASTER_PID[:] = [int((data / "postmaster.pid").read_text().split()[0])]
        yield f"postgres://amurlink@127.0.0.1:{port}"
    finally:
        _POSTMASTER_PID.clear()
        with contextlib.suppress(RuntimeError):
            _run([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], user=user)


def _createdb(server: str, name: str) -> str:
    parts = urllib.parse.urlsplit(server)
    cmd = [_tool("createdb") or "createdb", "-h", parts.hostname or "127.0.0.1",
           "-p", str(parts.port or 5432), "-U", parts.username or "amurlink", name]
    _run(cmd, user="postgres" if os.geteuid() == 0 else None)
    return f"{server}/{name}"


@contextlib.contextmanager
def baseline_tree(rev: str, tmp: Path) -> Iterator[Path]:
    """The commit ``rev`` checked out with ``git worktree add`` (removed afterwards)."""
    path = tmp / "baseline"
    _run(["git", "worktree", "add", "--detach", "--quiet", str(path), rev])
    try:
        yield path
    finally:
        with contextlib.suppress(RuntimeError):
            _run(["git", "worktree", "remove", "--force", str(path)])


@dataclass
class Site:
    """One platform version (a source tree) with its own home folder and database."""

    label: str
    tree: Path
    commit: str
    home: Path
    db_url: str | None
    new_pages: bool
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AMURLINK_", "DJANGO_", "PYTHONPATH"))}
        env.update({
            "AMURLINK_WEB_HOME": str(self.home),
            "AMURLINK_SECRET_KEY": secrets.token_urlsafe(40),
            "AMURLINK_DEBUG": "0",
            # plain HTTP on 127.0.0.1 (production runs behind TLS with secure cookies)
            "AMURLINK_SECURE_COOKIES": "0",
            "AMURLINK_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SETTINGS_MODULE": "amurlink_web.config.settings",
            # this tree's library and platform, before the editable install's path
            "PYTHONPATH": str(self.tree / "src"),
        })
        if self.db_url:
            env["AMURLINK_DB_URL"] = self.db_url
        self.env = env

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    def manage(self, *args: str) -> str:
        return _run([PYTHON, "-m", "amurlink_web", *args], env=self.env, cwd=self.tree)

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code)


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


def _sessions(site: Site, n: int, path: Path) -> list[dict[str, str]]:
    """Log ``n`` sessions in for the demo users (Django's own login(), as the login view does)."""
    sys.path.insert(0, str(HERE))
    from locustfile import USERS

    site.shell(_SESSIONS_CODE % (list(USERS), list(USERS), n, str(path)))
    return json.loads(path.read_text())


def _audit_rows(site: Site) -> int:
    out = site.shell("from amurlink_web.apps.core.models import AuditLog; "
                     "print(AuditLog.objects.count())")
    return int(out.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# 50,000 photos
# ---------------------------------------------------------------------------------------------
_SPECIES = ("Capreolus pygargus", "Sus scrofa", "Cervus nippon", "Panthera pardus",
            "Panthera tigris", "Meles leucurus")


def media_add(joint: Path, n: int, *, seed: int = 1) -> None:
    """Append ``n`` photos (media rows and their media-level observations, unidentified
    animals) to the joint package at ``joint``, at its deployments within their dates.

    The rows are appended to ``media.csv`` and ``observations.csv`` as they are: the link log
    and everything else the site wrote stays.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    deps = pd.read_csv(joint / "deployments.csv", dtype=str)
    pick = rng.integers(0, len(deps), n)
    start = pd.to_datetime(deps["deploymentStart"], utc=True).dt.tz_convert(None).to_numpy()[pick]
    end = pd.to_datetime(deps["deploymentEnd"], utc=True).dt.tz_convert(None).to_numpy()[pick]
    span = ((end - start) / np.timedelta64(1, "s")).astype("int64")
    when = pd.DatetimeIndex(start + (rng.random(n) * np.maximum(span - 3600, 1)).astype("int64")
                            * np.timedelta64(1, "s"), tz="UTC")
    # each timestamp with its deployment's UTC offset, as the parks write them
    offsets = deps["deploymentStart"].str[-6:].to_numpy()[pick]
    local = [(t + pd.Timedelta(hours=int(o[:3]), minutes=int(o[0] + o[4:]))).strftime(
        "%Y-%m-%dT%H:%M:%S") + o for t, o in zip(when, offsets, strict=True)]
    dep = deps["deploymentID"].to_numpy()[pick]
    ids = [f"bench{i:06d}" for i in range(n)]
    media_cols = pd.read_csv(joint / "media.csv", nrows=0).columns
    m = pd.DataFrame({c: [""] * n for c in media_cols})
    m["mediaID"], m["deploymentID"], m["timestamp"] = ids, dep, local
    m["captureMethod"], m["filePublic"] = "activityDetection", "false"
    m["filePath"] = [f"media/{d}/{i}.jpg" for d, i in zip(dep, ids, strict=True)]
    m["fileName"] = [f"{i}.jpg" for i in ids]
    m["fileMediatype"] = "image/jpeg"
    obs_cols = pd.read_csv(joint / "observations.csv", nrows=0).columns
    o = pd.DataFrame({c: [""] * n for c in obs_cols})
    o["observationID"] = [f"o-{i}" for i in ids]
    o["deploymentID"], o["mediaID"] = dep, ids
    o["eventID"] = [f"e-{i}" for i in ids]
    o["eventStart"] = o["eventEnd"] = local
    o["observationLevel"], o["observationType"] = "media", "animal"
    o["scientificName"] = rng.choice(_SPECIES, n)
    o["count"] = "1"
    o["classificationMethod"], o["classifiedBy"] = "machine", "bench"
    m.to_csv(joint / "media.csv", mode="a", header=False, index=False)
    o.to_csv(joint / "observations.csv", mode="a", header=False, index=False)


def media_cursors(joint: Path) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The photo browser's keyset cursors of the first, a middle and the last page of 100
    (``timestamp|mediaID`` in UTC, the order of ``review.selectors._photo_frame``) and the
    file paths of the photos on and just after each page."""
    import pandas as pd

    media = pd.read_csv(joint / "media.csv", dtype=str, usecols=["mediaID", "timestamp",
                                                                   "filePath"])
    ts = pd.to_datetime(media["timestamp"], utc=True, errors="coerce")
    media["key"] = ts.dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("0000") + "|" + media["mediaID"]
    media = media.sort_values("key", kind="stable").reset_index(drop=True)
    keys = media["key"].tolist()
    n = len(keys)
    starts = {"first": 0, "middle": n // 2, "last": n - 100}
    cursors = {name: "" if i == 0 else keys[i - 1] for name, i in starts.items()}
    files = {name: media["filePath"].iloc[max(0, i - 20): i + 150].dropna().tolist()
             for name, i in starts.items()}
    return cursors, files


def photos_write(store: Path, file_paths: list[str], *, seed: int = 2) -> int:
    """A 640x480 JPEG (with an EXIF block, as cameras write) for each photo that has none."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    written = 0
    exif = (b"\xff\xe1\x00\x22Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x0f\x00\x02"
            b"\x00\x00\x00\x06\x00\x00\x00\x1aBENCH\x00\x00\x00\x00\x00")
    for fp in dict.fromkeys(file_paths):
        target = store / fp
        if target.is_file():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        img = cv2.resize(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8), (640, 480))
        ok, buf = cv2.imencode(".jpg", cv2.GaussianBlur(img, (9, 9), 0),
                               [cv2.IMWRITE_JPEG_QUALITY, 85])
        data = buf.tobytes()
        target.write_bytes(data[:2] + exif + data[2:] if ok else data)
        written += 1
    return written


def site_prepare(site: Site, args: argparse.Namespace, out: Path) -> dict:
    """Migrate, load the demo site and the 50,000 photos; sessions for locust."""
    t = time.perf_counter()
    site.manage("migrate", "--noinput")
    site.manage("demo_site")
    joint = site.data_dir / "joint"
    media_add(joint, args.media)
    info: dict = {"setup": 0.0}
    if site.new_pages:
        cursors, files = media_cursors(joint)
        written = photos_write(site.data_dir / "photos", [f for v in files.values() for f in v])
        made = site.shell(
            "from amurlink_web.apps.identities.selectors import joint_package_path\n"
            "from amurlink_web.apps.review.media import package_thumbnails_make\n"
            "print(package_thumbnails_make(joint_package_path()))")
        (out / "media.json").write_text(json.dumps(cursors), encoding="utf-8")
        info.update(cursors=cursors, photos=written, thumbs=int(made.split()[-1]))
    info["sessions"] = _sessions(site, args.users, out / "sessions.json")
    info["setup"] = time.perf_counter() - t
    extra = (f"; {info['photos']} photos of the measured pages written, {info['thumbs']} "
             "thumbnails made at import" if site.new_pages else "")
    print(f"  {site.label}: migrated, demo site and {args.media:,} photos loaded in "
          f"{info['setup']:.0f} s{extra}", flush=True)
    return info


# ---------------------------------------------------------------------------------------------
# Server and load
# ---------------------------------------------------------------------------------------------
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


#: gunicorn's access log: status, server time in microseconds, method, path, query.
_ACCESS_FORMAT = "%(s)s %(D)s %(m)s %(U)s ?%(q)s"


@contextlib.contextmanager
def gunicorn(site: Site, *, workers: int, threads: int
             ) -> Iterator[tuple[str, int, Path, tuple[float, float]]]:
    """The site under gunicorn: its URL, the master's pid, the access log and (wall seconds,
    CPU seconds of the server) until it answered (the master's warm-up included)."""
    port = _free_port()
    access = site.home / "access.log"
    # as docs/web.md says production runs it: with the tree's gunicorn settings where it has
    # them (the current tree: preload, then the master warms the per-reader caches before it
    # forks the workers); the baseline has none and gets the same flags without the warm-up
    conf = site.tree / "src" / "amurlink_web" / "config" / "gunicorn.py"
    settings = ["-c", "python:amurlink_web.config.gunicorn"] if conf.is_file() else []
    cmd = [str(BIN / "gunicorn"), *settings, "amurlink_web.config.wsgi",
           "--bind", f"127.0.0.1:{port}",
           "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
           "--preload", "--backlog", "2048", "--log-level", "warning", "--timeout", "60",
           # idle connections stay open longer than a user's think time: no request is sent on
           # a connection the server is closing at that moment
           "--keep-alive", "30", "--access-logfile", str(access),
           "--access-logformat", _ACCESS_FORMAT]
    log = open(site.home / "gunicorn.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=site.env, cwd=site.tree, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    try:
        # the master's warm-up runs before the workers answer (about 6 s of CPU on 50,000
        # photos; minutes where the machine is shared)
        deadline = time.monotonic() + 600
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
        ready = (time.perf_counter() - started, _cpu_seconds({proc.pid}))
        yield url, proc.pid, access, ready
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _locust(site: Site, url: str, out: Path, args: argparse.Namespace
            ) -> tuple[list[dict[str, str]], int, list[str]]:
    cmd = [str(BIN / "locust"), "-f", str(HERE / "locustfile.py"), "--headless",
           "--host", url, "-u", str(args.users), "-r", str(args.spawn_rate),
           "-t", f"{int(args.warm_up + args.duration)}s",
           "--measure-after", str(args.warm_up), "--csv", str(out / "locust"),
           "--only-summary", "--stop-timeout", "5", "--think-min", str(args.think_min),
           "--think-max", str(args.think_max), "--loglevel", "WARNING"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMURLINK_BENCH_")}
    env["AMURLINK_BENCH_SESSIONS"] = str(out / "sessions.json")
    env["AMURLINK_BENCH_NEW_PAGES"] = "1" if site.new_pages else "0"
    env["AMURLINK_BENCH_BROWSER_CACHE"] = "1" if args.browser_cache else "0"
    if (out / "media.json").is_file():
        env["AMURLINK_BENCH_MEDIA"] = str(out / "media.json")
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    stats = out / "locust_stats.csv"
    if not stats.is_file():
        raise RuntimeError(f"locust wrote no statistics ({done.returncode}):\n{done.stderr}")
    warm = 0
    for line in (done.stdout + done.stderr).splitlines():
        if line.startswith("WARMUP"):
            warm = int(line.split("requests=")[1].split()[0])
    with open(stats, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    failures = []
    if (out / "locust_failures.csv").is_file():
        with open(out / "locust_failures.csv", newline="", encoding="utf-8") as fh:
            failures = [f"{r.get('Method')} {r.get('Name')}: {r.get('Error')} "
                        f"x{r.get('Occurrences')}" for r in csv.DictReader(fh)]
    return rows, warm, failures


def _access(path: Path, offset: int = 0) -> list[tuple[int, float, str, str]]:
    """(status, server ms, path, query) of every request in the access log after ``offset``."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        fh.seek(offset)
        for line in fh:
            parts = line.split()
            if len(parts) >= 4 and parts[0].isdigit() and parts[1].isdigit():
                query = parts[4][1:] if len(parts) > 4 else ""
                out.append((int(parts[0]), int(parts[1]) / 1000.0, parts[3], query))
    return out


def _pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank), NaN for no values."""
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(-(-q * len(values) // 1)) - 1))]


def _page_of(query: str, cursors: dict[str, str]) -> str | None:
    after = urllib.parse.parse_qs(query).get("after", [""])[0]
    return next((name for name, c in cursors.items() if c == after), None)


def media_times(access: list[tuple[int, float, str, str]], cursors: dict[str, str],
                owner: dict[str, str] | None = None) -> dict[str, dict[str, list[float]]]:
    """Server ms of the photo pages (by cursor) and of thumbnails (all, or per page when
    ``owner`` maps a thumbnail's path to its page)."""
    out: dict[str, dict[str, list[float]]] = {n: {"page": [], "thumb": []} for n in cursors}
    out["any"] = {"page": [], "thumb": []}
    for _status, ms, path, query in access:
        if path == "/media/":
            name = _page_of(query, cursors)
            if name:
                out[name]["page"].append(ms)
        elif path.startswith("/media/") and path.endswith("/thumb.jpg"):
            out[(owner or {}).get(path, "any")]["thumb"].append(ms)
    return out


# a thumbnail's URL as the page gives it: plain, or a signed link (``?t=``) for this session
_THUMB = re.compile(r'src="(/media/[^"/]+/thumb\.jpg(?:\?t=[^"&]+)?)"')


def media_pass(url: str, session: dict[str, str], cursors: dict[str, str], repeat: int,
               access: Path, workers: int) -> tuple[dict, dict[str, list[float]], list[str]]:
    """Each cursor's page ``repeat`` times and its 100 thumbnails twice, one at a time."""
    opener = urllib.request.build_opener()
    opener.addheaders = [("Cookie", f"{session['cookie']}={session['key']}")]
    owner: dict[str, str] = {}
    client: dict[str, list[float]] = {n: [] for n in cursors}
    errors: list[str] = []

    def get(path: str) -> bytes:
        try:
            with opener.open(url + path, timeout=30) as r:
                return r.read()
        except urllib.error.HTTPError as exc:
            errors.append(f"{path}: HTTP {exc.code}")
            return b""
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            errors.append(f"{path}: {exc}")
            return b""

    # every gunicorn worker has its own caches (the reader's release, the photo table): a
    # few unmeasured requests first, so that no measured one is a worker's first for this
    # reader (the load run's warm-up does the same for its users)
    for _ in range(2 * workers):
        get("/media/")
    time.sleep(0.5)
    offset = access.stat().st_size
    for name, after in cursors.items():
        query = "/media/" + (f"?{urllib.parse.urlencode({'after': after})}" if after else "")
        thumbs: list[str] = []
        for _ in range(repeat):
            t = time.perf_counter()
            thumbs = _THUMB.findall(get(query).decode("utf-8", "replace"))
            client[name].append((time.perf_counter() - t) * 1000)
        if len(thumbs) != 100:
            errors.append(f"{name} page: {len(thumbs)} thumbnails, not 100")
        for src in thumbs:
            owner[src.split("?", 1)[0]] = name  # the access log's path has no query
        for _ in range(2):
            for src in thumbs:
                get(src)
    time.sleep(0.5)  # gunicorn writes the access log line after the response
    return media_times(_access(access, offset), cursors, owner), client, errors


def run_site(site: Site, info: dict, out: Path, args: argparse.Namespace) -> dict:
    before = _audit_rows(site)
    load = os.getloadavg()
    result: dict = {"site": site, "load_before": load}
    with gunicorn(site, workers=args.workers, threads=args.threads) as (url, pid, access,
                                                                         ready):
        result["ready"] = ready
        pids = {pid, *(_POSTMASTER_PID if site.db_url else [])}
        # the server's CPU time and the access log's end when the statistics are reset (end
        # of warm-up; locust starts in about a second) and at the end: the measured part alone
        marks: list[tuple[float, int]] = []
        timer = threading.Timer(args.warm_up + 1.0, lambda: marks.append(
            (_cpu_seconds(pids), access.stat().st_size)))
        timer.start()
        t = time.perf_counter()
        rows, warm, failures = _locust(site, url, out, args)
        result["wall"] = time.perf_counter() - t
        timer.cancel()
        cpu0, offset = marks[0] if marks else (float("nan"), 0)
        result.update(rows=rows, warm=warm, failures=failures, load_after=os.getloadavg(),
                      cpu=_cpu_seconds(pids) - cpu0)
        if site.new_pages:
            result["under_load"] = media_times(_access(access, offset), info["cursors"])
            result["load_quiet"] = os.getloadavg()
            result["quiet"], result["client"], result["pass_errors"] = media_pass(
                url, info["sessions"][2], info["cursors"], args.repeat, access, args.workers)
            result["load_quiet_after"] = os.getloadavg()
    result["audit"] = _audit_rows(site) - before
    return result


# ---------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------
def _f(value: str | float, digits: int = 0) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value) if value else "-"
    return "-" if v != v else f"{v:,.{digits}f}"


def _total(result: dict) -> dict[str, str]:
    return next(r for r in result["rows"] if r["Name"] == "Aggregated")


def report(results: list[dict], args: argparse.Namespace) -> bool:
    """Print the Markdown tables; True when the issue's targets are met."""
    ok = True
    print(f"\n### {args.users} users on {results[0]['site'].db_url and 'PostgreSQL' or 'SQLite'}"
          f" ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs)\n")
    print(f"gunicorn {args.workers} workers x {args.threads} threads, locust {args.users} users "
          f"(think {args.think_min}-{args.think_max} s), {args.warm_up:.0f} s warm-up then "
          f"{args.duration} s measured; {args.media:,} photos added to the joint package; "
          + ("users keep what Cache-Control lets a browser keep (match pictures max-age=3600, "
               "thumbnails by signed link 600, by plain URL 3600)"
             if args.browser_cache else "no client cache (every image asked for every time)")
          + ".\n")
    print("| site | commit | requests | req/s | errors | p50 ms | p95 ms | p99 ms | max ms | "
          "server CPU / request | audit rows | load (1 min) before / after |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        t = _total(r)
        served = max(1, int(t["Request Count"]))
        print(f"| {r['site'].label} | `{r['site'].commit}` | {int(t['Request Count']):,} | "
              f"{_f(t['Requests/s'], 1)} | {t['Failure Count']} | {_f(t['50%'])} | "
              f"{_f(t['95%'])} | **{_f(t['99%'])}** | {_f(t['Max Response Time'])} | "
              f"{1000 * r['cpu'] / served:.1f} ms | {r['audit']:,} | "
              f"{r['load_before'][0]:.1f} / {r['load_after'][0]:.1f} |")
    names: list[str] = []
    for r in results:
        names += [x["Name"] for x in r["rows"] if x["Name"] not in names]
    names = [n for n in names if n != "Aggregated"]
    print("\n| endpoint | " + " | ".join(f"{r['site'].label} requests | p50 ms | p99 ms"
                                           for r in results) + " |")
    print("|---|" + "---:|---:|---:|" * len(results))
    for n in names:
        cells = []
        for r in results:
            row = next((x for x in r["rows"] if x["Name"] == n), None)
            cells.append("- | - | -" if row is None else
                         f"{row['Request Count']} | {_f(row['50%'])} | {_f(row['99%'])}")
        print(f"| `{n}` | " + " | ".join(cells) + " |")
    for r in results:
        for f in r["failures"]:
            print(f"\nfailure ({r['site'].label}): {f}")
    current = results[-1]
    t = _total(current)
    met = float(t["99%"]) < TARGET_P99 and int(t["Failure Count"]) == 0
    ok &= met
    print(f"\nTarget ({current['site'].label}, new pages included): p99 under "
          f"{TARGET_P99:.0f} ms and no errors: **{'met' if met else 'NOT met'}** "
          f"(p99 {_f(t['99%'])} ms, {t['Failure Count']} errors).")
    if "quiet" in current:
        print("\nPhoto browser over "
              f"{args.media:,} photos, server time (gunicorn's `%(D)s`), pages of 100 "
              "thumbnails (keyset cursors):\n")
        print("| page | under load: page requests | page p99 ms | one at a time: page p50 ms | "
              "page p99 ms | its thumbnails p50 ms | thumbnails p99 ms | client p99 ms | "
              f"target p99 < {TARGET_MEDIA_P99:.0f} ms |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for name in current["info"]["cursors"]:
            under = current["under_load"][name]["page"]
            q = current["quiet"][name]
            worst = max(_pct(q["page"], 0.99), _pct(q["thumb"], 0.99))
            good = worst < TARGET_MEDIA_P99 and bool(q["page"]) and bool(q["thumb"])
            ok &= good
            print(f"| {name} | {len(under)} | {_f(_pct(under, 0.99), 1)} | "
                  f"{_f(statistics.median(q['page']) if q['page'] else 'nan', 1)} | "
                  f"{_f(_pct(q['page'], 0.99), 1)} | "
                  f"{_f(statistics.median(q['thumb']) if q['thumb'] else 'nan', 1)} | "
                  f"{_f(_pct(q['thumb'], 0.99), 1)} | "
                  f"{_f(_pct(current['client'][name], 0.99), 1)} | "
                  f"{'met' if good else 'NOT met'} |")
        th = current["under_load"]["any"]["thumb"]
        print(f"\nThumbnails under load: {len(th)} requests, server p50 "
              f"{_f(_pct(th, 0.5), 1)} ms, p99 {_f(_pct(th, 0.99), 1)} ms. One at a time: "
              f"{args.repeat} requests of each page, each of its 100 thumbnails twice; load "
              f"average {current['load_quiet'][0]:.1f} before, "
              f"{current['load_quiet_after'][0]:.1f} after.")
        for e in current["pass_errors"][:10]:
            print(f"\nerror: {e}")
        ok &= not current["pass_errors"]
    return ok


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=int(os.environ.get("AMURLINK_BENCH_USERS", 100)))
    p.add_argument("--spawn-rate", type=float, default=20.0)
    p.add_argument("--duration", type=int,
                   default=int(os.environ.get("AMURLINK_BENCH_SECONDS", 40)),
                   help="seconds measured after every user has started")
    p.add_argument("--warm-up", type=float, default=30.0,
                   help="seconds before measuring: ramp-up, every worker's cold caches (the "
                   "release of the 50,000-photo package for each kind of reader)")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--think-min", type=float, default=1.0)
    p.add_argument("--think-max", type=float, default=3.0)
    p.add_argument("--media", type=int, default=50_000, help="photos added to the joint package")
    p.add_argument("--repeat", type=int, default=20,
                   help="requests of each photo page in the one-at-a-time pass")
    p.add_argument("--baseline", default=BASELINE, help="git revision run beside the tree")
    p.add_argument("--no-baseline", action="store_true", help="the current tree alone")
    p.add_argument("--browser-cache", action="store_true",
                   help="users keep what Cache-Control lets a browser keep (each image's max-age, "
                        "per URL) instead of asking for every image every time")
    p.add_argument("--backends", default="postgres", help="postgres and/or sqlite")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = p.parse_args(argv)
    wanted = [b.strip() for b in args.backends.split(",") if b.strip()]
    head = _run(["git", "rev-parse", "--short", "HEAD"]).strip()
    dirty = " + working tree" if _run(["git", "status", "--porcelain", "--untracked-files=no",
                                       "--", "src"]).strip() else ""
    print(f"web load: {args.users} users, {args.media:,} photos, baseline "
          f"{'none' if args.no_baseline else args.baseline} beside {head}{dirty}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="amurlink-webload-"))
    ok = True
    try:
        with contextlib.ExitStack() as stack:
            base = None if args.no_baseline else stack.enter_context(
                baseline_tree(args.baseline, tmp))
            for backend in wanted:
                server = None
                if backend == "postgres":
                    server = stack.enter_context(postgres_cluster(tmp))
                    if server is None:
                        continue
                sites = []
                if base is not None:
                    sites.append(("baseline", base, args.baseline, False))
                sites.append(("current", ROOT, head + dirty.replace(" + working tree", "+"),
                              True))
                results = []
                for label, tree, commit, new in sites:
                    home = tmp / f"{backend}-{label}"
                    home.mkdir()
                    url = _createdb(server, f"amurlink_{label}") if server else None
                    site = Site(label, tree, commit, home, url, new)
                    out = home / "locust"
                    out.mkdir()
                    info = site_prepare(site, args, out)
                    result = run_site(site, info, out, args)
                    result["info"] = info
                    print(f"  {label}: server answered {result['ready'][0]:.1f} s after its "
                          f"start ({result['ready'][1]:.1f} s server CPU, the master's warm-up "
                          f"where the tree has one); load run done ({result['wall']:.0f} s), "
                          f"load average {result['load_after'][0]:.1f}", flush=True)
                    results.append(result)
                ok &= report(results, args)
    finally:
        if args.keep:
            print(f"kept {tmp} (gunicorn.log, access.log, locust_*.csv)")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n(bench_web_load.py took {time.perf_counter() - t0:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
