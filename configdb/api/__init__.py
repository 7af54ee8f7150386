"""The REST API of the configuration objects (/api/v1/)."""
