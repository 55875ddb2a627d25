"""Review queue and page, individuals, the media browser and thumbnails.

Every view reads the joint package through :mod:`amurlink_web.apps.review.selectors` (the
reader's release) and writes one audit row per read, with the level served and the
agreements used; decisions go through :func:`amurlink_web.apps.identities.services.
link_review` (two-party rule, conflict checks, audit).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from amurlink.exceptions import AmurlinkError
from amurlink_web.apps.core.services import ApplicationError, audit_record
from amurlink_web.apps.identities.services import link_review
from amurlink_web.apps.review import media as media_service
from amurlink_web.apps.review import selectors as sel

_FILTERS = ("status", "species", "method", "min_score", "country")


def _queue_params(request: HttpRequest) -> dict[str, str]:
    src = request.POST if request.method == "POST" else request.GET
    return {k: src.get(k, "").strip() for k in _FILTERS if src.get(k, "").strip()}


def _queue(reader: sel.Reader, params: dict[str, str]) -> list[dict]:
    try:
        min_score = float(params["min_score"]) if params.get("min_score") else None
    except ValueError:
        min_score = None
    status = params.get("status", "")
    if status and status not in sel.QUEUE_STATUSES:
        status = ""
    return sel.review_queue(reader, status=status, species=params.get("species", ""),
                            method=params.get("method", ""), min_score=min_score,
                            country=params.get("country", ""))


def _read(request: HttpRequest, reader: sel.Reader, target: str, **detail) -> None:
    audit_record(request=request, action="read", target=target[:200],
                 detail={"access": reader.access.label, **detail}, **reader.audit_terms())


def _thumbs(request: HttpRequest, reader: sel.Reader, media_ids) -> dict[str, str]:
    """Thumbnail URLs of the photos a page shows (signed links for this session: see
    :func:`media.thumbnail_links`); the page's audit row names them."""
    return media_service.thumbnail_links(request, sel.package_dir(),
                                         sel.photo_paths(reader, media_ids))


def _with_urls(ids, urls: dict[str, str]) -> list[dict[str, str]]:
    return [{"id": m, "url": urls[str(m)]} for m in ids if str(m) in urls]


@login_required
def review_queue_view(request: HttpRequest) -> HttpResponse:
    reader = sel.reader_get(fetched_by=request.user)
    params = _queue_params(request)
    rows = _queue(reader, params)
    _read(request, reader, "links:review-queue", filters=params)
    return render(request, "review/queue.html", {
        "rows": rows, "params": params, "query": urlencode(params),
        "filters": sel.review_filters(reader), "side": reader.side,
        "status": params.get("status") or ("awaiting-me" if reader.side else "proposed")})


@login_required
def review_detail_view(request: HttpRequest, link_event_id: str) -> HttpResponse:
    reader = sel.reader_get(fetched_by=request.user)
    link = reader.link(link_event_id)
    params = _queue_params(request)
    queue = _queue(reader, params)
    ctx = sel.review_context(reader, link)
    nxt = sel.next_in_queue(queue, str(link["linkEventID"]))
    shown = [m for f in ctx["flanks"] for side in ("a", "b") for m in f[side][:3]]
    urls = _thumbs(request, reader, shown)
    for f in ctx["flanks"]:
        f["a"], f["b"] = _with_urls(f["a"][:3], urls), _with_urls(f["b"][:3], urls)
    _read(request, reader, f"link:{link_event_id}", page="review", thumbnails=list(urls))
    ctx.update({"params": params, "query": urlencode(params), "next_id": nxt,
                "position": next((i + 1 for i, r in enumerate(queue)
                                  if r["linkEventID"] == link["linkEventID"]), None),
                "queue_size": len(queue), "can_review": reader.side is not None})
    return render(request, "review/detail.html", ctx)


@login_required
@require_POST
def review_decide_view(request: HttpRequest, link_event_id: str) -> HttpResponse:
    """Record a decision for the reviewer's side, then open the next proposal of the queue."""
    params = _queue_params(request)
    query = f"?{urlencode(params)}" if params else ""
    decision = request.POST.get("decision", "")
    if decision == "skip":
        reader = sel.reader_get(fetched_by=request.user)
        nxt = sel.next_in_queue(_queue(reader, params), link_event_id)
        target = reverse("review-detail", args=[nxt]) if nxt else reverse("review-queue")
        return redirect(target + query)
    background = request.headers.get("X-Review-Background") == "1"
    try:
        row = link_review(link_event_id=link_event_id, decision=decision,
                          reason=request.POST.get("reason"), by=request.user, request=request)
    except ApplicationError as exc:
        message = _("Your decision on %(event)s was not recorded: %(why)s") % {
            "event": link_event_id, "why": exc.message}
        if background:  # the keyboard review has moved on: review.js shows a notice
            return JsonResponse({"ok": False, "message": message}, status=exc.status)
        messages.error(request, message)
        return redirect(reverse("review-detail", args=[link_event_id]) + query)
    if background:
        return JsonResponse({"ok": True, "pairStatus": row.get("pairStatus"),
                             "awaiting": row.get("awaiting")})
    messages.success(request, _("Decision recorded."))
    reader = sel.reader_get(fetched_by=request.user)
    queue = _queue(reader, params)
    nxt = sel.next_in_queue(queue, link_event_id)
    if nxt is None or nxt == link_event_id:
        return redirect(reverse("review-queue") + query)
    return redirect(reverse("review-detail", args=[nxt]) + query)


def _image(path, request: HttpRequest, *, max_age: int = 3600) -> HttpResponse:
    response = FileResponse(open(path, "rb"), content_type="image/jpeg")  # noqa: SIM115
    response["Cache-Control"] = f"private, max-age={max_age}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def review_match_view(request: HttpRequest, link_event_id: str, flank: str) -> HttpResponse:
    """The two photos of one flank side by side with the matched keypoints drawn."""
    reader = sel.reader_get(fetched_by=request.user)
    sel.require_media(reader)
    link = reader.link(link_event_id)
    pair, boxes = [], []
    for subject in (link["subjectA"], link["subjectB"]):
        rows = sel.photos_of_individuals(reader, [str(subject)])
        rows = rows[rows["flank"] == flank]
        src = box = None
        for fp, bb in zip(rows["filePath"], rows["bbox"], strict=True):
            src, box = media_service.photo_file(sel.package_dir(), str(fp)), bb
            if src is not None:
                break
        if src is None:
            raise Http404("no photo of this flank for both animals")
        pair.append(src)
        boxes.append(box)
    try:
        path, _n = media_service.match_picture(pair[0], pair[1], (boxes[0], boxes[1]))
    except (AmurlinkError, OSError, ValueError) as exc:
        raise Http404("the photos could not be read") from exc
    _read(request, reader, f"link:{link_event_id}:match:{flank}", media=True)
    return _image(path, request)


def media_thumbnail_view(request: HttpRequest, media_id: str) -> HttpResponse:
    """A server-made thumbnail (EXIF and every other metadata removed).

    A link signed by the page that listed the photo for this session (``?t=``, valid
    :data:`media.THUMB_LINK_S` seconds) is served straight from the thumbnail made at import,
    without a database query: that page checked the reader and its audit row names the
    photo. Any other request (no link, expired, another session, thumbnail not made yet)
    checks the reader here and writes its own audit row.
    """
    path = media_service.thumbnail_link_file(request, media_id)
    if path is not None:
        return _image(path, request, max_age=media_service.THUMB_LINK_S)
    return _thumbnail_checked(request, media_id)


@login_required
def _thumbnail_checked(request: HttpRequest, media_id: str) -> HttpResponse:
    reader = sel.reader_get(fetched_by=request.user)
    row = sel.photo_get(reader, media_id)  # 403 without media in the agreement, 404 else
    src = media_service.photo_file(sel.package_dir(), str(row["filePath"]))
    if src is None:
        raise Http404("the photo file is missing")
    try:
        path = media_service.thumbnail_make(src)
    except (AmurlinkError, OSError, ValueError) as exc:
        raise Http404("the photo could not be read") from exc
    _read(request, reader, f"media:{media_id}", media=True)
    return _image(path, request)


_FIGURE = ('<figure><img class="thumb" src="{}" alt="{}" loading="lazy"><figcaption>{} · {}'
           '<br>{} {}</figcaption></figure>')


@login_required
def media_browser_view(request: HttpRequest) -> HttpResponse:
    reader = sel.reader_get(fetched_by=request.user)
    sel.require_media(reader)
    g = request.GET
    filters = {k: g.get(k, "").strip()[:100] for k in
               ("station", "species", "individual", "date_from", "date_to")}
    page = sel.media_page(reader, after=g.get("after", "")[:200], **filters)
    urls = _thumbs(request, reader, [m["mediaID"] for m in page.rows])
    _read(request, reader, "media:browser", filters=filters, thumbnails=list(urls))
    active = {k: v for k, v in filters.items() if v}
    # the 100 figures joined here (escaped by format_html), not by 100 template loop turns
    gallery = format_html_join("", _FIGURE, (
        (urls.get(str(m["mediaID"])) or reverse("media-thumbnail", args=[m["mediaID"]]),
         m["mediaID"],
         m.get("deploymentID") or "", str(m.get("timestamp") or "")[:10],
         m.get("scientificName") or "", m.get("individualID") or "") for m in page.rows))
    return render(request, "review/media.html", {
        "page": page, "gallery": gallery, "filters": filters,
        "choices": sel.media_filters(reader),
        "next_query": urlencode({**active, "after": page.next_cursor})
        if page.next_cursor else None, "first_query": urlencode(active)})


@login_required
def individual_list_view(request: HttpRequest) -> HttpResponse:
    reader = sel.reader_get(fetched_by=request.user)
    species = request.GET.get("species", "").strip()[:100]
    q = request.GET.get("q", "").strip()[:100]
    rows = sel.individual_list(reader, species=species, q=q)
    _read(request, reader, "joint-catalogue:individuals")
    all_species = sorted({r["species"] for r in sel.individual_list(reader)})
    return render(request, "review/individuals.html", {
        "rows": rows, "species": species, "q": q, "all_species": all_species})


@login_required
def individual_detail_view(request: HttpRequest, joint_id: str) -> HttpResponse:
    reader = sel.reader_get(fetched_by=request.user)
    ctx = sel.individual_context(reader, joint_id)
    urls = _thumbs(request, reader, [m for f in ctx["photos"] for m in f["media"]])
    for f in ctx["photos"]:
        f["media"] = _with_urls(f["media"], urls)
    _read(request, reader, f"joint-catalogue:individual:{joint_id}", thumbnails=list(urls))
    return render(request, "review/individual.html", ctx)
