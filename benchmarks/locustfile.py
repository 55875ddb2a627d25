"""Locust users for ``bench_web_load.py``: demo users who log in and browse the platform.

Each simulated user is one of the demo site's park or secretariat users: it logs in once
through Django's login form (with its CSRF token), or takes a session made beforehand for that
user when ``AMURLINK_BENCH_SESSIONS`` names a file of them. Then it browses with a think time
of 1-3 s. Pages every version of the platform has (the baseline's too): home, the dataset list
and pages, the joint catalogue, the map pages and the map data API (protected deployment
locations), the JSON dataset list. With ``AMURLINK_BENCH_NEW_PAGES=1`` (the platform issue's
pages, absent from the baseline) also: the review queue and a review page with its photos
and match picture, the individuals list and an individual's page, the photo browser's first,
a middle and the last page (cursors from ``AMURLINK_BENCH_MEDIA``, a JSON file) with ten of
the page's thumbnails each (what a browser's lazy loading fetches first), and the Leaflet
map's data. Every response that is not 2xx counts as an error. Run by ``bench_web_load.py``;
by hand:

    locust -f benchmarks/locustfile.py --headless -u 100 -r 20 -t 90s --host http://127.0.0.1:8000
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time

import gevent
from locust import FastHttpUser, between, events

PASSWORD = os.environ.get("AMURLINK_BENCH_PASSWORD", "amurlink-demo-2024")
#: Demo users of the working group (every one of them may see the joint map and catalogue).
USERS = ("cn-viewer", "cn-contributor", "cn-reviewer", "cn-manager", "ru-viewer",
         "ru-contributor", "ru-reviewer", "ru-manager", "secretariat-viewer",
         "secretariat-manager")
_next_user = itertools.cycle(USERS)
#: Sessions made beforehand: AMURLINK_BENCH_SESSIONS names a JSON list of
#: ``{"username", "cookie", "key"}``; without it every user logs in through the login form.
_SESSIONS = None
if os.environ.get("AMURLINK_BENCH_SESSIONS"):
    with open(os.environ["AMURLINK_BENCH_SESSIONS"], encoding="utf-8") as _fh:
        _SESSIONS = itertools.cycle(json.load(_fh))
#: Whether the platform issue's pages are browsed too (not on the baseline, which lacks them).
NEW_PAGES = os.environ.get("AMURLINK_BENCH_NEW_PAGES", "0") == "1"
#: Photo browser cursors: {"first": "", "middle": "<sortKey>", "last": "<sortKey>"}.
MEDIA_CURSORS: dict[str, str] = {"first": ""}
if os.environ.get("AMURLINK_BENCH_MEDIA"):
    with open(os.environ["AMURLINK_BENCH_MEDIA"], encoding="utf-8") as _fh:
        MEDIA_CURSORS = json.load(_fh)
#: Browsers keep what the server lets them cache (``AMURLINK_BENCH_BROWSER_CACHE=1``): a
#: response with ``Cache-Control: max-age=N`` (and no ``no-store``/``no-cache``) is not asked
#: for again by the same user for N seconds (per URL, as Chromium does) for the thumbnails
#: (``private, max-age=600`` by a page's signed link, 3600 by the plain URL) and match pictures
#: (3600); pages send no such header and are always asked for.
BROWSER_CACHE = os.environ.get("AMURLINK_BENCH_BROWSER_CACHE", "0") == "1"
_MAX_AGE = re.compile(r"max-age=(\d+)")
#: Thumbnails fetched per photo page view.
THUMBS_PER_PAGE = int(os.environ.get("AMURLINK_BENCH_THUMBS", "10"))

# a thumbnail's URL as the page gives it: plain, or a signed link (``?t=``) for this session
_THUMB = re.compile(r'src="(/media/[^"/]+/thumb\.jpg(?:\?t=[^"&]+)?)"')
_REVIEW = re.compile(r'href="(/review/[^"/?]+/)')
_MATCH = re.compile(r'src="(/review/[^"/]+/match/[a-z]+/)"')
_INDIVIDUAL = re.compile(r'href="(/individuals/[^"/?]+/)"')


@events.init_command_line_parser.add_listener
def _options(parser) -> None:  # pragma: no cover - locust hook
    parser.add_argument("--think-min", type=float, default=1.0, env_var="AMURLINK_THINK_MIN")
    parser.add_argument("--think-max", type=float, default=3.0, env_var="AMURLINK_THINK_MAX")
    parser.add_argument("--measure-after", type=float, default=0.0,
                        env_var="AMURLINK_MEASURE_AFTER",
                        help="seconds of warm-up (ramp-up and logins) before statistics reset")


@events.test_start.add_listener
def _reset_after_warm_up(environment, **_kwargs) -> None:  # pragma: no cover - locust hook
    opts = environment.parsed_options
    delay = getattr(opts, "measure_after", 0.0) if opts is not None else 0.0
    if delay <= 0:
        return

    def reset() -> None:
        total = environment.stats.total
        # the warm-up's own figures, for the record (bench_web_load.py parses this line)
        print(f"WARMUP requests={total.num_requests} failures={total.num_failures}", flush=True)
        environment.stats.reset_all()

    gevent.spawn_later(delay, reset)


# ---------------------------------------------------------------------------------------------
# Pages every version has
# ---------------------------------------------------------------------------------------------
def home(user: Browser) -> None:
    user.get("/", "/")


def dataset_list(user: Browser) -> None:
    user.get("/datasets/", "/datasets/")


def dataset_page(user: Browser) -> None:
    if (ds := user.dataset()) is not None:
        user.get(f"/datasets/{ds}/", "/datasets/[id]/")


def catalogue(user: Browser) -> None:
    user.get("/identities/", "/identities/")


def catalogue_api(user: Browser) -> None:
    user.get("/api/identities/", "/api/identities/")


def map_api(user: Browser) -> None:
    if (ds := user.dataset()) is not None:
        user.get(f"/api/datasets/{ds}/deployments/", "/api/datasets/[id]/deployments/")


def dataset_map(user: Browser) -> None:
    if (ds := user.dataset()) is not None:
        user.get(f"/datasets/{ds}/map/", "/datasets/[id]/map/")


def joint_map(user: Browser) -> None:
    user.get("/map/", "/map/")


def api_datasets(user: Browser) -> None:
    user.get("/api/datasets/", "/api/datasets/")


COMMON = {home: 1, dataset_list: 3, dataset_page: 3, catalogue: 2, catalogue_api: 1,
          map_api: 2, dataset_map: 1, joint_map: 1, api_datasets: 1}


# ---------------------------------------------------------------------------------------------
# The platform issue's pages (review, individuals, photos, the Leaflet map's data)
# ---------------------------------------------------------------------------------------------
def review_queue(user: Browser) -> None:
    r = user.get("/review/?status=proposed", "/review/")
    found = _REVIEW.findall(r.text or "")
    if found:
        user.review_pages = sorted(set(found))


def review_page(user: Browser) -> None:
    if not user.review_pages:
        return review_queue(user)
    r = user.get(random.choice(user.review_pages), "/review/[id]/")  # noqa: S311
    text = r.text or ""
    for src in _THUMB.findall(text)[:4]:
        user.get(src, "/media/[id]/thumb.jpg")
    for src in _MATCH.findall(text)[:1]:
        user.get(src, "/review/[id]/match/[flank]/")
    return None


def individuals(user: Browser) -> None:
    r = user.get("/individuals/", "/individuals/")
    found = _INDIVIDUAL.findall(r.text or "")
    if found:
        user.individual_pages = found


def individual_page(user: Browser) -> None:
    if not user.individual_pages:
        return individuals(user)
    user.get(random.choice(user.individual_pages), "/individuals/[id]/")  # noqa: S311
    return None


def media_page(user: Browser) -> None:
    name = random.choice(list(MEDIA_CURSORS))  # noqa: S311
    after = MEDIA_CURSORS[name]
    r = user.client.get("/media/", name=f"/media/ ({name} page)", headers=user.headers,
                        params={"after": after} if after else None)
    thumbs = _THUMB.findall(r.text or "")
    for src in random.sample(thumbs, min(THUMBS_PER_PAGE, len(thumbs))):
        user.get(src, "/media/[id]/thumb.jpg")


def map_data(user: Browser) -> None:
    user.get("/map/data.json", "/map/data.json")


NEW = {review_queue: 2, review_page: 3, individuals: 2, individual_page: 2, media_page: 3,
       map_data: 1}


class Browser(FastHttpUser):
    """A park or secretariat member reading datasets, individuals, photos and maps."""

    wait_time = between(1.0, 3.0)
    tasks = {**COMMON, **NEW} if NEW_PAGES else dict(COMMON)

    def on_start(self) -> None:
        opts = self.environment.parsed_options
        if opts is not None:
            self.wait_time = lambda: random.uniform(opts.think_min, opts.think_max)  # noqa: S311
        self.review_pages: list[str] = []
        self.individual_pages: list[str] = []
        self.fresh: dict[str, tuple[float, object]] = {}  # the browser's cache
        if _SESSIONS:
            # a session made beforehand for a demo user (bench_web_load.py): the scrypt password
            # check of 100 logins is kept out of the browsing figures
            session = next(_SESSIONS)
            self.username = session["username"]
            self.headers = {"Cookie": f"{session['cookie']}={session['key']}"}
        else:
            self.username = next(_next_user)
            self.headers = {}
            self._login()
        listing = self.get("/api/datasets/", "/api/datasets/")
        try:
            self.dataset_ids = [d["id"] for d in listing.json()["results"]]
        except (ValueError, KeyError, TypeError):
            self.dataset_ids = []

    def _login(self) -> None:
        form = self.get("/accounts/login/", "login form")
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text or "")
        with self.client.post("/accounts/login/", name="login",
                              data={"username": self.username, "password": PASSWORD,
                                    "csrfmiddlewaretoken": found.group(1) if found else ""},
                              headers={"Referer": f"{self.host}/accounts/login/"},
                              allow_redirects=False, catch_response=True) as r:
            if r.status_code != 302:
                r.failure(f"login as {self.username} failed: HTTP {r.status_code}")

    def get(self, path: str, name: str):
        if BROWSER_CACHE:
            kept = self.fresh.get(path)
            if kept is not None and kept[0] > time.monotonic():
                return kept[1]  # from the browser's cache: no request
        r = self.client.get(path, name=name, headers=self.headers)
        if BROWSER_CACHE:
            control = (r.headers or {}).get("Cache-Control", "") or ""
            age = _MAX_AGE.search(control)
            if age and "no-store" not in control and "no-cache" not in control \
                    and 200 <= (r.status_code or 0) < 300:
                self.fresh[path] = (time.monotonic() + int(age.group(1)), r)
        return r

    def dataset(self) -> int | None:
        return random.choice(self.dataset_ids) if self.dataset_ids else None  # noqa: S311
