from django.apps import AppConfig


class IdentitiesConfig(AppConfig):
    name = "amurlink_web.apps.identities"
    label = "identities"
