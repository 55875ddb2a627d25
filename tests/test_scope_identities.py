"""amurlink.release.scope_identities: each catalogue cut by its provider's agreements; a
catalogue whose provider revoked what it gave (``None``) is withheld whole."""

from __future__ import annotations

from amurlink.agreement import Agreement
from amurlink.datasets import load_example
from amurlink.release import scope_identities


def _catalogues(ids):
    return {str(i).split(":", 1)[0] for i in ids.dropna()}


def test_a_withheld_catalogue_leaves_no_individual_and_no_link():
    data = load_example()
    assert {"CN-NTLNP", "RU-LLNP"} <= _catalogues(data["individuals"]["individualID"])
    cut = scope_identities(data, agreements={"CN-NTLNP": None})
    assert _catalogues(cut["individuals"]["individualID"]) == {"RU-LLNP"}
    links = cut["identityLinks"]
    assert not (_catalogues(links["subjectA"]) | _catalogues(links["subjectB"])) & {"CN-NTLNP"}
    # the reader's own catalogue is kept whole
    own = data["individuals"]["individualID"].str.startswith("RU-LLNP")
    assert len(cut["individuals"]) == int(own.sum())
    # other tables are returned as given
    assert cut["observations"] is data["observations"]


def test_an_agreement_cuts_less_than_withholding():
    data = load_example()
    tigers = scope_identities(data, agreements={
        "CN-NTLNP": (Agreement(species=("Panthera tigris",)),)})
    withheld = scope_identities(data, agreements={"CN-NTLNP": None})
    assert len(withheld["individuals"]) < len(tigers["individuals"]) < len(data["individuals"])
    assert scope_identities(data, agreements={"CN-NTLNP": ()}) is data  # no terms: not cut
