from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if request.content_type == "application/json":
        return JsonResponse({"error": {"code": "csrf_failed",
                                       "message": "The request's CSRF token is missing or wrong. Reload the page."}},
                            status=403)
    return render(request, "passgate/error.html", {
        "title": "This form has expired",
        "message": "Reload the page and try again.",
    }, status=403)

