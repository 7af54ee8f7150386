"""Routes under /api/v1/provisioning/ (URL namespace "api")."""

from django.urls import path

from . import views

urlpatterns = [
    path("provision/", views.ProvisionView.as_view(), name="provisioning-provision"),
    path("environment/", views.EnvironmentView.as_view(), name="provisioning-environment"),
]
