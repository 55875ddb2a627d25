"""Authentication backend: Django's, loading the user's profile with the user."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class ProfileModelBackend(ModelBackend):
    """:class:`~django.contrib.auth.backends.ModelBackend` whose session lookup also fetches
    ``user.profile`` (the language middleware reads it on every request): one query less."""

    def get_user(self, user_id):
        model = get_user_model()
        try:
            user = model._default_manager.select_related("profile").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
