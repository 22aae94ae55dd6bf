"""The one registry of Graph endpoints: URLs, authorization, and the OpenAPI document all come from it.

Adding an endpoint is one decorated function (see ``views/users.py``)::

    @endpoint("GET", "/users/{user-id}/authentication/fido2Methods", operation="methods.read",
              summary="List a user's passkeys", tag="authentication", responses={200: "fido2Method.collection"})
    def fido2_methods_list(call: Call, user_id: str) -> Response:
        ...

``operation`` names a rule in ``passgate.core.graph.authz.OPERATIONS``; the view checks it (and audits a refusal)
before the function runs, after authentication. Path parameters arrive as snake_case keyword arguments
(``{user-id}`` -> ``user_id``, see ``kwarg_name``).
Schemas named in ``request``/``responses`` come from ``register_resource`` / ``register_schema``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote, urlencode, urlsplit

from django.conf import settings
from django.urls import URLPattern, path, re_path
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from passgate.audit.context import request_context
from passgate.audit.models import Category
from passgate.audit.services import audit_failure
from passgate.core.errors import PassgateError
from passgate.core.graph import authz
from passgate.core.graph.errors import GraphCode, GraphError
from passgate.core.graph.ids import PATH_PARAMETERS, check_path_parameter
from passgate.core.graph.odata import Query, QuerySpec, encode_skiptoken, parse_query
from passgate.core.graph.schema import Resource, require_properties
from passgate.core.text import CHECKS_OWN_TEXT, UnusableText, check_pairs
from passgate.graph_api.authentication import BearerAuthentication, GraphSessionAuthentication, Principal
from passgate.graph_api.errors import add_request_id_headers, graph_exception_handler
from passgate.graph_api.parsers import StrictJSONParser

VERSIONS = ("v1.0", "beta")
DEFAULT_PAGE_SIZE = 100
MAX_BODY_BYTES = 64 * 1024
Handler = Callable[..., Response]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # OpenAPI style, relative to /v1.0 or /beta: "/users/{user-id}"
    operation: str | None  # a rule of authz.OPERATIONS
    operation_id: str
    summary: str
    tag: str
    handler: Handler
    request: str | None  # schema name
    responses: Mapping[int, str | None]  # status -> schema name (None: no body)
    query: tuple[str, ...]  # documented query options: "$select", "$filter", "$top", "$skiptoken"
    description: str
    params: Mapping[str, dict[str, Any]]  # JSON schemas of path parameters (default: any string)
    body_required: bool  # False: the request body may be left out (Graph's optional bodies, e.g. addPassword)
    # operation None: True for any caller with a token or a session (/organization), False for /me (session only)
    any_caller: bool = False

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(re.findall(r"\{([^}]+)\}", self.path))


ENDPOINTS: list[Endpoint] = []
SCHEMAS: dict[str, dict[str, Any]] = {}


def endpoint(method: str, route: str, *, operation: str | None, summary: str, tag: str,
             responses: Mapping[int, str | None], request: str | None = None, query: tuple[str, ...] = (),
             description: str = "", operation_id: str | None = None, params: Mapping[str, dict[str, Any]] | None = None,
             body_required: bool = True, any_caller: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if operation is not None and operation not in authz.OPERATIONS:
            raise KeyError(f"{method} {route}: unknown authorization operation {operation!r}")
        for param in re.findall(r"\{([^}]+)\}", route):
            if param not in PATH_PARAMETERS:
                raise KeyError(f"{method} {route}: say what a well-formed {{{param}}} is in core.graph.ids")
        if any_caller and operation is not None:
            raise ValueError(f"{method} {route}: any_caller is for endpoints without an operation")
        if any(e.method == method and e.path == route for e in ENDPOINTS):
            raise ValueError(f"{method} {route} is registered twice")
        ENDPOINTS.append(Endpoint(method=method, path=route, operation=operation,
                                  operation_id=operation_id or handler.__name__.replace("_", "."), summary=summary,
                                  tag=tag, handler=handler, request=request, responses=dict(responses),
                                  query=query, description=description or (handler.__doc__ or "").strip(),
                                  params=dict(params or {}), body_required=body_required,
                                  any_caller=any_caller))
        return handler

    return register


def register_schema(name: str, schema: dict[str, Any]) -> None:
    SCHEMAS[name] = schema


def register_resource(resource: Resource, short: str) -> None:
    """Schemas ``short`` (read), ``short.create``, ``short.update`` and ``short.collection``."""
    register_schema(short, resource.json_schema("read"))
    register_schema(f"{short}.create", resource.json_schema("create"))
    register_schema(f"{short}.update", resource.json_schema("update"))
    register_schema(f"{short}.collection", {
        "type": "object", "title": f"Collection({resource.type_name})",
        "properties": {"@odata.context": {"type": "string"}, "@odata.nextLink": {"type": "string", "format": "uri"},
                       "value": {"type": "array", "items": {"$ref": f"#/components/schemas/{short}"}}},
        "required": ["value"],
    })


# --- a call, as handlers see it -----------------------------------------------------------------------

def _skiptoken_key() -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), b"passgate-graph-skiptoken-v1", hashlib.sha256).digest()


class Call:
    """One request to an endpoint: who calls, from where, and helpers for Graph's URLs and queries."""

    def __init__(self, request: Request, version: str, found: Endpoint | None = None) -> None:
        principal: Principal = request.user
        self.request = request
        self.version = version
        self.endpoint = found
        self.caller = principal.caller
        self.actor = principal.actor
        self.context = request_context(request.META)

    @property
    def body(self) -> Any:
        """The parsed JSON body (read only now, after authentication and authorization); a refusal is audited."""
        try:
            length = str(self.request.META.get("CONTENT_LENGTH") or "0")
            if not length.isdigit() or int(length) > MAX_BODY_BYTES:
                raise GraphError(413, GraphCode.BAD_REQUEST,
                                 f"The request body must be at most {MAX_BODY_BYTES} bytes.")
            return self.request.data
        except PassgateError as exc:
            self.refused(exc, where="body")
            raise

    def check_input(self, params: Mapping[str, str]) -> None:
        """Before the handler runs: every path parameter well-formed (``core.graph.ids``), and no NUL or lone
        surrogate in the query string. A refusal is audited."""
        assert self.endpoint is not None  # noqa: S101 - the dispatcher made this call for an endpoint
        for param in self.endpoint.path_params:
            try:
                check_path_parameter(param, params[kwarg_name(param)])
            except GraphError as exc:
                self.refused(exc, where=f"{{{param}}}")
                raise
        try:
            check_pairs(self.request.query_params.lists(), where=lambda name: f"The query option '{name}'")
        except UnusableText as exc:
            error = GraphError.malformed(exc.message)
            error.code = exc.code
            self.refused(error, where="query")
            raise error from None

    def refused(self, exc: PassgateError, *, where: str) -> None:
        """Audit a request refused for its input, before any service saw it."""
        found = self.endpoint
        activity = f"graph.{found.operation or found.operation_id}" if found else "graph.request"
        audit_failure(category=Category.DIRECTORY, activity=activity, reason=exc.code, actor=self.actor,
                      context=self.context, details={"method": self.request.method, "path": self.request.path,
                                                     "where": where, "message": exc.message})

    def query(self, resource: Resource | QuerySpec, *, collection: bool, allow_filter: bool = True,
              handled: tuple[str, ...] = (), supported: tuple[str, ...] | None = None) -> Query:
        """The request's OData options for ``resource``; ``handled`` names options the handler reads itself
        (``$expand``); ``supported`` the options this collection takes (``odata.parse_query``). A refusal is
        audited."""
        params = {k: v for k, v in self.request.query_params.lists() if k.lower() not in handled}
        spec = resource.query_spec if isinstance(resource, Resource) else resource
        eventual = str(self.request.META.get("HTTP_CONSISTENCYLEVEL", "")).strip().lower() == "eventual"
        try:
            return parse_query(params, spec, collection=collection, key=_skiptoken_key(),
                               allow_filter=allow_filter, supported=supported, eventual=eventual)
        except GraphError as exc:
            self.refused(exc, where="query")
            raise

    def in_memory_page(self, rows: list[Any], query: Query) -> tuple[list[Any], str | None]:
        """``$skip`` and ``$top`` over rows already filtered and sorted; the next link continues with ``$skip``."""
        start = query.skip
        if query.top is None:
            return rows[start:], None
        end = start + query.top
        if end >= len(rows):
            return rows[start:end], None
        params = [(k, v) for k, values in self.request.query_params.lists() for v in values if k.lower() != "$skip"]
        params.append(("$skip", str(end)))
        return rows[start:end], f"{self.origin}{self.request.path}?{urlencode(params, quote_via=quote, safe='$,()')}"

    def authorize(self, operation: str, *, target_roles: frozenset[str] | None = None) -> None:
        """Check the caller's permission or role (and, for sensitive actions, the target's roles); audit a refusal."""
        try:
            authz.authorize(self.caller, operation, target_roles=target_roles)
        except authz.AuthorizationDenied as exc:
            audit_failure(category=Category.DIRECTORY, activity=f"graph.{operation}", reason=exc.code,
                          actor=self.actor, context=self.context,
                          details={"method": self.request.method, "path": self.request.path[:200],
                                   "targetRoles": sorted(target_roles) if target_roles is not None else None})
            raise

    @property
    def origin(self) -> str:
        return str(settings.PASSGATE.origin)

    @property
    def hosts(self) -> tuple[str, ...]:
        """Passgate's own hosts (host[:port]), as @odata.id URLs may name them."""
        return tuple(urlsplit(o).netloc for o in settings.PASSGATE.origins)

    def metadata(self, fragment: str) -> str:
        return f"{self.origin}/{self.version}/$metadata#{fragment}"

    def next_link(self, skiptoken_after: str) -> str:
        """This request's URL at Passgate's public origin, with a ``$skiptoken`` continuing after a sort key."""
        params = [(k, v) for k, values in self.request.query_params.lists() for v in values
                  if k.lower() != "$skiptoken"]
        params.append(("$skiptoken", encode_skiptoken(skiptoken_after, key=_skiptoken_key())))
        query = urlencode(params, quote_via=quote, safe="$,()'")
        return f"{self.origin}{self.request.path}?{query}"

    def page(self, query: Query, fetch: Callable[..., list[Any]], key: Callable[[Any], str],
             **fetch_kwargs: Any) -> tuple[list[Any], str | None]:
        """One page of a listing: ``fetch(where=, after=, limit=)`` rows, and the next link if there are more."""
        size = query.top or DEFAULT_PAGE_SIZE
        rows = fetch(where=query.filter.clauses if query.filter else (), after=query.after, limit=size + 1,
                     **fetch_kwargs)
        if len(rows) <= size:
            return rows, None
        rows = rows[:size]
        return rows, self.next_link(key(rows[-1]))


# --- the view behind every path -----------------------------------------------------------------------

class IsCaller(BasePermission):  # type: ignore[misc]
    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.user, Principal)


class JSONOnly(BaseContentNegotiation):  # type: ignore[misc]
    """Graph speaks JSON whatever the Accept header says."""

    def select_parser(self, request: Request, parsers: list[BaseParser]) -> BaseParser | None:
        content_type = request.content_type.split(";")[0].strip().lower()
        return next((p for p in parsers if p.media_type == content_type), None)

    def select_renderer(self, request: Request, renderers: list[BaseRenderer],
                        format_suffix: str | None = None) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


class GraphView(APIView):  # type: ignore[misc]
    endpoints: ClassVar[Mapping[str, Endpoint]] = {}
    authentication_classes = (BearerAuthentication, GraphSessionAuthentication)
    permission_classes = (IsCaller,)
    parser_classes = (StrictJSONParser,)
    renderer_classes = (JSONRenderer,)
    content_negotiation_class = JSONOnly
    throttle_classes = ()
    metadata_class = None

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response]:
        return graph_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        found = self.endpoints.get(request.method or "")
        if found is not None and found.operation is not None:
            Call(request, kwargs["version"]).authorize(found.operation)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        add_request_id_headers(request._request if isinstance(request, Request) else request, response)
        return response


def _dispatcher(method: str) -> Callable[..., Response]:
    def handle(self: GraphView, request: Request, version: str, **kwargs: str) -> Response:
        found = self.endpoints[method]
        call = (PatchCall if method == "PATCH" else Call)(request, version, found)
        call.check_input(kwargs)
        return found.handler(call, **kwargs)

    return handle


class PatchCall(Call):
    """A PATCH: its body names something to change (``schema.PATCH_MIN_PROPERTIES``). Checked when the handler reads
    the body, after it found the resource (a missing one is still 404); an empty body is refused and audited."""

    @property
    def body(self) -> Any:
        data = super().body
        try:
            require_properties(data)
        except GraphError as exc:
            self.refused(exc, where="body")
            raise
        return data


class SegmentNotFound(GraphView):
    """Anything under /v1.0/ or /beta/ that is not an endpoint: Graph's 400 for an unknown segment."""

    def _unknown(self, request: Request, version: str, rest: str | None = None) -> Response:
        known = {e.path.strip("/").split("/")[0] for e in ENDPOINTS}
        segments = [s for s in (rest or "").split("/") if s] or [""]
        segment = segments[0] if segments[0] not in known else segments[-1]
        raise GraphError.malformed(f"Resource not found for the segment '{segment}'.")

    get = post = put = patch = delete = _unknown


def kwarg_name(param: str) -> str:
    """A path parameter's keyword argument: ``{user-id}`` -> ``user_id``, ``{directoryObject-id}`` ->
    ``directory_object_id``."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", param).replace("-", "_").lower()


def _django_route(route: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: f"<str:{kwarg_name(m.group(1))}>", route.lstrip("/"))


def graph_urlpatterns() -> list[URLPattern]:
    import passgate.graph_api.views  # noqa: F401, PLC0415 - registers the endpoints (they import this module)

    by_path: dict[str, dict[str, Endpoint]] = defaultdict(dict)
    for found in ENDPOINTS:
        by_path[found.path][found.method] = found
    patterns: list[URLPattern] = []
    # A literal segment wins over a parameter in the same place ("fido2Methods/creationOptions" before
    # "fido2Methods/{id}"): Django tries patterns in order.
    for route, methods in sorted(by_path.items(), key=lambda item: [seg.startswith("{")
                                                                     for seg in item[0].strip("/").split("/")]):
        attrs: dict[str, Any] = {"endpoints": methods, **{m.lower(): _dispatcher(m) for m in methods}}
        view_class: Any = type(f"Graph{re.sub(r'[^A-Za-z0-9]', '_', route)}", (GraphView,), attrs)
        view = view_class.as_view()
        setattr(view, CHECKS_OWN_TEXT, True)  # Call.check_input and the parser (the web middleware stays out)
        patterns += [path(f"{version}/{_django_route(route)}", view, kwargs={"version": version})
                     for version in VERSIONS]
    catch_all = SegmentNotFound.as_view()
    setattr(catch_all, CHECKS_OWN_TEXT, True)  # it reads nothing and stores nothing
    # ... and /v1.0 or /beta alone, so that nothing under them is left to Django's 404 page or APPEND_SLASH redirect
    patterns.append(re_path(r"^(?P<version>v1\.0|beta)(?:/(?P<rest>.*))?$", catch_all))
    return patterns
