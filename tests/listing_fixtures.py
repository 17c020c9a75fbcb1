"""Listings for the listing-source tests: the embedded sample's RESO records."""

import json

from phoenix_dagster.settings import SAMPLE_DIR


def sample_listings(zip_code: str = "85031") -> list[dict]:
    records = json.loads((SAMPLE_DIR / "listings" / f"{zip_code}.json").read_text())["value"]
    unique = {
        r["ListingKey"]: r for r in records if r.get("ListingKey") and isinstance(r.get("ListPrice"), (int, float))
    }
    return list(unique.values())  # the sample repeats one listing on purpose; a feed would not
