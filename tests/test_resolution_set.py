"""The address-resolution evaluation set (tests/eval/resolution_cases.jsonl) says what it claims.

Checked against the embedded sample's county search rows, read here on their own (not through the
generator's code, nor the resolver's): the committed file is what the script writes, every kind
has its cases, every expected parcel is a kept parcel of the case's ZIP and the only one its
address fits, negatives fit no parcel for the reason their kind names, and ambiguous cases fit
every candidate and nothing else.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from rapidfuzz.distance.Levenshtein import distance as edit_distance  # the resolver's library, not the resolver

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "tests" / "eval"
CASES_FILE = EVAL / "resolution_cases.jsonl"
SEARCH_DIR = ROOT / "data" / "sample" / "assessor" / "search"
SAMPLE_ZIPS = ("85031", "85033", "85035")
KEPT_TYPES = {"RESIDENTIAL", "VACANT LAND RESIDENTIAL"}

MINIMUM_PER_KIND = {
    "exact": 20,
    "suffix_missing": 25,
    "suffix_spelled": 25,
    "directional_spelled": 20,
    "directional_missing": 20,
    "case_spacing_punctuation": 20,
    "ordinal_case": 15,
    "zip_plus4": 20,
    "unit_designator": 20,
    "city_variant": 20,
    "apn_punctuated": 20,
    "street_typo": 20,
    "combined": 20,
    "house_number_absent": 20,
    "other_zip_street": 15,
    "conflicting_suffix": 20,
    "ambiguous": 6,
}
KEYS = [
    "case_id",
    "kind",
    "expected",
    "expected_parcel",
    "candidates",
    "UnparsedAddress",
    "City",
    "PostalCode",
    "ParcelNumber",
]

SUFFIXES = {
    "AVE": "AVE",
    "AVENUE": "AVE",
    "AV": "AVE",
    "DR": "DR",
    "DRIVE": "DR",
    "DRV": "DR",
    "ST": "ST",
    "STREET": "ST",
    "STR": "ST",
    "RD": "RD",
    "ROAD": "RD",
    "LN": "LN",
    "LANE": "LN",
    "WAY": "WAY",
    "WY": "WAY",
    "BLVD": "BLVD",
    "BOULEVARD": "BLVD",
    "BOUL": "BLVD",
}
DIRECTIONALS = {"N": "N", "NORTH": "N", "S": "S", "SOUTH": "S", "E": "E", "EAST": "E", "W": "W", "WEST": "W"}
UNIT_WORDS = {"UNIT", "APT", "#"}
COUNTY = re.compile(r"^(\d+) ([NSEW]) (.+?) (AVE|DR|ST|RD|LN|WAY|BLVD)(?: \w+)?$")


def load_rows() -> list[dict]:
    """Every county search row, each APN once, with its address split into parts."""
    rows = {}
    for page in sorted(SEARCH_DIR.glob("q*_page*.json")):
        for raw in json.loads(page.read_text())["Results"]:
            number, predir, name, suffix = COUNTY.match(raw["SitusAddress"]).groups()
            rows.setdefault(
                raw["APN"],
                {
                    "apn": raw["APN"],
                    "zip": raw["SitusZip"],
                    "kept": raw["PropertyType"] in KEPT_TYPES,
                    "number": number,
                    "predir": predir,
                    "name": name,
                    "suffix": suffix,
                },
            )
    return list(rows.values())


def split_listing(address: str) -> dict:
    """A listing's address as (number, predir or None, name, suffix or None), units dropped."""
    tokens = re.sub(r"[.,]", " ", address.upper()).replace("#", " # ").split()
    for i, token in enumerate(tokens):
        if token in UNIT_WORDS:
            tokens = tokens[:i]
            break
    number, rest = tokens[0], tokens[1:]
    predir = DIRECTIONALS.get(rest[0]) if len(rest) > 1 else None
    if predir:
        rest = rest[1:]
    suffix = SUFFIXES.get(rest[-1]) if len(rest) > 1 else None
    if suffix:
        rest = rest[:-1]
    return {"number": number, "predir": predir, "name": " ".join(rest), "suffix": suffix}


def fits(row: dict, written: dict) -> bool:
    """The row has the written number and name, and the directional and suffix where written."""
    return (row["number"], row["name"]) == (written["number"], written["name"]) and all(
        written[part] is None or written[part] == row[part] for part in ("predir", "suffix")
    )


@pytest.fixture(scope="module")
def cases() -> list[dict]:
    return [json.loads(line) for line in CASES_FILE.read_text().splitlines()]


@pytest.fixture(scope="module")
def rows_by_zip() -> dict[str, list[dict]]:
    by_zip = defaultdict(list)
    for row in load_rows():
        by_zip[row["zip"]].append(row)
    return by_zip


def parcels_fitting(rows: list[dict], written: dict) -> list[str]:
    return sorted(r["apn"] for r in rows if r["kept"] and fits(r, written))


def test_the_script_rebuilds_the_committed_file_byte_for_byte():
    spec = importlib.util.spec_from_file_location("build_resolution_set", EVAL / "build_resolution_set.py")
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script  # its dataclasses look their module up while being defined
    try:
        spec.loader.exec_module(script)
    finally:
        del sys.modules[spec.name]
    assert script.render_jsonl(script.build_cases()) == CASES_FILE.read_text()


def test_every_kind_has_at_least_its_minimum(cases):
    assert len(cases) >= 300
    counts = defaultdict(int)
    for c in cases:
        counts[c["kind"]] += 1
    assert set(counts) == set(MINIMUM_PER_KIND)
    short = {kind: counts[kind] for kind, minimum in MINIMUM_PER_KIND.items() if counts[kind] < minimum}
    assert not short


def test_cases_have_the_documented_shape(cases):
    assert [c["case_id"] for c in cases] == [f"r{i:04d}" for i in range(1, len(cases) + 1)]
    for c in cases:
        assert list(c) == KEYS, c["case_id"]
        assert c["PostalCode"][:5] in SAMPLE_ZIPS
        assert re.fullmatch(r"\d{5}-\d{4}" if c["kind"] == "zip_plus4" else r"\d{5}(-\d{4})?", c["PostalCode"])
        assert (c["ParcelNumber"] is not None) == (c["kind"] == "apn_punctuated")
        if c["expected"] == "match":
            assert c["expected_parcel"] and c["candidates"] == []
        elif c["expected"] == "none":
            assert c["expected_parcel"] is None and c["candidates"] == []
        else:
            assert c["expected"] == "ambiguous" and c["kind"] == "ambiguous" and c["expected_parcel"] is None
    addresses = [(c["UnparsedAddress"], c["City"], c["PostalCode"], c["ParcelNumber"]) for c in cases]
    assert len(set(addresses)) == len(addresses)


def test_an_expected_parcel_is_a_kept_parcel_of_the_zip_and_the_only_one_the_address_fits(cases, rows_by_zip):
    for c in (c for c in cases if c["expected"] == "match"):
        rows = rows_by_zip[c["PostalCode"][:5]]
        parcel = next((r for r in rows if r["apn"] == c["expected_parcel"]), None)
        assert parcel is not None and parcel["kept"], c
        written = split_listing(c["UnparsedAddress"])
        assert written["number"] == parcel["number"], c
        if c["ParcelNumber"] is not None:
            assert re.sub(r"\D", "", c["ParcelNumber"]) == c["expected_parcel"], c
            continue
        if written["name"] != parcel["name"]:  # a misspelt street: one of the typo kinds
            assert c["kind"] in ("street_typo", "combined"), c
            assert edit_distance(written["name"], parcel["name"]) <= 2, c
            others = {r["name"] for r in rows} - {parcel["name"]}
            assert all(edit_distance(written["name"], other) >= 2 for other in others), c
            written = written | {"name": parcel["name"]}
        assert parcels_fitting(rows, written) == [c["expected_parcel"]], c
        same_spot = [r for r in rows if (r["number"], r["name"]) == (parcel["number"], parcel["name"])]
        if written["suffix"] is None or written["predir"] is None:  # unique without the part left out
            assert len(same_spot) == 1, c


def test_house_number_absent_is_a_real_street_without_that_number(cases, rows_by_zip):
    for c in (c for c in cases if c["kind"] == "house_number_absent"):
        rows = rows_by_zip[c["PostalCode"][:5]]
        written = split_listing(c["UnparsedAddress"])
        assert any(r["name"] == written["name"] and r["suffix"] == written["suffix"] for r in rows), c
        assert not any((r["number"], r["name"]) == (written["number"], written["name"]) for r in rows), c


def test_other_zip_street_exists_only_in_another_sample_zip(cases, rows_by_zip):
    for c in (c for c in cases if c["kind"] == "other_zip_street"):
        zip_code = c["PostalCode"][:5]
        written = split_listing(c["UnparsedAddress"])
        here = rows_by_zip[zip_code]
        assert not any((r["number"], r["name"]) == (written["number"], written["name"]) for r in here), c
        elsewhere = [z for z in SAMPLE_ZIPS if z != zip_code and parcels_fitting(rows_by_zip[z], written)]
        assert elsewhere, c


def test_conflicting_suffix_names_a_real_parcel_with_a_suffix_it_does_not_have(cases, rows_by_zip):
    for c in (c for c in cases if c["kind"] == "conflicting_suffix"):
        rows = rows_by_zip[c["PostalCode"][:5]]
        written = split_listing(c["UnparsedAddress"])
        assert written["suffix"] is not None, c
        at_number = [r for r in rows if (r["number"], r["name"]) == (written["number"], written["name"])]
        assert any(r["kept"] for r in at_number), c
        assert not any(r["suffix"] == written["suffix"] for r in at_number), c


def test_no_negative_fits_a_parcel(cases, rows_by_zip):
    for c in (c for c in cases if c["expected"] == "none"):
        assert parcels_fitting(rows_by_zip[c["PostalCode"][:5]], split_listing(c["UnparsedAddress"])) == [], c


def test_an_ambiguous_case_fits_every_candidate_and_nothing_else(cases, rows_by_zip):
    for c in (c for c in cases if c["expected"] == "ambiguous"):
        fitting = parcels_fitting(rows_by_zip[c["PostalCode"][:5]], split_listing(c["UnparsedAddress"]))
        assert len(fitting) >= 2 and fitting == c["candidates"], c
