"""Analysis jobs (start, list, progress, results) and the offline map pages."""

from __future__ import annotations

import io
import mimetypes
import re
import threading
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from amurlink_web.apps.core.services import ApplicationError, audit_record
from amurlink_web.apps.datasets.selectors import dataset_get, dataset_records
from amurlink_web.apps.jobs.maps import border_lonlat, map_features, render_svg
from amurlink_web.apps.jobs.models import Job
from amurlink_web.apps.jobs.queue import jobs_need_a_worker, workers_alive
from amurlink_web.apps.jobs.selectors import (
    REPORT_LANGUAGES,
    job_get,
    job_list,
    job_result_dir,
    joint_inputs,
    joint_reader,
    joint_records,
)
from amurlink_web.apps.jobs.services import job_create
from amurlink_web.apps.organisations.models import role_at_least
from amurlink_web.apps.organisations.selectors import (
    organisation_get_for_member,
    working_group_membership_list,
)


def access_text(label: str) -> str:
    """``owner (1km)`` in the reader's language (the kind and the level translated)."""
    m = re.fullmatch(r"(\w+)(?: \(([^)]*)\))?", label or "")
    if not m:
        return label
    kind, level = m.group(1), m.group(2)
    return _(kind) if not level else f"{_(kind)} ({_(level)})"


@login_required
def job_list_view(request: HttpRequest) -> HttpResponse:
    starters = [m for m in working_group_membership_list(user=request.user)
                if role_at_least(m.role, "reviewer")]
    return render(request, "jobs/list.html", {
        "jobs": job_list(fetched_by=request.user), "starters": starters,
        "kinds": Job.Kind.choices, "languages": REPORT_LANGUAGES,
        "current_language": get_language(),
        "running": any(not j.finished for j in job_list(fetched_by=request.user, limit=20)),
        "no_worker": jobs_need_a_worker(), "workers": workers_alive(),
    })


@login_required
@require_POST
def job_start_view(request: HttpRequest, org_slug: str) -> HttpResponse:
    organisation, member = organisation_get_for_member(slug=org_slug, user=request.user)
    if not organisation.in_working_group:
        raise Http404("no joint analyses for this organisation")
    if not role_at_least(member.role, "reviewer"):
        raise PermissionDenied(_("Running analyses needs the reviewer role."))
    try:
        job = job_create(kind=request.POST.get("kind", ""), organisation=organisation,
                         by=request.user, params={"lang": request.POST.get("lang", "en")},
                         request=request)
    except ApplicationError as exc:
        return render(request, "400.html", {"message": exc.message}, status=exc.status)
    return redirect("job-detail", job_id=job.pk)


@login_required
def job_detail_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_get(job_id=job_id, fetched_by=request.user)
    files = []
    folder = job_result_dir(job)
    if folder is not None and folder.is_dir():
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    return render(request, "jobs/detail.html", {
        "job": job, "files": files, "audience_text": access_text(job.audience),
        "no_worker": not job.finished and jobs_need_a_worker()})


@login_required
def job_status_view(request: HttpRequest, job_id: int) -> JsonResponse:
    job = job_get(job_id=job_id, fetched_by=request.user)
    return JsonResponse({"id": job.pk, "kind": job.kind, "status": job.status,
                         "statusLabel": job.get_status_display(), "finished": job.finished,
                         "progress": job.progress, "message": _(job.message) if job.message else "",
                         "workerAlive": not jobs_need_a_worker()})


def _result_file(job: Job, name: str) -> Path:
    folder = job_result_dir(job)
    if folder is None or job.status != Job.Status.DONE:
        raise Http404("no results yet")
    path = (folder / name).resolve()
    if folder.resolve() not in path.parents or not path.is_file():
        raise Http404("no such file")
    return path


@login_required
def job_file_view(request: HttpRequest, job_id: int, name: str) -> FileResponse:
    """One result file (``report.html`` opens in the browser, the rest download)."""
    job = job_get(job_id=job_id, fetched_by=request.user)
    path = _result_file(job, name)
    audit_record(request=request, action="export", target=f"job:{job.pk}",
                 detail={"file": name})
    inline = path.suffix == ".html"
    ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if ctype.startswith("text/") or path.suffix in (".json", ".csv"):
        ctype += "; charset=utf-8"
    return FileResponse(open(path, "rb"), as_attachment=not inline,  # noqa: SIM115
                        filename=path.name, content_type=ctype)


@login_required
def job_download_view(request: HttpRequest, job_id: int) -> HttpResponse:
    """Every result file of a job in one zip."""
    job = job_get(job_id=job_id, fetched_by=request.user)
    folder = job_result_dir(job)
    if folder is None or job.status != Job.Status.DONE or not folder.is_dir():
        raise Http404("no results yet")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(folder).as_posix())
    audit_record(request=request, action="export", target=f"job:{job.pk}",
                 detail={"file": "*.zip"})
    response = HttpResponse(buf.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = \
        f'attachment; filename="amurlink-{job.kind}-{job.pk}.zip"'
    return response


#: Drawn maps by (protected data, study inputs): both come from the selectors' caches, which
#: hand out the same objects until a package, an agreement or the border changes, so a map is
#: drawn once per reader view, not on every page load. Entries keep those objects alive, so
#: their ids cannot be reused while cached.
_MAPS: OrderedDict[tuple[int, int, bool], tuple[Any, Any, tuple[dict[str, Any], str, bool]]] = \
    OrderedDict()
_MAPS_SIZE = 64
_MAPS_LOCK = threading.Lock()


def _drawn_map(data: Any, inputs: Any, *, joint: bool) -> tuple[dict[str, Any], str, bool]:
    """``(features, svg, has_border)`` of protected ``data``, cached (see ``_MAPS``)."""
    key = (id(data), id(inputs), joint)
    with _MAPS_LOCK:
        hit = _MAPS.get(key)
        if hit is not None and hit[0] is data and hit[1] is inputs:
            _MAPS.move_to_end(key)
            return hit[2]
    links = None
    if joint and "identityLinks" in data:
        from amurlink.identify.links import current_links
        from amurlink_web.apps.identities.selectors import two_party

        # tracks follow links confirmed under the study's [links] two_party rule
        links = current_links(data["identityLinks"], status="confirmed", two_party=two_party(),
                              individuals=data.get("individuals"))
    border = border_lonlat(inputs.border) if inputs is not None else []
    features = map_features(data, confirmed_links=links)
    value = (features, render_svg(features, border=border), bool(border))
    with _MAPS_LOCK:
        _MAPS[key] = (data, inputs, value)
        while len(_MAPS) > _MAPS_SIZE:
            _MAPS.popitem(last=False)
    return value


def _map_page(request, *, title, drawn, access_label, data_url="", joint=False):
    features, svg, has_border = drawn
    return render(request, "jobs/map.html", {
        "title": title, "svg": svg, "features": features, "access_label": access_label,
        "has_border": has_border, "data_url": data_url, "joint": joint})


def _confirmed_links(data: Any) -> Any:
    if "identityLinks" not in data:
        return None
    from amurlink.identify.links import current_links
    from amurlink_web.apps.identities.selectors import two_party

    return current_links(data["identityLinks"], status="confirmed", two_party=two_party(),
                         individuals=data.get("individuals"))


#: The interactive map's stations, detections and tracks by (protected data, study inputs,
#: level, filters), cached like ``_MAPS``: the same objects come back from the selectors until
#: a package, an agreement, the link log or the border changes. Layers and corridor overlays
#: are added on each request (they follow their own files).
_MAP_DATA: OrderedDict[tuple[Any, ...], tuple[Any, Any, dict[str, Any]]] = OrderedDict()


def _map_json(request: HttpRequest, data: Any, inputs: Any, *, joint: bool,
              level: str, corridors: bool = False) -> JsonResponse:
    from amurlink_web.apps.jobs.mapdata import map_core, map_extras

    species = request.GET.get("species", "")[:200]
    year = request.GET.get("year", "")[:4]
    key = (id(data), id(inputs), joint, level, species, year)
    with _MAPS_LOCK:
        hit = _MAP_DATA.get(key)
        if hit is not None and hit[0] is data and hit[1] is inputs:
            _MAP_DATA.move_to_end(key)
            core = hit[2]
        else:
            core = None
    if core is None:
        core = map_core(data, inputs=inputs, level=level, species=species, year=year,
                        confirmed_links=_confirmed_links(data) if joint else None)
        with _MAPS_LOCK:
            _MAP_DATA[key] = (data, inputs, core)
            while len(_MAP_DATA) > _MAPS_SIZE:
                _MAP_DATA.popitem(last=False)
    payload = {**core, **map_extras(inputs, level=level, corridors=corridors)}
    return JsonResponse(payload, json_dumps_params={"ensure_ascii": False})


@login_required
def joint_map_data_view(request: HttpRequest) -> JsonResponse:
    """The interactive joint map's data, from the same release as the joint map page."""
    member, access = joint_reader(fetched_by=request.user)
    data = joint_records(access=access)
    audit_record(request=request, action="read", target="map:joint",
                 detail={"access": access.label, "format": "json"})
    return _map_json(request, data, joint_inputs(), joint=True, level=access.label,
                     corridors=True)


def dataset_map_data_view(request: HttpRequest, dataset_id: int) -> JsonResponse:
    """One dataset's interactive map data, protected for the reader (as its map page)."""
    dataset, access = dataset_get(dataset_id=dataset_id, fetched_by=request.user)
    data = dataset_records(dataset=dataset, access=access)
    try:
        inputs = joint_inputs()
    except Http404:
        inputs = None
    audit_record(request=request, action="read", target=f"map:dataset:{dataset.pk}",
                 detail={"access": access.kind, "format": "json"})
    return _map_json(request, data, inputs, joint=False, level=access.level)


@login_required
def joint_map_view(request: HttpRequest) -> HttpResponse:
    """The joint map (both parks) as the reader's organisation may see it."""
    member, access = joint_reader(fetched_by=request.user)
    data = joint_records(access=access)
    inputs = joint_inputs()
    audit_record(request=request, action="read", target="map:joint",
                 detail={"access": access.label})
    return _map_page(request, title=_("Joint map"), drawn=_drawn_map(data, inputs, joint=True),
                     access_label=access_text(access.label),
                     data_url=reverse("joint-map-data"), joint=True)


def dataset_map_view(request: HttpRequest, dataset_id: int) -> HttpResponse:
    """One dataset's stations and detections, protected for the reader."""
    dataset, access = dataset_get(dataset_id=dataset_id, fetched_by=request.user)
    data = dataset_records(dataset=dataset, access=access)
    try:
        inputs = joint_inputs()
    except Http404:
        inputs = None  # no joint package (and so no study border) yet
    audit_record(request=request, action="read", target=f"map:dataset:{dataset.pk}",
                 detail={"access": access.kind})
    label = access_text(access.kind if access.level == "exact"
                        else f"{access.kind} ({access.level})")
    return _map_page(request, title=dataset.title, drawn=_drawn_map(data, inputs, joint=False),
                     access_label=label,
                     data_url=reverse("dataset-map-data", args=[dataset.pk]))
