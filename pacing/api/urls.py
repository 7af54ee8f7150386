"""Routes under /api/v1/pacing/ (URL namespace "api"): targets, stats push, nodes, cycles, what-if."""

from django.urls import path

from . import views

urlpatterns = [
    path("targets/", views.PacingTargetListView.as_view(), name="pacing-targets"),
    path("stats/", views.StatsPushView.as_view(), name="pacing-stats"),
    path("nodes/", views.PacingNodeListView.as_view(), name="pacing-nodes"),
    path("cycles/", views.PacingCycleListView.as_view(), name="pacing-cycles"),
    path("cycles/series/", views.PacingSeriesView.as_view(), name="pacing-series"),
    path("what-if/", views.WhatIfView.as_view(), name="pacing-what-if"),
]
