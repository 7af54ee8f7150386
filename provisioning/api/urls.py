"""Routes of the provisioning API, under /api/v1/ (pacingsite/urls.py includes them)."""

from django.urls import path

from .templates import TemplateImportView

urlpatterns = [
    path("provisioning/templates/import/", TemplateImportView.as_view(), name="provisioning-template-import"),
]
