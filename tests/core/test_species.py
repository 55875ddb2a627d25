"""Species table: canonical names, vernacular names in three languages, unknown never guessed."""

from __future__ import annotations

from amurlink.core.species import resolve_species, species_table


def test_table_has_30_plus_mammals_with_three_languages_and_sources():
    t = species_table()
    assert len(t) >= 30 and t["scientificName"].is_unique
    for col in ("en", "zh", "ru", "source"):
        assert (t[col].str.len() > 0).all(), col


def test_names_in_any_language_and_synonyms_resolve():
    r = resolve_species(["Тигр", "东北豹", "Amur leopard", "Panthera tigris altaica", "ЁЖ",
                         "Cervus elaphus xanthopygus", "человек", "blank"])
    assert r.scientific_name.tolist()[:6] == [
        "Panthera tigris", "Panthera pardus", "Panthera pardus", "Panthera tigris",
        "Erinaceus amurensis", "Cervus canadensis"]
    assert r.observation_type.tolist()[6:] == ["human", "blank"]


def test_unknown_names_reported_not_guessed():
    r = resolve_species(["Tigre", "Tigre", "Panthera tigris"])
    assert r.unknown == {"Tigre": 2}
    assert r.scientific_name.isna().tolist() == [True, True, False]


def test_source_vocabulary_first_and_lumped_to_table_names():
    r = resolve_species(["T"], extra={"T": "Panthera tigris altaica"})
    assert r.scientific_name.tolist() == ["Panthera tigris"] and not r.not_in_table
