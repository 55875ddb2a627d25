"""Django for the web tests: settings from the environment, a test database per process.

PostgreSQL: set AMURLINK_TEST_DB_URL (or AMURLINK_DB_URL) to postgres://user:pass@host/db; the
test database ``test_<db>[_<worker>]`` is created and dropped by the run.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest

_HOME = tempfile.mkdtemp(prefix="amurlink-web-tests-")
# the site's home (database files, photos, thumbnails, job results) goes with the process
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
os.environ["AMURLINK_WEB_HOME"] = _HOME
os.environ.setdefault("AMURLINK_SECRET_KEY", "tests-only-not-secret-" + "x" * 40)
if os.environ.get("AMURLINK_TEST_DB_URL"):
    os.environ["AMURLINK_DB_URL"] = os.environ["AMURLINK_TEST_DB_URL"]
os.environ["DJANGO_SETTINGS_MODULE"] = "amurlink_web.config.settings"

import django  # noqa: E402
from django.conf import settings  # noqa: E402

django.setup()
# hashing speed is not under test here (scrypt is, in test_security.py)
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                             "django.contrib.auth.hashers.ScryptPasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _django_test_database():
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    yield
    teardown_databases(old, verbosity=0)
    teardown_test_environment()

