from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "amurlink_web.apps.api"
    label = "api"
