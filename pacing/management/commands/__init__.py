"""``manage.py`` commands of the pacing app (gpe_simulator, ...)."""
