"""WSGI entry point (gunicorn amurlink_web.config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amurlink_web.config.settings")
application = get_wsgi_application()
