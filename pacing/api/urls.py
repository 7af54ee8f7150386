"""Routes under /api/v1/pacing/ (URL namespace "api"): the discovered targets and the stats push."""

from django.urls import path

from . import views

urlpatterns = [
    path("targets/", views.PacingTargetListView.as_view(), name="pacing-targets"),
    path("stats/", views.StatsPushView.as_view(), name="pacing-stats"),
]
