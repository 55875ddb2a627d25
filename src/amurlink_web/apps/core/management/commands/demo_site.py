from django.core.management.base import BaseCommand

from amurlink_web.apps.core.demo import DEMO_PASSWORD, demo_site_create


class Command(BaseCommand):
    help = "Create the demo site (two parks, the secretariat, one user per role, toy data)."

    def handle(self, *args, **options):
        users = demo_site_create()
        self.stdout.write(f"demo users (password {DEMO_PASSWORD!r}): {', '.join(users)}")
