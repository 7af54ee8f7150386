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

from django.urls import path  # noqa: E402

from .interaction_server import LicenceCapacityView, OdbcBuilderView, ProxyErrorCodesView  # noqa: E402

# before the router's: "odbc-builder" would otherwise read as the id of a database access point
urlpatterns = [
    path("database-access-points/odbc-builder/", OdbcBuilderView.as_view(), name="dap-odbc-builder"),
    path("applications/<str:pk>/licence-capacity/", LicenceCapacityView.as_view(), name="application-licence"),
    path("interaction-server/error-codes/", ProxyErrorCodesView.as_view(), name="interaction-server-error-codes"),
    *router.urls,
]

from .import_jobs import ImportJobDetailView, ImportJobListView  # noqa: E402
from .transfer import ConfigExportView, ConfigImportView  # noqa: E402

urlpatterns += [
    path("config/export/", ConfigExportView.as_view(), name="config-export"),
    path("config/import/", ConfigImportView.as_view(), name="config-import"),
    path("config/import-jobs/", ImportJobListView.as_view(), name="config-import-jobs"),
    path("config/import-jobs/<str:pk>/", ImportJobDetailView.as_view(), name="config-import-job"),
]
