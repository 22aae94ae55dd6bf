from django.urls import include, path

urlpatterns = [
    path("", include("passgate.graph_api.urls")),
    path("", include("passgate.device_api.urls")),
    path("", include("passgate.web.urls")),
]

# Passgate's own error pages (passgate/web/views/errors.py). Django's refusals of a bad request (Host header, body
# too large, too many fields) answer JSON on the APIs and the 400 page elsewhere (passgate/config/errors.py); every
# other error response on an API path is made JSON by ApiErrorsMiddleware.
handler400 = "passgate.config.errors.bad_request"
handler403 = "passgate.web.views.errors.permission_denied"
handler404 = "passgate.web.views.errors.page_not_found"
handler500 = "passgate.web.views.errors.server_error"
