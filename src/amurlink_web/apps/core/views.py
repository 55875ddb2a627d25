"""Home, public page, rate-limited login, account settings and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from amurlink_web.apps.api.auth import token_create
from amurlink_web.apps.core.models import AuditLog
from amurlink_web.apps.core.services import audit_record
from amurlink_web.apps.datasets.selectors import dataset_list
from amurlink_web.apps.organisations.models import Membership, Role
from amurlink_web.apps.organisations.selectors import membership_list
from amurlink_web.apps.organisations.services import profile_set_language


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {
        "memberships": membership_list(user=request.user),
        "datasets": dataset_list(fetched_by=request.user)[:20],
    })


def public(request: HttpRequest) -> HttpResponse:
    """What is public: datasets their owners made public, locations as the public sees them."""
    from django.contrib.auth.models import AnonymousUser

    rows = dataset_list(fetched_by=AnonymousUser())
    return render(request, "public.html", {"datasets": rows})


def _login_keys(request: HttpRequest) -> list[str]:
    ip = request.META.get("REMOTE_ADDR", "-")
    user = (request.POST.get("username") or "").strip().lower()[:150]
    return [f"login-fail:ip:{ip}", f"login-fail:user:{user}"]


class LoginView(auth_views.LoginView):
    """Django's login, refused (429) after too many failures per address or per user name."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        keys = _login_keys(request)
        if any(cache.get(k, 0) >= settings.LOGIN_MAX_FAILURES for k in keys):
            audit_record(request=request, action=AuditLog.Action.LOGIN_FAILED,
                         target=f"user:{request.POST.get('username', '')[:100]}",
                         detail={"rate_limited": True})
            return render(request, "registration/login.html",
                          {"form": self.get_form_class()(request), "rate_limited": True},
                          status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        for k in _login_keys(self.request):
            cache.add(k, 0, settings.LOGIN_WINDOW_S)
            try:
                cache.incr(k)
            except ValueError:
                cache.set(k, 1, settings.LOGIN_WINDOW_S)
        audit_record(request=self.request, action=AuditLog.Action.LOGIN_FAILED,
                     target=f"user:{self.request.POST.get('username', '')[:100]}")
        return super().form_invalid(form)

    def form_valid(self, form):
        response = super().form_valid(form)
        cache.delete_many(_login_keys(self.request))
        audit_record(request=self.request, action=AuditLog.Action.LOGIN,
                     target=f"user:{self.request.user.pk}")
        return response


@login_required
def account(request: HttpRequest) -> HttpResponse:
    new_key = None
    if request.method == "POST":
        if "language" in request.POST:
            language = request.POST["language"]
            if language in dict(settings.LANGUAGES):
                profile_set_language(user=request.user, language=language, request=request)
                messages.success(request, _("Language saved."))
            return redirect("account")
        if "token_name" in request.POST:
            token, new_key = token_create(user=request.user,
                                          name=request.POST.get("token_name", ""))
            audit_record(request=request, action="create", target=f"token:{token.pk}")
    return render(request, "account.html", {
        "tokens": request.user.api_tokens.all(), "new_key": new_key,
        "languages": settings.LANGUAGES, "memberships": membership_list(user=request.user),
    })


@login_required
def audit(request: HttpRequest) -> HttpResponse:
    """Audit entries of the members of the organisations the user manages (403 otherwise)."""
    managed = [m.organisation for m in membership_list(user=request.user)
               if m.role == Role.MANAGER]
    if not managed:
        raise PermissionDenied(_("Only managers see the audit log."))
    users = Membership.objects.filter(organisation__in=managed).values_list("user_id", flat=True)
    entries = AuditLog.objects.filter(user_id__in=users).select_related("user")[:300]
    return render(request, "audit.html", {"entries": entries})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Language switch for everyone; saved in the profile of a signed-in user."""
    from django.views.i18n import set_language as django_set_language

    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        profile_set_language(user=request.user, language=language, request=request)
    return django_set_language(request)
