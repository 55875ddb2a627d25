"""JSON API under /api/: the same selectors, services and protection as the pages."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import reverse

from amurlink_web.apps.api.openapi import openapi_schema
from amurlink_web.apps.core.services import ApplicationError, audit_record
from amurlink_web.apps.datasets.models import Dataset
from amurlink_web.apps.datasets.selectors import (
    Access,
    dataset_get,
    dataset_list,
    dataset_summary,
    deployment_list,
    media_list,
    observation_list,
)
from amurlink_web.apps.datasets.services import dataset_import, upload_receive
from amurlink_web.apps.identities.selectors import identity_list, link_list
from amurlink_web.apps.identities.services import link_review
from amurlink_web.apps.organisations.models import role_at_least
from amurlink_web.apps.organisations.selectors import organisation_get_for_member
from amurlink_web.apps.sharing.selectors import agreement_list

MAX_LIMIT = 5000


def api(methods: tuple[str, ...] = ("GET",), *, login: bool = False):
    """Method check, JSON errors (401/403/404/405/4xx) for every endpoint."""

    def wrap(view: Callable[..., Any]) -> Callable[..., JsonResponse]:
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
            if request.method not in methods:
                return JsonResponse({"error": f"method {request.method} not allowed"},
                                    status=405, headers={"Allow": ", ".join(methods)})
            if login and not request.user.is_authenticated:
                return JsonResponse({"error": "authentication required (session or token)"},
                                    status=401, headers={"WWW-Authenticate": "Token"})
            try:
                payload = view(request, *args, **kwargs)
            except Http404 as exc:
                return JsonResponse({"error": str(exc) or "not found"}, status=404)
            except PermissionDenied as exc:
                return JsonResponse({"error": str(exc) or "permission denied"}, status=403)
            except ApplicationError as exc:
                return JsonResponse({"error": exc.message, **exc.extra}, status=exc.status)
            if isinstance(payload, JsonResponse):
                return payload
            return JsonResponse(payload, json_dumps_params={"ensure_ascii": False})

        return inner

    return wrap


def _limit(request: HttpRequest, default: int = 500) -> int:
    try:
        return max(0, min(int(request.GET.get("limit", default)), MAX_LIMIT))
    except ValueError:
        raise ApplicationError("limit must be an integer") from None


def _dataset_json(ds: Dataset, access: Access) -> dict[str, Any]:
    # counts, species and dates of what THIS reader may see (after release: an agreement's
    # held-back species, dates and rows cannot be read from the summary)
    summary = dataset_summary(dataset=ds, access=access)
    return {
        "id": ds.pk, "title": ds.title, "owner": ds.owner.slug, "access": access.kind,
        "locationLevel": access.level, "isPublic": ds.is_public,
        **summary,
        "created": ds.created_at.isoformat(),
    }


@api()
def index(request: HttpRequest) -> dict[str, Any]:
    return {"name": "amurlink", "schema": "/api/openapi.json",
            "user": request.user.get_username() if request.user.is_authenticated else None}


@api()
def openapi(request: HttpRequest) -> dict[str, Any]:
    return openapi_schema()


@api(("GET", "POST"))
def datasets(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    if request.method == "POST":
        return _dataset_upload(request)
    rows = dataset_list(fetched_by=request.user)
    return {"results": [_dataset_json(ds, a) for ds, a in rows]}


def _dataset_upload(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        return JsonResponse({"error": "authentication required (session or token)"}, status=401)
    organisation, member = organisation_get_for_member(
        slug=request.GET.get("organisation", ""), user=request.user)
    if not role_at_least(member.role, "contributor"):
        raise PermissionDenied("uploading needs the contributor role")
    if "package" not in request.FILES:
        raise ApplicationError("send the zipped package as multipart field 'package'")
    received = upload_receive(uploaded_file=request.FILES["package"])
    upload = dataset_import(organisation=organisation, received=received, by=request.user,
                            title=request.POST.get("title") or None, request=request,
                            kind=request.POST.get("kind") or "camtrap-dp",
                            timezone=(request.POST.get("timezone") or "").strip()[:64])
    # a rejected upload is malformed input: HTTP 400 with its report, as the upload page
    status = {"imported": 201, "duplicate": 200, "rejected": 400}[upload.status]
    body = {"upload": upload.pk, "status": upload.status, "dataset": upload.dataset_id,
            "report": reverse("upload-detail", args=[upload.pk]), "issues": upload.issues}
    if upload.status == upload.Status.REJECTED:
        errors = [i for i in upload.issues if i.get("severity", "error") == "error"]
        first = (errors or upload.issues or [{}])[0].get("message", "")
        body["error"] = f"upload rejected: {len(errors)} error(s); the first: {first}"[:500]
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


@api()
def dataset_detail(request: HttpRequest, dataset_id: int) -> dict[str, Any]:
    ds, access = dataset_get(dataset_id=dataset_id, fetched_by=request.user)
    audit_record(request=request, action="read", target=f"dataset:{ds.pk}")
    return _dataset_json(ds, access)


def _records(selector: Callable[..., list[dict[str, Any]]], *, table: str, paged: bool):
    @api()
    def view(request: HttpRequest, dataset_id: int) -> dict[str, Any]:
        ds, access = dataset_get(dataset_id=dataset_id, fetched_by=request.user)
        audit_record(request=request, action="read", target=f"dataset:{ds.pk}:{table}")
        kwargs = {"limit": _limit(request)} if paged else {}
        return {"dataset": ds.pk, "access": access.kind, "locationLevel": access.level,
                "results": selector(dataset=ds, access=access, **kwargs)}

    view.__name__ = f"dataset_{table}"
    return view


dataset_deployments = _records(deployment_list, table="deployments", paged=False)
dataset_observations = _records(observation_list, table="observations", paged=True)
dataset_media = _records(media_list, table="media", paged=True)


@api(login=True)
def agreements(request: HttpRequest) -> dict[str, Any]:
    return {"results": [
        {"id": a.pk, "provider": a.provider.slug, "recipient": a.recipient.slug,
         "level": a.level, "species": a.species, "tables": a.tables,
         "embargoDate": a.embargo_date.isoformat() if a.embargo_date else None,
         "active": a.active}
        for a in agreement_list(fetched_by=request.user)]}


@api(login=True)
def identities(request: HttpRequest) -> dict[str, Any]:
    audit_record(request=request, action="read", target="joint-catalogue")
    return {"results": identity_list(fetched_by=request.user)}


@api(login=True)
def links(request: HttpRequest) -> dict[str, Any]:
    status = request.GET.get("status") or None
    if status not in (None, "proposed", "confirmed", "rejected"):
        raise ApplicationError("status must be proposed, confirmed or rejected")
    audit_record(request=request, action="read", target=f"links:{status or 'all'}")
    return {"results": link_list(fetched_by=request.user, status=status)}


@api(("POST",), login=True)
def link_review_endpoint(request: HttpRequest, link_event_id: str) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApplicationError("the body must be JSON: {\"decision\": ..., \"reason\": ...}") \
            from None
    if not isinstance(body, dict):
        raise ApplicationError("the body must be a JSON object")
    event = link_review(link_event_id=link_event_id, decision=str(body.get("decision", "")),
                        reason=body.get("reason"), by=request.user, request=request)
    return {"event": event}
