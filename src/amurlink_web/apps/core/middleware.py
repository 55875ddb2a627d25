"""A strict Content-Security-Policy on every response.

Pages load scripts, styles and images from the platform itself only (no inline script or
style, no CDN, no framing, forms post to the platform). A view may set its own policy
(``response["Content-Security-Policy"]``); analysis result files (``/jobs/<id>/files/``,
self-contained HTML reports with inline styles and scripts) get ``CSP_SANDBOX``: a sandbox
without same-origin rights, so a report page can neither read the session nor call the
platform as the user.
"""

from __future__ import annotations

import re

from django.conf import settings

_JOB_FILE = re.compile(r"^/jobs/\d+/files/")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            policy = settings.CSP_SANDBOX if _JOB_FILE.match(request.path) else settings.CSP
            response["Content-Security-Policy"] = policy
        return response
