"""URLs: the admin, the REST API (/api/v1/), its schema and docs; /healthz, /readyz and /metrics without login."""

from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .metrics import metrics, readyz


def healthz(request):
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


api_v1 = ([path("pacing/", include("pacing.api.urls")), path("", include("alarms.api.urls")),
           path("", include("configdb.api.urls"))], "api")

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
]
