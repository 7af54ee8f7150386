"""Routes of the configuration objects under /api/v1/."""

from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
ROUTES = [
    ("tenants", views.TenantViewSet, "tenant"),
    ("folders", views.FolderViewSet, "folder"),
    ("hosts", views.HostViewSet, "host"),
    ("application-templates", views.ApplicationTemplateViewSet, "applicationtemplate"),
    ("applications", views.ApplicationViewSet, "application"),
    ("ports", views.PortViewSet, "port"),
    ("connections", views.ConnectionViewSet, "connection"),
    ("database-access-points", views.DatabaseAccessPointViewSet, "databaseaccesspoint"),
    ("switches", views.SwitchViewSet, "switch"),
    ("dns", views.DNViewSet, "dn"),
    ("virtual-queues", views.VirtualQueueViewSet, "virtualqueue"),
    ("media-types", views.MediaTypeViewSet, "mediatype"),
    ("skills", views.SkillViewSet, "skill"),
    ("persons", views.PersonViewSet, "person"),
    ("skill-levels", views.SkillLevelViewSet, "skilllevel"),
    ("agent-groups", views.AgentGroupViewSet, "agentgroup"),
    ("alarm-conditions", views.AlarmConditionViewSet, "alarmcondition"),
    ("transactions", views.TransactionViewSet, "transaction"),
    ("changes", views.ObjectChangeViewSet, "objectchange"),
]
for prefix, viewset, basename in ROUTES:
    router.register(prefix, viewset, basename=basename)

urlpatterns = router.urls

from django.urls import path  # noqa: E402

from .import_jobs import ImportJobDetailView, ImportJobListView  # noqa: E402
from .transfer import ConfigExportView, ConfigImportView  # noqa: E402

urlpatterns += [
    path("config/export/", ConfigExportView.as_view(), name="config-export"),
    path("config/import/", ConfigImportView.as_view(), name="config-import"),
    path("config/import-jobs/", ImportJobListView.as_view(), name="config-import-jobs"),
    path("config/import-jobs/<str:pk>/", ImportJobDetailView.as_view(), name="config-import-job"),
]
