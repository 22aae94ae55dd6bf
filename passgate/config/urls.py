from django.urls import include, path

urlpatterns = [path("", include("passgate.web.urls"))]
