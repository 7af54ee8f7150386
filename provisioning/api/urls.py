"""Routes of the provisioning app under /api/v1/ (URL namespace "api")."""

from django.urls import path

from . import views
from .templates import TemplateImportView
from .wizard import DeployStatusView, DeployStepView, InteractionClusterStatusView, InteractionClusterStepView

urlpatterns = [
    path("doctor/", views.DoctorView.as_view(), name="doctor"),
    path("provisioning/provision/", views.ProvisionView.as_view(), name="provisioning-provision"),
    path("provisioning/environment/", views.EnvironmentView.as_view(), name="provisioning-environment"),
    path("provisioning/templates/import/", TemplateImportView.as_view(), name="provisioning-template-import"),
    path("provisioning/deploy/<str:cluster>/", DeployStatusView.as_view(), name="provisioning-deploy"),
    path("provisioning/deploy/<str:cluster>/<slug:step>/", DeployStepView.as_view(), name="provisioning-deploy-step"),
    path("provisioning/interaction-cluster/<str:cluster>/", InteractionClusterStatusView.as_view(),
         name="provisioning-interaction-cluster"),
    path("provisioning/interaction-cluster/<str:cluster>/<slug:step>/", InteractionClusterStepView.as_view(),
         name="provisioning-interaction-cluster-step"),
]
