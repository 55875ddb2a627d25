"""URLs of the amurlink web platform."""

from django.contrib.auth import views as auth_views
from django.contrib.staticfiles.views import serve as serve_static
from django.urls import path, re_path

from amurlink_web.apps.api import views as api
from amurlink_web.apps.core import views as core
from amurlink_web.apps.datasets import views as datasets
from amurlink_web.apps.identities import views as identities
from amurlink_web.apps.incidents import views as incidents
from amurlink_web.apps.jobs import themes
from amurlink_web.apps.jobs import views as jobs
from amurlink_web.apps.review import views as review
from amurlink_web.apps.sharing import views as sharing

urlpatterns = [
    path("", core.home, name="home"),
    path("public/", core.public, name="public"),
    path("accounts/login/", core.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", core.account, name="account"),
    path("account/password/", core.PasswordChangeView.as_view(), name="password-change"),
    path("audit/", core.audit, name="audit"),
    path("i18n/setlang/", core.set_language, name="set_language"),
    # datasets
    path("datasets/", datasets.dataset_list_view, name="dataset-list"),
    path("datasets/<int:dataset_id>/", datasets.dataset_detail_view, name="dataset-detail"),
    path("datasets/<int:dataset_id>/download/", datasets.dataset_download_view,
         name="dataset-download"),
    path("datasets/<int:dataset_id>/visibility/", datasets.dataset_visibility_view,
         name="dataset-visibility"),
    path("orgs/<slug:org_slug>/upload/", datasets.dataset_upload_view, name="dataset-upload"),
    path("uploads/<int:upload_id>/", datasets.upload_detail_view, name="upload-detail"),
    # sharing
    path("sharing/", sharing.agreement_list_view, name="agreement-list"),
    path("sharing/<int:agreement_id>/", sharing.agreement_detail_view, name="agreement-detail"),
    path("orgs/<slug:org_slug>/sharing/new/", sharing.agreement_create_view,
         name="agreement-create"),
    # identities
    path("identities/", identities.catalogue_view, name="catalogue"),
    path("identities/links/", identities.link_list_view, name="link-list"),
    path("identities/links/<str:link_event_id>/", identities.link_detail_view,
         name="link-detail"),
    path("identities/links/<str:link_event_id>/review/", identities.link_review_view,
         name="link-review"),
    path("identities/history/<str:subject>/", identities.history_view, name="history"),
    # analyses and maps
    path("jobs/", jobs.job_list_view, name="job-list"),
    path("orgs/<slug:org_slug>/jobs/new/", jobs.job_start_view, name="job-start"),
    path("jobs/<int:job_id>/", jobs.job_detail_view, name="job-detail"),
    path("jobs/<int:job_id>/status/", jobs.job_status_view, name="job-status"),
    path("jobs/<int:job_id>/download/", jobs.job_download_view, name="job-download"),
    path("jobs/<int:job_id>/files/<path:name>", jobs.job_file_view, name="job-file"),
    path("map/", jobs.joint_map_view, name="joint-map"),
    path("datasets/<int:dataset_id>/map/", jobs.dataset_map_view, name="dataset-map"),
    path("map/data.json", jobs.joint_map_data_view, name="joint-map-data"),
    path("datasets/<int:dataset_id>/map/data.json", jobs.dataset_map_data_view,
         name="dataset-map-data"),
    path("map/corridors/<slug:layer>.png", themes.corridor_png_view,
         name="joint-map-corridors"),
    path("design/", themes.design_view, name="design"),
    path("design/data.json", themes.design_data_view, name="design-data"),
    # a park's incident and disease books (apps/incidents)
    path("orgs/<slug:org_slug>/incidents/", incidents.incident_list_view, name="incident-list"),
    path("orgs/<slug:org_slug>/incidents/new/", incidents.incident_create_view,
         name="incident-create"),
    path("orgs/<slug:org_slug>/disease-tests/new/", incidents.disease_test_create_view,
         name="disease-test-create"),
    # review with the evidence, individuals, photos (apps/review)
    path("review/", review.review_queue_view, name="review-queue"),
    path("review/<str:link_event_id>/", review.review_detail_view, name="review-detail"),
    path("review/<str:link_event_id>/decide/", review.review_decide_view,
         name="review-decide"),
    path("review/<str:link_event_id>/match/<slug:flank>/", review.review_match_view,
         name="review-match"),
    path("individuals/", review.individual_list_view, name="individual-list"),
    path("individuals/<str:joint_id>/", review.individual_detail_view,
         name="individual-detail"),
    path("media/", review.media_browser_view, name="media-browser"),
    path("media/<str:media_id>/thumb.jpg", review.media_thumbnail_view,
         name="media-thumbnail"),
    # the app's own scripts and styles (no CDN), served with or without DEBUG
    re_path(r"^static/(?P<path>.+)$", serve_static, {"insecure": True}, name="static"),
    # API
    path("api/", api.index, name="api-index"),
    path("api/openapi.json", api.openapi, name="api-openapi"),
    path("api/datasets/", api.datasets, name="api-datasets"),
    path("api/datasets/<int:dataset_id>/", api.dataset_detail, name="api-dataset"),
    path("api/datasets/<int:dataset_id>/deployments/", api.dataset_deployments,
         name="api-deployments"),
    path("api/datasets/<int:dataset_id>/observations/", api.dataset_observations,
         name="api-observations"),
    path("api/datasets/<int:dataset_id>/media/", api.dataset_media, name="api-media"),
    path("api/agreements/", api.agreements, name="api-agreements"),
    path("api/identities/", api.identities, name="api-identities"),
    path("api/links/", api.links, name="api-links"),
    path("api/links/<str:link_event_id>/review/", api.link_review_endpoint,
         name="api-link-review"),
]

#: 403 and 404 use Django's views with templates/403.html and 404.html (rendered with the
#: request: language, menu, user); 500 needs its own view for the same.
handler500 = "amurlink_web.apps.core.views.server_error"
