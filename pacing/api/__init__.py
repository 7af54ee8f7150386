"""The pacing service's REST API (/api/v1/pacing/)."""
