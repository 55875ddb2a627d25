from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "amurlink_web.apps.organisations"
    label = "organisations"
