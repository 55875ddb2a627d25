from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "amurlink_web.apps.core"
    label = "core"
