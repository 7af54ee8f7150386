"""URLs: the admin, the REST API (/api/v1/), its schema and docs; /healthz, /readyz, /metrics and /favicon.ico
without login."""

from pathlib import Path

from django.contrib import admin
from django.http import HttpResponse, JsonResponse
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .metrics import metrics, readyz


def healthz(request):
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


FAVICON = Path(__file__).resolve().parent / "static" / "pacingsite" / "favicon.ico"


def favicon(request):
    """The icon browsers ask every page's site for (the admin's pages name none): 16 px, the admin's blue."""
    return HttpResponse(FAVICON.read_bytes(), content_type="image/x-icon",
                        headers={"Cache-Control": "public, max-age=86400"})


api_v1 = ([path("pacing/", include("pacing.api.urls")), path("", include("alarms.api.urls")),
           path("", include("provisioning.api.urls")), path("", include("configdb.api.urls"))], "api")

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # the split view serves its init script as a file of its own, so the CSP can forbid inline scripts
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("favicon.ico", favicon, name="favicon"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
]
