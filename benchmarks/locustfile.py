"""Locust users for ``bench_web_load.py``: demo users who log in and browse the platform.

Each simulated user is one of the demo site's park or secretariat users: it logs in once
through Django's login form (with its CSRF token), or takes a session made beforehand for that
user when ``AMURLINK_BENCH_SESSIONS`` names a file of them. Then it browses with a think time
of 1-3 s: the dataset list and pages, the individuals (joint catalogue), the map pages and
the map data API (protected deployment locations), and the JSON dataset list. Every response
that is not 2xx counts as an error. Run by ``bench_web_load.py``; by hand:

    locust -f benchmarks/locustfile.py --headless -u 100 -r 20 -t 90s --host http://127.0.0.1:8000
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re

import gevent
from locust import FastHttpUser, between, events, task

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


class Browser(FastHttpUser):
    """A park or secretariat member reading datasets, individuals and maps."""

    wait_time = between(1.0, 3.0)

    def on_start(self) -> None:
        opts = self.environment.parsed_options
        if opts is not None:
            self.wait_time = lambda: random.uniform(opts.think_min, opts.think_max)  # noqa: S311
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
        listing = self._get("/api/datasets/", "/api/datasets/")
        try:
            self.dataset_ids = [d["id"] for d in listing.json()["results"]]
        except (ValueError, KeyError, TypeError):
            self.dataset_ids = []

    def _login(self) -> None:
        form = self._get("/accounts/login/", "login form")
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text or "")
        with self.client.post("/accounts/login/", name="login",
                              data={"username": self.username, "password": PASSWORD,
                                    "csrfmiddlewaretoken": found.group(1) if found else ""},
                              headers={"Referer": f"{self.host}/accounts/login/"},
                              allow_redirects=False, catch_response=True) as r:
            if r.status_code != 302:
                r.failure(f"login as {self.username} failed: HTTP {r.status_code}")

    def _get(self, path: str, name: str):
        return self.client.get(path, name=name, headers=self.headers)

    def _dataset(self) -> int | None:
        return random.choice(self.dataset_ids) if self.dataset_ids else None  # noqa: S311

    @task(3)
    def dataset_list(self) -> None:
        self._get("/datasets/", "/datasets/")

    @task(3)
    def dataset_page(self) -> None:
        if (ds := self._dataset()) is not None:
            self._get(f"/datasets/{ds}/", "/datasets/[id]/")

    @task(2)
    def individuals(self) -> None:
        self._get("/identities/", "/identities/")

    @task(1)
    def individuals_api(self) -> None:
        self._get("/api/identities/", "/api/identities/")

    @task(2)
    def map_api(self) -> None:
        if (ds := self._dataset()) is not None:
            self._get(f"/api/datasets/{ds}/deployments/", "/api/datasets/[id]/deployments/")

    @task(1)
    def dataset_map(self) -> None:
        if (ds := self._dataset()) is not None:
            self._get(f"/datasets/{ds}/map/", "/datasets/[id]/map/")

    @task(1)
    def joint_map(self) -> None:
        self._get("/map/", "/map/")

    @task(1)
    def api_datasets(self) -> None:
        self._get("/api/datasets/", "/api/datasets/")
