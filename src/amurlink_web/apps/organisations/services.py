"""Creating organisations, members and preferences."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest

from amurlink_web.apps.core.services import audit_record
from amurlink_web.apps.organisations.models import Membership, Organisation, Profile


def organisation_create(*, name: str, slug: str, country: str, kind: str,
                        catalogue: str = "", names: dict[str, str] | None = None
                        ) -> Organisation:
    """Create an organisation (or return the one with ``slug``); ``names``: the name in other
    languages (``{"zh-hans": ..., "ru": ...}``), set on an existing one that has none."""
    org, created = Organisation.objects.get_or_create(
        slug=slug, defaults={"name": name, "country": country.upper(), "kind": kind,
                             "catalogue": catalogue, "names": dict(names or {})})
    if not created and names and not org.names:
        org.names = dict(names)
        org.save(update_fields=["names", "updated_at"])
    return org


@transaction.atomic
def user_create(*, username: str, password: str, organisation: Organisation, role: str,
                language: str = "en", email: str = ""):
    """Create (or update the role of) a user who is a member of ``organisation``."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username=username, password=password, email=email)
    Profile.objects.get_or_create(user=user, defaults={"language": language})
    Membership.objects.update_or_create(user=user, organisation=organisation,
                                        defaults={"role": role})
    return user


def profile_set_language(*, user, language: str, request: HttpRequest | None = None) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    profile.language = language
    profile.full_clean()
    profile.save(update_fields=["language", "updated_at"])
    audit_record(request=request, user=user, action="update", target=f"profile:{user.pk}",
                 detail={"language": language})
    return profile
