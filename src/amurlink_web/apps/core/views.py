"""Home, public page, throttled login, password change, account settings and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from amurlink_web.apps.api.auth import token_create
from amurlink_web.apps.core.audit import audit_for
from amurlink_web.apps.core.models import AuditLog
from amurlink_web.apps.core.services import audit_record, client_address
from amurlink_web.apps.core.throttle import login_failed, login_refusal, login_succeeded
from amurlink_web.apps.datasets.selectors import dataset_list
from amurlink_web.apps.organisations.selectors import membership_list
from amurlink_web.apps.organisations.services import profile_set_language


def home(request: HttpRequest) -> HttpResponse:
    """The home page answers first: per species, individuals recorded in both countries out
    of all (the report's opening, ``core.home.home_answer``), then the latest run, proposals
    awaiting the reader, recent uploads and data-quality alerts."""
    from amurlink_web.apps.core import home as h

    context: dict = {"memberships": membership_list(user=request.user),
                     "datasets": dataset_list(fetched_by=request.user)[:20]}
    if request.user.is_authenticated:
        answer = h.home_answer(fetched_by=request.user)
        if answer is not None:
            audit_record(request=request, action="read", target="home:answer",
                         detail={"access": answer["access"]})
        context |= {"answer": answer, "latest_run": h.latest_run(fetched_by=request.user),
                    "awaiting": h.proposals_awaiting(fetched_by=request.user),
                    "uploads": h.recent_uploads(fetched_by=request.user),
                    "alerts": h.quality_alerts(fetched_by=request.user)}
    return render(request, "home.html", context)


def public(request: HttpRequest) -> HttpResponse:
    """What is public: datasets their owners made public, locations as the public sees them."""
    from django.contrib.auth.models import AnonymousUser

    rows = dataset_list(fetched_by=AnonymousUser())
    return render(request, "public.html", {"datasets": rows})


class LoginView(auth_views.LoginView):
    """Django's login, refused (429) after too many failures of this account from this client
    address, or from this address altogether (counted in the database: ``core.throttle``)."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def _who(self) -> tuple[str, str | None]:
        return (self.request.POST.get("username") or "")[:150], client_address(self.request)

    def post(self, request, *args, **kwargs):
        username, address = self._who()
        refusal = login_refusal(username=username, address=address)
        if refusal is not None:
            audit_record(request=request, action=AuditLog.Action.LOGIN_FAILED,
                         target=f"user:{username[:100]}",
                         detail={"rate_limited": refusal})
            return render(request, "registration/login.html",
                          {"form": self.get_form_class()(request), "rate_limited": True},
                          status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        username, address = self._who()
        login_failed(username=username, address=address)
        audit_record(request=self.request, action=AuditLog.Action.LOGIN_FAILED,
                     target=f"user:{username[:100]}")
        return super().form_invalid(form)

    def form_valid(self, form):
        username, address = self._who()
        response = super().form_valid(form)
        login_succeeded(username=username, address=address)
        audit_record(request=self.request, action=AuditLog.Action.LOGIN,
                     target=f"user:{self.request.user.pk}")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's password; the form applies ``AUTH_PASSWORD_VALIDATORS``."""

    template_name = "registration/password_change.html"
    success_url = reverse_lazy("account")

    def form_valid(self, form):
        response = super().form_valid(form)  # keeps the session (update_session_auth_hash)
        audit_record(request=self.request, action=AuditLog.Action.UPDATE,
                     target=f"password:{self.request.user.pk}")
        messages.success(self.request, _("Password changed."))
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
    """For managers: what the members of their organisations did, and every read of their
    organisations' data, whoever made it (403 for everybody else)."""
    entries = audit_for(user=request.user)
    if entries is None:
        raise PermissionDenied(_("Only managers see the audit log."))
    return render(request, "audit.html", {"entries": entries})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Language switch for everyone; saved in the profile of a signed-in user."""
    from django.views.i18n import set_language as django_set_language

    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        profile_set_language(user=request.user, language=language, request=request)
    return django_set_language(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """HTTP 500 in the reader's language with the site's navigation (Django's default renders
    without the request, so without language, menu or user); plain text if even that fails."""
    try:
        return render(request, "500.html", status=500)
    except Exception:  # noqa: BLE001 - the error page must not fail in turn
        return HttpResponse(_("The platform could not answer this request. Nothing was "
                              "changed; please try again later. If it happens again, tell "
                              "the secretariat when it happened."),
                            status=500, content_type="text/plain; charset=utf-8")
