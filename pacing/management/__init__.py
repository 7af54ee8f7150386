"""Management commands of the pacing service."""
