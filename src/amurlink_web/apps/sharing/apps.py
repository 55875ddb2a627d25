from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "amurlink_web.apps.sharing"
    label = "sharing"
