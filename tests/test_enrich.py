from datetime import UTC, date, datetime

import polars as pl
import pytest

from phoenix_dagster.schemas import empty_frame
from phoenix_dagster.schemas.enriched import EnrichedProperties, ListingTextFacts
from phoenix_dagster.schemas.intermediate import IntPropertiesResolved
from phoenix_dagster.transforms.enrich import enrich_properties

pytestmark = pytest.mark.unit

T = datetime(2026, 11, 28, 7, tzinfo=UTC)


def rows(model, records):
    empty = empty_frame(model)
    return pl.DataFrame([{**dict.fromkeys(empty.columns), **r} for r in records], schema=empty.schema)


def test_text_fills_gaps_but_never_overrides_a_source():
    properties = rows(
        IntPropertiesResolved,
        [
            dict(
                property_id="apn:04013:1",
                county_fips="04013",
                PostalCode="85031",
                listing_source="sample",
                ListingKey="A",
                BedroomsTotal=None,
                LivingArea=1204.0,
                sources=["assessor:sample", "listing:sample"],
                match_method="apn",
                records_merged=3,
                observed_date=date(2026, 11, 28),
                observed_at=T,
            ),
            dict(
                property_id="apn:04013:2",
                county_fips="04013",
                PostalCode="85031",
                sources=["assessor:sample"],
                match_method="assessor_only",
                records_merged=1,
                observed_date=date(2026, 11, 28),
                observed_at=T,
            ),
        ],
    )
    facts = rows(
        ListingTextFacts,
        [
            dict(
                source="sample",
                ListingKey="A",
                property_id="apn:04013:1",
                PostalCode="85031",
                observed_date=date(2026, 11, 28),
                method="rules",
                extractor_version="rules-1",
                BedroomsTotal=3,
                BathroomsTotal=2.5,
                LivingArea=1300.0,
                rejected=[],
                NotableFeatures=[],
                evidence="{}",
                prompt_tokens=0,
                completion_tokens=0,
                model_seconds=0.0,
            )
        ],
    )
    out = enrich_properties(properties, facts)
    EnrichedProperties.validate(out)
    listed, unlisted = out.row(0, named=True), out.row(1, named=True)
    assert listed["BedroomsTotal"] == 3 and listed["BathroomsTotalInteger"] == 3
    assert listed["LivingArea"] == 1204  # the assessor's value stays
    assert listed["enriched_fields"] == ["BedroomsTotal", "BathroomsTotalInteger"]
    assert listed["text_disagreements"] == ["LivingArea: source 1204.0 vs text 1300.0"]
    assert listed["enrichment_method"] == "rules"
    assert unlisted["enrichment_method"] == "none" and unlisted["enriched_fields"] == []
