"""Passgate's URLs and error handlers plus one view that reads the database (tests/http/test_error_pages.py)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from passgate.config.urls import handler400, handler403, handler404, handler500, urlpatterns
from passgate.directory.models import User


def reads_the_database(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(User.objects.count()))


urlpatterns = [path("boom", reads_the_database), *urlpatterns]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
