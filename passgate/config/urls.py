from django.urls import include, path

urlpatterns = [
    path("", include("passgate.graph_api.urls")),
    path("", include("passgate.device_api.urls")),
    path("", include("passgate.web.urls")),
]

# Django's refusals of a bad request (Host header, body too large, too many fields): JSON on the APIs, the default
# page elsewhere. Every other error response on an API path is made JSON by ApiErrorsMiddleware.
handler400 = "passgate.graph_api.api_errors.bad_request"
