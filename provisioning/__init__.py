"""Template import, the provisioning service and CLI, deployment wizards, the config doctor."""
