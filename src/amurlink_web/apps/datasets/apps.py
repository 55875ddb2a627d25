from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "amurlink_web.apps.datasets"
    label = "datasets"
