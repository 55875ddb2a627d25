"""Tables and columns of amurlink, declared once: Camtrap DP 1.0.2 verbatim plus extensions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "CAMTRAP_DP_VERSION",
    "CAMTRAP_DP_PROFILE_URL",
    "MISSING_VALUES",
    "Field",
    "ForeignKey",
    "TableSchema",
    "TABLES",
    "STANDARD_TABLES",
    "EXTENSION_TABLES",
    "INCIDENT_BOOK_TABLES",
    "LOCATION_LEVELS",
    "LINK_STATUSES",
    "LINK_METHODS",
    "table_schema",
    "resource_name",
]

CAMTRAP_DP_VERSION = "1.0.2"
_BASE_URL = f"https://raw.githubusercontent.com/tdwg/camtrap-dp/{CAMTRAP_DP_VERSION}"
CAMTRAP_DP_PROFILE_URL = f"{_BASE_URL}/camtrap-dp-profile.json"
#: Cell values read as missing in every table (as the official schemas declare).
MISSING_VALUES: tuple[str, ...] = ("", "NA", "NaN", "nan")
#: Datetime format of every datetime field (ISO 8601 with an offset).
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"

FieldType = Literal["string", "number", "integer", "boolean", "datetime", "any"]


@dataclass(frozen=True)
class Field:
    """One column: name, Table Schema type and constraints.

    Parameters
    ----------
    name : str
        Column name, verbatim as written in the CSV header.
    type : {"string", "number", "integer", "boolean", "datetime", "any"}
        Frictionless Table Schema type.
    required : bool
        Whether every row must hold a value.
    unique : bool
        Whether values must be unique in the table.
    enum : tuple of str, optional
        Controlled vocabulary.
    minimum, maximum : float, optional
        Inclusive numeric bounds.
    pattern : str, optional
        Regular expression every value must match in full.
    description : str
        What the column holds, with units.
    """

    name: str
    type: FieldType = "string"
    required: bool = False
    unique: bool = False
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    description: str = ""

    @property
    def format(self) -> str | None:
        """Table Schema ``format`` (only datetimes carry one)."""
        return DATETIME_FORMAT if self.type == "datetime" else None

    def to_descriptor(self) -> dict[str, Any]:
        """Frictionless Table Schema field descriptor."""
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.format:
            out["format"] = self.format
        if self.description:
            out["description"] = self.description
        constraints: dict[str, Any] = {"required": self.required}
        if self.unique:
            constraints["unique"] = True
        if self.minimum is not None:
            constraints["minimum"] = self.minimum
        if self.maximum is not None:
            constraints["maximum"] = self.maximum
        if self.pattern is not None:
            constraints["pattern"] = self.pattern
        if self.enum is not None:
            constraints["enum"] = list(self.enum)
        out["constraints"] = constraints
        return out


@dataclass(frozen=True)
class ForeignKey:
    """Values of ``fields`` in this table must exist in ``resource.reference_fields``."""

    fields: tuple[str, ...]
    resource: str
    reference_fields: tuple[str, ...]

    def to_descriptor(self) -> dict[str, Any]:
        one = len(self.fields) == 1
        return {
            "fields": self.fields[0] if one else list(self.fields),
            "reference": {
                "resource": resource_name(self.resource),
                "fields": self.reference_fields[0] if one else list(self.reference_fields),
            },
        }


@dataclass(frozen=True)
class TableSchema:
    """A table: its fields, keys and whether it is a Camtrap DP core table or an extension."""

    name: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    standard: bool = False
    title: str = ""
    description: str = ""
    _by_name: dict[str, Field] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {f.name: f for f in self.fields})

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    def __getitem__(self, name: str) -> Field:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def resource_name(self) -> str:
        """Name of the resource in ``datapackage.json`` (see :func:`resource_name`)."""
        return resource_name(self.name)

    @property
    def schema_url(self) -> str | None:
        """Official schema URL for the core tables; ``None`` for extensions (inline schema)."""
        return f"{_BASE_URL}/{self.name}-table-schema.json" if self.standard else None

    def to_descriptor(self) -> dict[str, Any]:
        """Frictionless Table Schema descriptor (inline, as written for extension tables)."""
        out: dict[str, Any] = {
            "fields": [f.to_descriptor() for f in self.fields],
            "missingValues": list(MISSING_VALUES),
            "primaryKey": (self.primary_key[0] if len(self.primary_key) == 1
                           else list(self.primary_key)),
        }
        if self.foreign_keys:
            out["foreignKeys"] = [fk.to_descriptor() for fk in self.foreign_keys]
        return out


def resource_name(table: str) -> str:
    """Data Package resource name of a table: lower case with hyphens (``identity-links``).

    The Data Package standard allows only ``[-a-z0-9._/]`` in resource names, so camel-case
    table names such as ``identityLinks`` are written as ``identity-links``.
    """
    return re.sub(r"(?<!^)(?=[A-Z])", "-", table).lower()


def _enum(*values: str) -> tuple[str, ...]:
    return tuple(values)


# --------------------------------------------------------------------------------------------
# Camtrap DP 1.0.2 core tables, verbatim (names, types, constraints and vocabularies).
# --------------------------------------------------------------------------------------------
_MEDIA_PATH_PATTERN = r"^(?=^[^./~])(^((?!\.{2}).)*$).*$"

DEPLOYMENTS = TableSchema(
    name="deployments",
    title="Deployments",
    standard=True,
    primary_key=("deploymentID",),
    fields=(
        Field("deploymentID", required=True, unique=True),
        Field("locationID"),
        Field("locationName"),
        Field("latitude", "number", required=True, minimum=-90, maximum=90),
        Field("longitude", "number", required=True, minimum=-180, maximum=180),
        Field("coordinateUncertainty", "integer", minimum=1,
              description="Horizontal distance from the coordinates to the true location, "
                          "in metres."),
        Field("deploymentStart", "datetime", required=True),
        Field("deploymentEnd", "datetime", required=True),
        Field("setupBy"),
        Field("cameraID"),
        Field("cameraModel"),
        Field("cameraDelay", "integer", minimum=0),
        Field("cameraHeight", "number", minimum=0),
        Field("cameraDepth", "number", minimum=0),
        Field("cameraTilt", "integer", minimum=-90, maximum=90),
        Field("cameraHeading", "integer", minimum=0, maximum=360),
        Field("detectionDistance", "number", minimum=0),
        Field("timestampIssues", "boolean"),
        Field("baitUse", "boolean"),
        Field("featureType", enum=_enum(
            "roadPaved", "roadDirt", "trailHiking", "trailGame", "roadUnderpass", "roadOverpass",
            "roadBridge", "culvert", "burrow", "nestSite", "carcass", "waterSource",
            "fruitingTree")),
        Field("habitat"),
        Field("deploymentGroups"),
        Field("deploymentTags"),
        Field("deploymentComments"),
    ),
)

MEDIA = TableSchema(
    name="media",
    title="Media",
    standard=True,
    primary_key=("mediaID",),
    foreign_keys=(ForeignKey(("deploymentID",), "deployments", ("deploymentID",)),),
    fields=(
        Field("mediaID", required=True, unique=True),
        Field("deploymentID", required=True),
        Field("captureMethod", enum=_enum("activityDetection", "timeLapse")),
        Field("timestamp", "datetime", required=True),
        Field("filePath", required=True, pattern=_MEDIA_PATH_PATTERN),
        Field("filePublic", "boolean", required=True),
        Field("fileName"),
        Field("fileMediatype", required=True, pattern=r"^(image|video|audio)/.*$"),
        Field("exifData", "any"),
        Field("favorite", "boolean"),
        Field("mediaComments"),
    ),
)

OBSERVATIONS = TableSchema(
    name="observations",
    title="Observations",
    standard=True,
    primary_key=("observationID",),
    foreign_keys=(
        ForeignKey(("deploymentID",), "deployments", ("deploymentID",)),
        ForeignKey(("mediaID",), "media", ("mediaID",)),
    ),
    fields=(
        Field("observationID", required=True, unique=True),
        Field("deploymentID", required=True),
        Field("mediaID"),
        Field("eventID"),
        Field("eventStart", "datetime", required=True),
        Field("eventEnd", "datetime", required=True),
        Field("observationLevel", required=True, enum=_enum("media", "event")),
        Field("observationType", required=True, enum=_enum(
            "animal", "human", "vehicle", "blank", "unknown", "unclassified")),
        Field("cameraSetupType", enum=_enum("setup", "calibration")),
        Field("scientificName"),
        Field("count", "integer", minimum=1),
        Field("lifeStage", enum=_enum("adult", "subadult", "juvenile")),
        Field("sex", enum=_enum("female", "male")),
        Field("behavior"),
        Field("individualID"),
        Field("individualPositionRadius", "number", minimum=0),
        Field("individualPositionAngle", "number", minimum=-90, maximum=90),
        Field("individualSpeed", "number", minimum=0),
        Field("bboxX", "number", minimum=0, maximum=1),
        Field("bboxY", "number", minimum=0, maximum=1),
        Field("bboxWidth", "number", minimum=1e-15, maximum=1),
        Field("bboxHeight", "number", minimum=1e-15, maximum=1),
        Field("classificationMethod", enum=_enum("human", "machine")),
        Field("classifiedBy"),
        Field("classificationTimestamp", "datetime"),
        Field("classificationProbability", "number", minimum=0, maximum=1),
        Field("observationTags"),
        Field("observationComments"),
    ),
)

# --------------------------------------------------------------------------------------------
# amurlink extension resources (declared in datapackage.json with inline schemas).
# --------------------------------------------------------------------------------------------
#: ``CN-NTLNP:T012``: ISO country code, catalogue name, colon, the catalogue's own ID.
INDIVIDUAL_ID_PATTERN = r"^[A-Z]{2}-[A-Za-z0-9_]+:\S.*$"

DEPLOYMENT_DETAILS = TableSchema(
    name="deploymentDetails",
    title="Deployment details",
    description="Country, organisation and IANA time zone of each deployment (amurlink extension).",
    primary_key=("deploymentID",),
    foreign_keys=(ForeignKey(("deploymentID",), "deployments", ("deploymentID",)),),
    fields=(
        Field("deploymentID", required=True, unique=True),
        Field("countryCode", required=True, pattern=r"^[A-Z]{2}$",
              description="ISO 3166-1 alpha-2 code of the country the camera stands in."),
        Field("organisation", description="Organisation that runs the camera."),
        Field("timezone", required=True,
              description="IANA time zone of the camera's clock, e.g. Asia/Vladivostok."),
    ),
)

DEPLOYMENT_GAPS = TableSchema(
    name="deploymentGaps",
    title="Deployment gaps",
    description="Periods inside a deployment when the camera did not work (amurlink extension).",
    primary_key=("deploymentID", "gapStart"),
    foreign_keys=(ForeignKey(("deploymentID",), "deployments", ("deploymentID",)),),
    fields=(
        Field("deploymentID", required=True),
        Field("gapStart", "datetime", required=True),
        Field("gapEnd", "datetime", required=True),
        Field("gapReason", enum=_enum(
            "malfunction", "battery", "memoryFull", "theft", "damage", "obstructed", "other")),
        Field("gapComments"),
    ),
)

INDIVIDUALS = TableSchema(
    name="individuals",
    title="Individuals",
    description="National catalogues of known individuals; IDs namespaced by catalogue.",
    primary_key=("individualID",),
    foreign_keys=(ForeignKey(("motherID",), "individuals", ("individualID",)),),
    fields=(
        Field("individualID", required=True, unique=True, pattern=INDIVIDUAL_ID_PATTERN,
              description="Catalogue-namespaced ID, e.g. CN-NTLNP:T012 or RU-LLNP:T-23."),
        Field("catalogue", required=True, pattern=r"^[A-Z]{2}-[A-Za-z0-9_]+$",
              description="Catalogue namespace, e.g. CN-NTLNP."),
        Field("scientificName", required=True),
        Field("individualName"),
        Field("sex", enum=_enum("female", "male")),
        Field("lifeStage", enum=_enum("adult", "subadult", "juvenile")),
        Field("knownFlanks", enum=_enum("left", "right", "both")),
        Field("motherID", pattern=INDIVIDUAL_ID_PATTERN),
        Field("firstRecorded", "datetime"),
        Field("individualComments"),
    ),
)

LINK_STATUSES: tuple[str, ...] = ("proposed", "confirmed", "rejected")
LINK_METHODS: tuple[str, ...] = ("photo", "dna", "dna-camera", "expert")

IDENTITY_LINKS = TableSchema(
    name="identityLinks",
    title="Identity links",
    description=(
        "Append-only log of decisions that two national IDs (or a sample and an individual) "
        "are the same animal. The latest row of a pair is its current status."
    ),
    primary_key=("linkEventID",),
    fields=(
        Field("linkEventID", required=True, unique=True),
        Field("subjectA", required=True, description="Individual ID or sample ID."),
        Field("subjectB", required=True, description="Individual ID or sample ID."),
        Field("method", required=True, enum=LINK_METHODS),
        Field("score", "number", description="Method-specific similarity score."),
        Field("status", required=True, enum=LINK_STATUSES),
        Field("reviewer"),
        Field("timestamp", "datetime", required=True),
        Field("reason"),
        Field("evidence", description="JSON object with the evidence for the link."),
    ),
)

SAMPLES = TableSchema(
    name="samples",
    title="Samples",
    description="Non-invasive DNA samples: what, where, when, who collected, which lab.",
    primary_key=("sampleID",),
    fields=(
        Field("sampleID", required=True, unique=True),
        Field("sampleType", required=True, enum=_enum("scat", "hair", "tissue", "saliva", "other")),
        Field("scientificName", description="Species assigned in the field or by a species test."),
        Field("latitude", "number", minimum=-90, maximum=90),
        Field("longitude", "number", minimum=-180, maximum=180),
        Field("coordinateUncertainty", "integer", minimum=1, description="In metres."),
        Field("collectionDate", "datetime"),
        Field("collectedBy"),
        Field("countryCode", pattern=r"^[A-Z]{2}$"),
        Field("lab", required=True, description="Lab that typed the sample."),
        Field("sampleComments"),
    ),
)

LOCI = TableSchema(
    name="loci",
    title="Loci",
    description="Microsatellite loci per lab, with the allele-size offset to the joint scale.",
    primary_key=("lab", "locus"),
    fields=(
        Field("lab", required=True),
        Field("locus", required=True),
        Field("offset", "number",
              description="Add to this lab's sizes for the joint scale, in bp."),
        Field("repeatUnit", "integer", minimum=1, description="Repeat length in bp."),
        Field("binMap", description="JSON object mapping this lab's sizes to joint sizes."),
        Field("sexMarker", "boolean"),
    ),
)

GENOTYPES = TableSchema(
    name="genotypes",
    title="Genotypes",
    description="Allele calls per sample, locus and PCR replicate, in the lab's own sizes.",
    primary_key=("sampleID", "locus", "replicate"),
    foreign_keys=(ForeignKey(("sampleID",), "samples", ("sampleID",)),),
    fields=(
        Field("sampleID", required=True),
        Field("locus", required=True),
        Field("allele1", "integer", minimum=0,
              description="Allele size in bp (missing: not called)."),
        Field("allele2", "integer", minimum=0,
              description="Allele size in bp (missing: not called)."),
        Field("replicate", "integer", required=True, minimum=1),
    ),
)

# --------------------------------------------------------------------------------------------
# Conflict, disease and patrol books (issue #19): extension tables of the joint package.
# Personal data of compensation claimants is NOT here: ``claimants`` is an owner-only table
# (amurlink.incidents.tables.CLAIMANTS) kept beside a package, never in one.
# --------------------------------------------------------------------------------------------
#: What happened, in the words of the Amur response teams' books.
INCIDENT_CATEGORIES: tuple[str, ...] = (
    "livestock-killed",
    "dog-killed",
    "attack-on-person",
    "animal-in-village",
    "road-kill",
    "carcass",
    "snare",
    "poaching",
    "other",
)
#: What a patrol found.
FINDING_CATEGORIES: tuple[str, ...] = (
    "snare",
    "trap",
    "poaching-camp",
    "gunshot",
    "carcass",
    "tiger-track",
    "leopard-track",
    "other",
)
TEST_RESULTS: tuple[str, ...] = ("positive", "negative", "inconclusive")

_COUNTRY = r"^[A-Z]{2}$"
_CURRENCY = r"^[A-Z]{3}$"

INCIDENTS = TableSchema(
    name="incidents",
    title="Incidents",
    description=(
        "Human-animal conflict and threat incidents: depredation, attacks, animals in villages, "
        "road kills, carcasses, snares and poaching finds, with response and compensation."
    ),
    primary_key=("incidentID",),
    fields=(
        Field("incidentID", required=True, unique=True),
        Field("countryCode", required=True, pattern=_COUNTRY,
              description="Country whose books hold the incident."),
        Field("eventStart", "datetime", required=True, description="When it happened."),
        Field("latitude", "number", minimum=-90, maximum=90),
        Field("longitude", "number", minimum=-180, maximum=180),
        Field("coordinateUncertainty", "integer", minimum=1, description="In metres."),
        Field("category", required=True, enum=INCIDENT_CATEGORIES),
        Field("scientificName", description="Species held responsible (or found)."),
        Field("individualID", pattern=INDIVIDUAL_ID_PATTERN,
              description="National ID of the animal, where it is known."),
        Field("sampleID", description="DNA sample taken at the incident, if any."),
        Field("victimKind", description="cattle, horse, dog, person, ..."),
        Field("victimCount", "integer", minimum=0),
        Field("outcome", description="What became of the animal and the victims."),
        Field("responseBy", description="Team or agency that responded (not a person's name)."),
        Field("responseHours", "number", minimum=0,
              description="Hours from the report to the team on site."),
        Field("compensationAmount", "number", minimum=0,
              description="Amount paid, in compensationCurrency."),
        Field("compensationCurrency", pattern=_CURRENCY, description="ISO 4217 code: CNY, RUB."),
        Field("compensationDate", "datetime", description="When the compensation was paid."),
        Field("claimID", description="Key into the owner-only claimants table."),
        Field("source", description="smart, earthranger or csv."),
        Field("sourceID", description="ID of the record in its source system."),
        Field("incidentComments"),
    ),
)

DISEASE_TESTS = TableSchema(
    name="diseaseTests",
    title="Disease tests",
    description="Pathogen tests of samples from tigers, leopards and their contacts.",
    primary_key=("testID",),
    fields=(
        Field("testID", required=True, unique=True),
        Field("sampleID"),
        Field("individualID", pattern=INDIVIDUAL_ID_PATTERN),
        Field("scientificName", required=True),
        Field("countryCode", required=True, pattern=_COUNTRY),
        Field("sampleType", required=True,
              enum=("blood", "serum", "tissue", "swab", "scat", "brain", "other")),
        Field("sampleDate", "datetime", required=True),
        Field("latitude", "number", minimum=-90, maximum=90),
        Field("longitude", "number", minimum=-180, maximum=180),
        Field("coordinateUncertainty", "integer", minimum=1, description="In metres."),
        Field("lab", required=True),
        Field("pathogen", required=True, description="e.g. CDV (canine distemper virus)."),
        Field("assay", required=True, description="e.g. serology (virus neutralisation), PCR."),
        Field("result", required=True, enum=TEST_RESULTS),
        Field("necropsyID"),
        Field("testComments"),
    ),
)

NECROPSIES = TableSchema(
    name="necropsies",
    title="Necropsies",
    description="Post-mortem examinations of dead tigers and leopards.",
    primary_key=("necropsyID",),
    fields=(
        Field("necropsyID", required=True, unique=True),
        Field("individualID", pattern=INDIVIDUAL_ID_PATTERN),
        Field("scientificName", required=True),
        Field("countryCode", required=True, pattern=_COUNTRY),
        Field("date", "datetime", required=True),
        Field("latitude", "number", minimum=-90, maximum=90),
        Field("longitude", "number", minimum=-180, maximum=180),
        Field("coordinateUncertainty", "integer", minimum=1, description="In metres."),
        Field("causeOfDeath"),
        Field("findings"),
    ),
)

PATROLS = TableSchema(
    name="patrols",
    title="Patrols",
    description="Ranger patrols with their effort; tracks are owner-only unless agreed.",
    primary_key=("patrolID",),
    fields=(
        Field("patrolID", required=True, unique=True),
        Field("countryCode", required=True, pattern=_COUNTRY),
        Field("start", "datetime", required=True),
        Field("end", "datetime", required=True),
        Field("lengthKm", "number", required=True, minimum=0,
              description="Distance patrolled, in km."),
        Field("transport", description="foot, vehicle, boat, ..."),
        Field("team", description="Team name (not a person's name)."),
        Field("track", description="Route as WKT LINESTRING in WGS 84 (owner-only)."),
        Field("source"),
        Field("sourceID"),
    ),
)

PATROL_FINDINGS = TableSchema(
    name="patrolFindings",
    title="Patrol findings",
    description="What patrols found: snares, camps, carcasses, tracks.",
    primary_key=("findingID",),
    foreign_keys=(ForeignKey(("patrolID",), "patrols", ("patrolID",)),),
    fields=(
        Field("findingID", required=True, unique=True),
        Field("patrolID", required=True),
        Field("date", "datetime", required=True),
        Field("latitude", "number", minimum=-90, maximum=90),
        Field("longitude", "number", minimum=-180, maximum=180),
        Field("coordinateUncertainty", "integer", minimum=1, description="In metres."),
        Field("category", required=True, enum=FINDING_CATEGORIES),
        Field("count", "integer", required=True, minimum=1),
        Field("scientificName"),
        Field("findingComments"),
    ),
)

STANDARD_TABLES: tuple[str, ...] = ("deployments", "media", "observations")
TABLES: MappingProxyType[str, TableSchema] = MappingProxyType({
    t.name: t for t in (
        DEPLOYMENTS, MEDIA, OBSERVATIONS, DEPLOYMENT_DETAILS, DEPLOYMENT_GAPS, INDIVIDUALS,
        IDENTITY_LINKS, SAMPLES, LOCI, GENOTYPES, INCIDENTS, DISEASE_TESTS, NECROPSIES, PATROLS,
        PATROL_FINDINGS,
    )
})
EXTENSION_TABLES: tuple[str, ...] = tuple(n for n in TABLES if n not in STANDARD_TABLES)
#: The incident books among the extension tables (shareable; protected by
#: :func:`amurlink.incidents.protect.protect_incident_tables` inside every release).
INCIDENT_BOOK_TABLES: tuple[str, ...] = ("incidents", "diseaseTests", "necropsies", "patrols",
                                         "patrolFindings")

#: Location protection levels, most precise first.
LOCATION_LEVELS: tuple[str, ...] = ("exact", "1km", "10km", "withheld")


def table_schema(name: str) -> TableSchema:
    """Return the declared schema of table ``name``.

    Raises
    ------
    SchemaError
        If ``name`` is not a table amurlink knows.
    """
    try:
        return TABLES[name]
    except KeyError:
        from amurlink.exceptions import SchemaError

        raise SchemaError(
            f"unknown table {name!r}; amurlink knows {', '.join(TABLES)}"
        ) from None
