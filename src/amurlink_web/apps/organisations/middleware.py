"""Activate each signed-in user's own language."""

from __future__ import annotations

from django.utils import translation

from amurlink_web.apps.organisations.selectors import user_language
from amurlink_web.apps.review.media import is_thumbnail_link


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_thumbnail_link(request):  # an image: no words, and no query for the user
            return self.get_response(request)
        language = user_language(user=request.user)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        if language:
            response.headers.setdefault("Content-Language", language)
        return response
