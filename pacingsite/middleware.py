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


#: The Content Security Policy of every page (OURS). Scripts only from this site (no inline script runs: the admin,
#: the browsable API and the Swagger UI load theirs from files); styles from this site and inline ``style``
#: attributes (the admin's templates and widgets use them); images and fonts from this site or ``data:`` URIs (the
#: Swagger UI's icons); no plugin, no framing by another site, forms posted only here.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
#: Browser features the console never uses, turned off for its pages and anything they might embed.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    """The headers Django's SecurityMiddleware does not set: Content-Security-Policy and Permissions-Policy
    (docs/threat-model.md). A response that sets its own keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
