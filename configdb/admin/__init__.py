"""The GAX-grade admin of every configuration object (one module per GAX section)."""

from . import accounts, administration, environment, routing, switching  # noqa: F401  (registers the ModelAdmins)
