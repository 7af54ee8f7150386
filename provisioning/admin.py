"""provisioning's admin pages; each feature keeps its own module (imported here, as admin autodiscovery reads
this one only)."""

from .templates import admin as templates_admin  # noqa: F401  (the template import page)
