"""The Configuration Server object model: models, admin, options, services."""
