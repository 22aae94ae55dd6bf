from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader

# Django's handler400/403/404/500 pages (``config/urls.py``). Rendered without the request (no context processors:
# no user, session or database), so the 500 page appears even when the database is what failed. On the APIs,
# ApiErrorsMiddleware turns these into the API's own JSON error.
HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("This request couldn't be read",
          "Passgate couldn't understand what your browser sent. Go back and try again, or start again from the "
          "start page."),
    403: ("You can't open this page",
          "You don't have access to this page. If you think you should, ask your administrator."),
    404: ("Page not found",
          "There's no page at this address. Check the address, or start again from the start page."),
    500: ("Something went wrong",
          "Passgate couldn't finish this request. Try again in a moment; if it keeps happening, tell your "
          "administrator."),
}


def http_error_page(status: int) -> HttpResponse:
    title, message = HTTP_ERRORS[status]
    html = loader.render_to_string("passgate/http_error.html", {"status": status, "title": title,
                                                                 "message": message})
    return HttpResponse(html, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return http_error_page(400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return http_error_page(403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return http_error_page(404)


def server_error(request: HttpRequest) -> HttpResponse:
    return http_error_page(500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if request.content_type == "application/json":
        return JsonResponse({"error": {"code": "csrf_failed",
                                       "message": "The request's CSRF token is missing or wrong. Reload the page."}},
                            status=403)
    return render(request, "passgate/error.html", {
        "title": "This form has expired",
        "message": "Reload the page and try again.",
    }, status=403)

