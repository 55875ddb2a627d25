"""The platform applies agreements through the library: pages and exchange packages agree."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from amurlink.exchange import Agreement, apply_agreement, export_exchange, import_exchange
from amurlink.io import read_camtrap_dp
from amurlink_web.apps.core.services import ApplicationError
from amurlink_web.apps.datasets.selectors import package_path
from amurlink_web.apps.sharing.scope import agreement_terms
from amurlink_web.apps.sharing.services import agreement_save
from amurlink_web.testing import BaseTestCase

pytestmark = pytest.mark.web


class AgreementThroughLibraryTest(BaseTestCase):
    def _agree(self, **terms):
        return agreement_save(provider=self.cn, recipient=self.wwf, **terms)

    def test_stored_agreement_becomes_the_library_agreement(self):
        a = self._agree(level="10km", species=["Panthera tigris", " "],
                        tables=["deployments", "observations"],
                        embargo_date=date(2014, 10, 1))
        self.assertEqual(agreement_terms(a), Agreement(
            provider="NTLNP", recipient="WWF", species=("Panthera tigris",),
            tables=("deployments", "observations"), level="10km",
            embargo_date=date(2014, 10, 1)))

    def test_partner_api_equals_the_exchange_package(self):
        a = self._agree(level="10km", species=["Panthera tigris"],
                        embargo_date=date(2014, 9, 15))
        client = self.client_for("outsider")
        deps = pd.DataFrame(client.get(
            f"/api/datasets/{self.dataset.pk}/deployments/").json()["results"])
        obs = pd.DataFrame(client.get(
            f"/api/datasets/{self.dataset.pk}/observations/").json()["results"])
        exact = read_camtrap_dp(package_path(self.dataset))
        expected = apply_agreement(exact, agreement_terms(a))
        self.assertEqual(set(obs["scientificName"]), {"Panthera tigris"})
        self.assertTrue((pd.to_datetime(obs["eventStart"], utc=True)
                         < pd.Timestamp("2014-09-15", tz="UTC")).all())
        self.assertEqual(sorted(obs["observationID"]),
                         sorted(expected.observations["observationID"]))
        got = {r.deploymentID: (r.latitude, r.longitude) for r in deps.itertuples()}
        want = {str(r.deploymentID): (float(r.latitude), float(r.longitude))
                for r in expected.deployments.itertuples()}
        self.assertEqual(got, want)
        self.assertNotEqual(  # generalised: the 10 km cell centres, not the exact stations
            got, {str(r.deploymentID): (float(r.latitude), float(r.longitude))
                  for r in exact.deployments.itertuples()})
        # what a package sent by hand under the same agreement holds
        with tempfile.TemporaryDirectory() as tmp:
            sent = export_exchange(exact, agreement_terms(a), Path(tmp) / "x.zip")
            received = import_exchange(sent).dataset
        self.assertEqual(sorted(received.observations["observationID"]),
                         sorted(obs["observationID"]))

    def test_invalid_terms_are_refused_by_the_library_rules(self):
        response = self.client_for("owner").post("/orgs/ntlnp/sharing/new/", {
            "recipient": self.wwf.pk, "level": "10km", "species": "Panthera tigris",
            "embargo_date": "2014-13-01", "active": "on"})
        self.assertEqual(response.status_code, 400)
        with self.assertRaisesRegex(ApplicationError, r"unknown table\(s\) \['photos'\]"):
            self._agree(level="1km", tables=["photos"])
        with self.assertRaisesRegex(ApplicationError, "agreement.level must be one of"):
            self._agree(level="street")
