"""gunicorn settings for production: ``gunicorn -c python:amurlink_web.config.gunicorn
amurlink_web.config.wsgi`` (docs/web.md, "Deployment").

The application is loaded once in the master (``preload_app``); before the workers are forked,
:func:`when_ready` computes the per-reader caches of the joint package (the release for each
reader's terms and the tables the pages derive from it,
:func:`amurlink_web.apps.jobs.warm.warm_caches`), so the workers share them copy-on-write
instead of each computing them on its first requests. The caches stay keyed by the data's
file stamps and the reader's terms: after new data, a worker computes them anew.

Everything else is left to the command line or ``GUNICORN_CMD_ARGS`` (``--bind``,
``--workers``, ``--threads``, logs); ``AMURLINK_WARM_CACHES=0`` starts without the warm-up.
"""

import gc
import os

preload_app = True
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
threads = 4


def when_ready(server):  # pragma: no cover - run by gunicorn's master
    if os.environ.get("AMURLINK_WARM_CACHES", "1") == "0":
        return
    from amurlink_web.apps.jobs.warm import warm_caches

    n = warm_caches()
    server.log.info("warmed the joint package's caches for %d readers", n)
    # what the master made is never freed: keep the collector off those pages, so that they
    # stay shared with the workers (copy-on-write) instead of being touched by every collection
    gc.freeze()
