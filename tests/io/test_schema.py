"""The project's schema declaration against the official Camtrap DP 1.0.2 table schemas."""

from __future__ import annotations

import json

import pytest

from amurlink.exceptions import SchemaError
from amurlink.schema import MISSING_VALUES, STANDARD_TABLES, TABLES, table_schema


@pytest.mark.parametrize("name", STANDARD_TABLES)
def test_declaration_matches_official_schema(reference_dir, name):
    official = json.loads(
        (reference_dir / "camtrap-dp-example" / "schemas" / f"{name}-table-schema.json").read_text()
    )
    ours = TABLES[name].to_descriptor()
    assert [f["name"] for f in ours["fields"]] == [f["name"] for f in official["fields"]]
    for mine, theirs in zip(ours["fields"], official["fields"], strict=True):
        assert mine["type"] == theirs["type"], mine["name"]
        assert mine.get("format") == theirs.get("format"), mine["name"]
        assert mine["constraints"] == theirs.get("constraints", {}), mine["name"]
    assert ours["primaryKey"] == official["primaryKey"]
    assert ours.get("foreignKeys", []) == official.get("foreignKeys", [])
    assert ours["missingValues"] == official["missingValues"] == list(MISSING_VALUES)


def test_extension_tables_have_keys_and_no_core_name():
    for name, schema in TABLES.items():
        assert schema.primary_key, name
        assert all(k in schema for k in schema.primary_key), name
        for fk in schema.foreign_keys:
            assert all(f in schema for f in fk.fields)
            assert all(f in TABLES[fk.resource] for f in fk.reference_fields)
        if name not in STANDARD_TABLES:
            assert schema.schema_url is None


def test_unknown_table_is_a_clear_error():
    with pytest.raises(SchemaError, match="unknown table 'deployment'"):
        table_schema("deployment")
