"""The pacing service: target discovery, the stats store, the numpy engine and its queueing maths, and the
simulators (contact centre, GPE). The cycle that ties them together (Celery beat, leader lease, GPE client) is
not built yet."""
