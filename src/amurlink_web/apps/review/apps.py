from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "amurlink_web.apps.review"
    label = "review"
