"""API plumbing every app's API shares: strict JSON, pagination, strict filters, error shapes."""

from __future__ import annotations

import orjson
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import exceptions, filters, pagination, parsers, renderers, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from .. import services

#: query parameters that are not filters
RESERVED_PARAMS = {"limit", "offset", "ordering", "format", "q", "brief"}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


#: no configuration document nests deeper than this (export files: about 6)
MAX_JSON_DEPTH = 32


def json_depth(value, limit: int) -> int:
    """Nesting depth of parsed JSON, iteratively (no recursion), stopping past ``limit``."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


class StrictJSONParser(parsers.BaseParser):
    """JSON through orjson: fast, and a bounded nesting depth (deep JSON is a 400, never a crash)."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = settings.PACING_API_MAX_BODY
        length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if length > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit // (1024 * 1024)} MiB.")
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit // (1024 * 1024)} MiB.")
        if not data:
            raise exceptions.ParseError("The request body is empty; expected JSON.")
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise exceptions.ParseError(f"Malformed JSON: {exc}") from None
        if json_depth(parsed, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
            raise exceptions.ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
        return parsed


class OrjsonRenderer(renderers.BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        option = orjson.OPT_NON_STR_KEYS
        if (renderer_context or {}).get("indent"):  # the browsable API asks for readable JSON
            option |= orjson.OPT_INDENT_2
        return orjson.dumps(data, option=option, default=str)


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API for an administrator's browser (``Accept: text/html``; JSON stays the default).

    Without DRF's generated HTML forms and filter form, as NetBox does: they would render every related object
    as a ``<select>`` (every DN of every switch) and the options tables as text. The page shows the JSON the
    API answers (the same serializers: write-only secrets are never in it), the links to click through and
    the allowed methods; the raw-content form (JSON, blank) stays for a request typed by hand. Writes take
    the same permission checks and the services like every other request."""

    def get_rendered_html_form(self, data, view, method, request):
        return None

    def get_filter_form(self, data, view, request):
        return None


class OrderedLimitOffsetPagination(pagination.LimitOffsetPagination):
    """?limit=&offset= (default 100, at most 1000); refuses an unordered queryset, whose pages would
    overlap and skip rows from one request to the next."""

    default_limit = 100
    max_limit = 1000

    def paginate_queryset(self, queryset, request, view=None):
        if hasattr(queryset, "ordered") and not queryset.ordered:
            raise TypeError(f"Refusing to paginate an unordered queryset of {queryset.model.__name__}.")
        for name in (self.limit_query_param, self.offset_query_param):
            raw = request.query_params.get(name)
            if raw is not None and (not raw.isdigit() or len(raw) > 9):
                raise exceptions.ValidationError({name: "Must be a whole number from 0."})
        return super().paginate_queryset(queryset, request, view)


class StrictFilterBackend:
    """Answers 400 to an unknown query parameter instead of silently returning everything."""

    def get_schema_operation_parameters(self, view):
        return []

    def filter_queryset(self, request, queryset, view):
        filterset_class = getattr(view, "filterset_class", None)
        known = set(RESERVED_PARAMS)
        if filterset_class is not None:
            known |= set(filterset_class.base_filters)
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise exceptions.ValidationError(dict.fromkeys(unknown, "Unknown filter parameter."))
        return queryset


class OrderingFilter(filters.OrderingFilter):
    """?ordering=name,-id; an unknown field is a 400, not ignored."""

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw:
            fields = [f.strip() for f in raw.split(",") if f.strip()]
            valid = {name for name, _ in self.get_valid_fields(queryset, view, {"request": request})}
            bad = [f for f in fields if f.lstrip("-") not in valid]
            if bad:
                raise exceptions.ValidationError({self.ordering_param: f"Cannot order by {', '.join(bad)}; "
                                                  f"choose from {', '.join(sorted(valid))}."})
            return [*fields, "pk"]
        # The default ordering gets the primary key as a last tie-breaker too: names are unique only
        # per tenant or switch, and PostgreSQL returns ties in any order, so pages would overlap.
        default = self.get_default_ordering(view) or queryset.query.order_by or queryset.model._meta.ordering
        return [*default, "pk"]


def django_errors(exc: DjangoValidationError) -> dict | list:
    return as_serializer_error(exc)


def stale_response(exc, request) -> Response:
    """412: the object changed since the client read it; where to see what changed (the history's diff)."""
    changes = f"/api/v1/changes/?object_type={exc.object_type}&object_id={exc.obj.pk}"
    if request is not None:
        changes = request.build_absolute_uri(changes)
    return Response({"detail": exc.message, "changes": changes}, status=status.HTTP_412_PRECONDITION_FAILED,
                    headers={"ETag": f'"{services.version_of(exc.obj)}"'})


def login_redirect(request):
    """The admin's login page, coming back here: for a browser (the browsable API) without a session."""
    from django.contrib.auth.views import redirect_to_login
    from django.urls import reverse

    return redirect_to_login(request.get_full_path(), reverse("admin:login"))


def exception_handler(exc, context):
    """DRF's handler, plus: Django ValidationError → 400 with field errors; a protected delete → 409; a stale
    version (If-Match) → 412; an object deleted meanwhile → 404; a browser (the browsable API) that is not
    signed in → the admin's login page (a script still gets 401)."""
    request = context.get("request")
    if isinstance(exc, exceptions.NotAuthenticated) and isinstance(
            getattr(request, "accepted_renderer", None), renderers.BrowsableAPIRenderer):
        return login_redirect(request)
    if isinstance(exc, services.StaleObject):
        return stale_response(exc, context.get("request"))
    if isinstance(exc, services.ObjectGone):
        exc = exceptions.NotFound(str(exc))
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(django_errors(exc))
    if isinstance(exc, ProtectedError | RestrictedError):
        used_by = sorted({str(o) for o in list(exc.protected_objects if isinstance(exc, ProtectedError)
                                               else exc.restricted_objects)[:10]})
        return Response({"detail": "Cannot delete: other objects use this one.", "used_by": used_by},
                        status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
