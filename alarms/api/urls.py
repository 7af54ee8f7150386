"""Routes under /api/v1/alarms/ (URL namespace "api")."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("alarms", views.AlarmViewSet, basename="alarm")
urlpatterns = router.urls
