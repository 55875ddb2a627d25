"""Who belongs where, with which role."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from amurlink_web.apps.organisations.models import Membership, Organisation, role_at_least

User = AbstractBaseUser | AnonymousUser


def membership_list(*, user: User) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("organisation")


def membership_get(*, user: User, organisation: Organisation) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, organisation=organisation).first()


def organisation_list(*, user: User) -> QuerySet[Organisation]:
    """Organisations the user is a member of."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(memberships__user=user).distinct()


def organisation_get_for_member(*, slug: str, user: User) -> tuple[Organisation, Membership]:
    """The organisation and the user's membership; 404 when the user is not a member."""
    org = Organisation.objects.filter(slug=slug).first()
    member = membership_get(user=user, organisation=org) if org is not None else None
    if org is None or member is None:
        raise Http404("no such organisation")
    return org, member


def user_has_role(*, user: User, organisation: Organisation, role: str) -> bool:
    member = membership_get(user=user, organisation=organisation)
    return member is not None and role_at_least(member.role, role)


def working_group_membership_list(*, user: User) -> QuerySet[Membership]:
    """Memberships in the parks and the secretariat (who may see the joint catalogue)."""
    return membership_list(user=user).filter(
        organisation__kind__in=[Organisation.Kind.PARK, Organisation.Kind.SECRETARIAT])


def user_language(*, user: User) -> str | None:
    if not user.is_authenticated:
        return None
    profile = getattr(user, "profile", None)
    return profile.language if profile is not None else None
