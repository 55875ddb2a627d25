"""Token authentication: ``Authorization: Token <key>`` on requests under /api/."""

from __future__ import annotations

import hashlib
import secrets

from django.http import JsonResponse
from django.utils import timezone

from amurlink_web.apps.api.models import ApiToken


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """Create a token; the key is returned once and only its hash is kept."""
    key = "al_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:100] or "script", prefix=key[:8],
                                    key_hash=_hash(key))
    return token, key


def token_user(key: str):
    token = ApiToken.objects.select_related("user").filter(key_hash=_hash(key)).first()
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used=timezone.now())
    return token.user


class TokenAuthenticationMiddleware:
    """Authenticate API requests that carry a token; CSRF does not apply to them (no cookies)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header and request.path.startswith("/api/"):
            scheme, _, key = header.partition(" ")
            user = token_user(key.strip()) if scheme.lower() in ("token", "bearer") else None
            if user is None:
                return JsonResponse({"error": "invalid or unknown API token"}, status=401,
                                    headers={"WWW-Authenticate": "Token"})
            request.user = user
            request._dont_enforce_csrf_checks = True
            request.token_authenticated = True
        return self.get_response(request)
