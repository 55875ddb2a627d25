"""Dataset pages: thin views over selectors (read) and services (write)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from amurlink_web.apps.core.services import ApplicationError, audit_record
from amurlink_web.apps.datasets.forms import UploadForm
from amurlink_web.apps.datasets.selectors import (
    dataset_get,
    dataset_list,
    deployment_list,
    media_list,
    observation_list,
    upload_get,
    upload_list,
)
from amurlink_web.apps.datasets.services import (
    dataset_export,
    dataset_import,
    dataset_set_public,
    upload_receive,
)
from amurlink_web.apps.organisations.models import role_at_least
from amurlink_web.apps.organisations.selectors import organisation_get_for_member


def dataset_list_view(request: HttpRequest) -> HttpResponse:
    return render(request, "datasets/list.html", {
        "datasets": dataset_list(fetched_by=request.user),
        "uploads": upload_list(fetched_by=request.user, limit=10),
    })


def dataset_detail_view(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset, access = dataset_get(dataset_id=dataset_id, fetched_by=request.user)
    audit_record(request=request, action="read", target=f"dataset:{dataset.pk}",
                 detail={"access": access.kind})
    can_manage = access.kind == "owner" and role_at_least(access.membership.role, "manager")
    return render(request, "datasets/detail.html", {
        "dataset": dataset, "access": access, "can_manage": can_manage,
        "deployments": deployment_list(dataset=dataset, access=access),
        "observations": observation_list(dataset=dataset, access=access, limit=200),
        "media": media_list(dataset=dataset, access=access, limit=200),
    })


def dataset_download_view(request: HttpRequest, dataset_id: int) -> FileResponse:
    dataset, access = dataset_get(dataset_id=dataset_id, fetched_by=request.user)
    path = dataset_export(dataset=dataset, access=access, request=request)
    handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    path.unlink()  # the open handle keeps the data until the response is sent (POSIX)
    return FileResponse(handle, as_attachment=True,
                        filename=f"amurlink-dataset-{dataset.pk}-{access.kind}.zip")


@require_POST
def dataset_visibility_view(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset, access = dataset_get(dataset_id=dataset_id, fetched_by=request.user)
    if access.kind != "owner" or not role_at_least(access.membership.role, "manager"):
        raise PermissionDenied(_("Only managers of the owning organisation change this."))
    dataset_set_public(dataset=dataset, is_public=request.POST.get("is_public") == "1",
                       by=request.user, request=request)
    return redirect("dataset-detail", dataset_id=dataset.pk)


@login_required
def dataset_upload_view(request: HttpRequest, org_slug: str) -> HttpResponse:
    organisation, member = organisation_get_for_member(slug=org_slug, user=request.user)
    if not role_at_least(member.role, "contributor"):
        raise PermissionDenied(_("Uploading needs the contributor role."))
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            received = _received(form.cleaned_data)
        except ApplicationError as exc:
            form.add_error("package", exc.message)
            status = exc.status
        else:
            upload = dataset_import(organisation=organisation, received=received,
                                    by=request.user, title=form.cleaned_data["title"] or None,
                                    request=request, kind=form.cleaned_data["kind"],
                                    timezone=form.cleaned_data["timezone"].strip())
            if upload.status == upload.Status.REJECTED:  # the report, answered as a bad request
                return render(request, "datasets/upload_detail.html", {"upload": upload},
                              status=400)
            return redirect("upload-detail", upload_id=upload.pk)
    elif request.method == "POST":
        status = 400
    return render(request, "datasets/upload.html",
                  {"form": form, "organisation": organisation}, status=status)


@login_required
def upload_detail_view(request: HttpRequest, upload_id: int) -> HttpResponse:
    upload = upload_get(upload_id=upload_id, fetched_by=request.user)
    return render(request, "datasets/upload_detail.html", {"upload": upload})


def _received(cleaned: dict):
    """The upload as one file on disk: the single file, or several files zipped together."""
    files = list(cleaned.get("files") or [])
    if cleaned.get("package"):
        files.insert(0, cleaned["package"])
    if len(files) == 1:
        return upload_receive(uploaded_file=files[0])
    from amurlink_web.apps.datasets.services import upload_receive_many

    return upload_receive_many(uploaded_files=files)
