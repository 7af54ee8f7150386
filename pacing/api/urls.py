"""Routes under /api/v1/pacing/ (targets, stats)."""

urlpatterns: list = []
