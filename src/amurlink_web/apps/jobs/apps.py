from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "amurlink_web.apps.jobs"
    label = "jobs"
    default_auto_field = "django.db.models.BigAutoField"
