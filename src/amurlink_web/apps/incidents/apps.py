from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "amurlink_web.apps.incidents"
    label = "incidents"
