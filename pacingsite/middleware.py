"""Request middleware of the site."""

from configdb.history import acting_as


class ActorMiddleware:
    """Changes made while serving a request are recorded as the request's user's (resolved when the
    change is recorded, so users authenticated later by the API's token authentication count)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        via = "admin" if path.startswith("/admin/") else "api" if path.startswith("/api/") else "web"
        with acting_as("anonymous", via, request=request):
            return self.get_response(request)
