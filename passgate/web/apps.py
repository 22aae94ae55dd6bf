from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "passgate.web"
    label = "web"
