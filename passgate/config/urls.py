from django.urls import include, path

urlpatterns = [
    path("", include("passgate.graph_api.urls")),
    path("", include("passgate.web.urls")),
]
