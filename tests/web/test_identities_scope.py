"""The joint catalogue, links and histories are cut by the reader's agreement (issue 14,
finding 3): a partner whose agreement names only some species, or has an embargo, sees no
individual of another species or first recorded on or after the embargo, no link among them,
and no count that reveals them: pages, API and the review app. Before, the whole working group
saw every individual and link."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pandas as pd
import pytest

from amurlink.datasets import load_example
from amurlink.identify import LinkStore
from amurlink.io import write_camtrap_dp
from amurlink_web.apps.identities.selectors import CachedLinkStore, joint_package_path
from amurlink_web.apps.sharing.services import agreement_save
from amurlink_web.testing import BaseTestCase

pytestmark = pytest.mark.web

LEOPARD_CN, LEOPARD_RU = "CN-NTLNP:L01", "RU-LLNP:L-7"  # CN leopard first seen 2014-10-01
TIGER_CN, TIGER_RU = "CN-NTLNP:T01", "RU-LLNP:T-1"  # first seen 2014-09; linked 5-10 Dec 2014
PAGES = ("/identities/", "/identities/links/?status=proposed",
         "/identities/links/?status=confirmed", "/api/identities/", "/api/links/",
         "/review/?status=proposed", "/review/?status=confirmed")


class CatalogueScopeTest(BaseTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.template = joint_package_path().with_name("joint-scope-template")
        shutil.rmtree(cls.template, ignore_errors=True)
        write_camtrap_dp(load_example(), cls.template)
        LinkStore(cls.template).propose(pd.DataFrame({
            "subjectA": [LEOPARD_CN], "subjectB": [LEOPARD_RU], "score": [0.8],
            "evidence": ['{"inliers": 23}']}), method="photo", by="matcher")

    def setUp(self):
        path = joint_package_path()
        shutil.rmtree(path, ignore_errors=True)
        shutil.copytree(self.template, path)
        current = CachedLinkStore(path).current().set_index("subjectB")["linkEventID"]
        self.leopard_link, self.tiger_link = current[LEOPARD_RU], current[TIGER_RU]

    def agree(self, **terms):
        agreement_save(provider=self.cn, recipient=self.ru, level="1km", **terms)

    def shown(self, persona: str) -> str:
        """Every catalogue, link and review page and API answer the persona gets, as text."""
        client = self.client_for(persona)
        out = []
        for url in PAGES:
            r = client.get(url)
            self.assertEqual(r.status_code, 200, (persona, url))
            out.append(r.content.decode())
        return "\n".join(out)

    def api(self, persona: str, url: str) -> list[dict]:
        return self.client_for(persona).get(url).json()["results"]

    def test_a_species_limit_holds_back_other_species_and_their_links(self):
        self.agree(species=["Panthera tigris"])
        text = self.shown("partner")
        self.assertNotIn(LEOPARD_CN, text)
        self.assertIn(TIGER_CN, text)  # the agreed species stays, with its link
        self.assertIn(LEOPARD_RU, text)  # the partner's own catalogue is not cut
        client = self.client_for("partner")
        # the partner's own leopard's history holds no event about the held-back one
        history = client.get(f"/identities/history/{LEOPARD_RU}/")
        self.assertEqual(history.status_code, 200)
        self.assertNotIn(LEOPARD_CN, history.content.decode())
        self.assertNotIn(LEOPARD_CN, json.dumps(client.get("/api/links/").json()))
        # the held-back link and subject are not found (a 404 page only echoes the URL asked)
        for url in (f"/identities/links/{self.leopard_link}/", f"/review/{self.leopard_link}/",
                    f"/identities/history/{LEOPARD_CN}/"):
            self.assertEqual(client.get(url).status_code, 404, url)
        self.assertEqual(client.post(f"/identities/links/{self.leopard_link}/review/",
                                     {"decision": "accept"}).status_code, 404)
        # counts reveal nothing: one joint identity less than the owner sees, no leopard link
        own = self.api("owner", "/api/identities/")
        theirs = self.api("partner", "/api/identities/")
        self.assertEqual(len(theirs), len(own) - 1)
        self.assertEqual([r["subjectA"] for r in self.api("partner", "/api/links/")],
                         [TIGER_CN])
        # the owner and the secretariat (all species) still see everything
        for persona in ("owner", "secretariat"):
            self.assertIn(LEOPARD_CN, self.shown(persona), persona)

    def test_an_embargo_holds_back_later_individuals_and_decisions(self):
        self.agree(embargo_date=date(2014, 10, 1))
        text = self.shown("partner")
        self.assertNotIn(LEOPARD_CN, text)  # first recorded on the embargo day
        self.assertIn(TIGER_CN, text)  # recorded before it ...
        # ... but its link was proposed and confirmed in December: no link, no joint identity
        self.assertEqual(self.api("partner", "/api/links/"), [])
        members = {r["members"] for r in self.api("partner", "/api/identities/")}
        self.assertNotIn(f"{TIGER_CN} = {TIGER_RU}", members)
        self.assertIn(f"{TIGER_CN} = {TIGER_RU}",
                      {r["members"] for r in self.api("owner", "/api/identities/")})
        history = self.client_for("partner").get(f"/identities/history/{TIGER_CN}/")
        self.assertNotIn("2014-12", history.content.decode())
        self.assertEqual(self.client_for("partner").get(
            f"/identities/links/{self.tiger_link}/").status_code, 404)

    def test_an_embargo_after_the_proposal_shows_the_link_as_it_stood(self):
        self.agree(embargo_date=date(2014, 12, 7))  # proposed 5 Dec, confirmed 10 Dec
        links = self.api("partner", "/api/links/")
        tiger = [r for r in links if r["subjectA"] == TIGER_CN]
        self.assertEqual([r["status"] for r in tiger], ["proposed"])
        self.assertNotIn("2014-12-10", json.dumps(links))

    def test_the_table_list_does_not_cut_the_catalogue_but_species_do(self):
        # a reviewer given only deployments and observations still reviews the agreed links
        self.agree(tables=["deployments", "observations"], species=["Panthera pardus"])
        text = self.shown("partner")
        self.assertIn(LEOPARD_CN, text)
        self.assertNotIn(TIGER_CN, text)
        self.assertEqual(self.client_for("partner").get(
            f"/identities/links/{self.leopard_link}/").status_code, 200)

    def test_revoking_an_agreement_never_shows_more(self):
        # a species-limited agreement, then deactivated: the partner sees less, not the
        # whole catalogue (before, no active agreement meant "not cut")
        self.agree(species=["Panthera tigris"])
        before = self.api("partner", "/api/identities/")
        agreement_save(provider=self.cn, recipient=self.ru, level="1km",
                       species=["Panthera tigris"], active=False)
        text = self.shown("partner")
        for cn_id in (LEOPARD_CN, TIGER_CN):
            self.assertNotIn(cn_id, text)
        self.assertIn(LEOPARD_RU, text)  # the partner's own catalogue stays
        after = self.api("partner", "/api/identities/")
        self.assertLess(len(after), len(before))
        self.assertTrue(all("CN-" not in r["members"] for r in after), after)
        self.assertEqual(self.api("partner", "/api/links/"), [])
        self.assertEqual(self.client_for("partner").get(
            f"/identities/links/{self.tiger_link}/").status_code, 404)
        # re-activating gives back what the agreement shares
        self.agree(species=["Panthera tigris"])
        self.assertIn(TIGER_CN, self.shown("partner"))
