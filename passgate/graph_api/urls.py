from django.urls import path

from passgate.graph_api import metadata, oauth, openapi
from passgate.graph_api.registry import graph_urlpatterns

urlpatterns = [
    path("oauth2/v2.0/token", oauth.token),
    path("<str:tenant>/oauth2/v2.0/token", oauth.token),
    path("openapi.json", openapi.openapi_json),
    path("v1.0/$metadata", metadata.metadata_xml),
    *graph_urlpatterns(),
]
