"""Running ``amurlink serve`` twice leaves the demo site as it was: no second copy of the
demo datasets, no new upload rows, no new users or agreements."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import TestCase

from amurlink_web.apps.datasets.models import Dataset, Upload
from amurlink_web.apps.organisations.models import Membership, Organisation
from amurlink_web.apps.sharing.models import SharingAgreement

pytestmark = pytest.mark.web


class ServeTwiceTest(TestCase):
    def counts(self):
        return {m.__name__: m.objects.count()
                for m in (Dataset, Upload, Organisation, Membership, SharingAgreement)}

    def test_demo_site_twice_changes_nothing(self):
        # what `amurlink serve` runs before the server starts (cli/serve.py)
        call_command("demo_site", stdout=io.StringIO())
        first = self.counts()
        self.assertEqual((first["Dataset"], first["Upload"]), (2, 2))
        call_command("demo_site", stdout=io.StringIO())
        self.assertEqual(self.counts(), first)
