"""Staging for the county assessor's search rows and parcel details (Maricopa contract)."""

from __future__ import annotations

import json
import re
import zlib
from datetime import date, datetime, timedelta

import polars as pl

from phoenix_dagster.schemas import conform, polars_schema
from phoenix_dagster.schemas.staging import StgAssessorParcels, StgAssessorSearchResults
from phoenix_dagster.sources.assessor_crawl import search_page_rows
from phoenix_dagster.sources.json_reply import json_kind
from phoenix_dagster.transforms.addresses import normalize_apn
from phoenix_dagster.transforms.casting import parse_text_columns
from phoenix_dagster.transforms.payloads import SHAPE, decoded_rejects, flatten_list_elements, shape_problems
from phoenix_dagster.transforms.privacy import owner_type

SEARCH_ROW_FIELDS = {
    "APN": "APN",
    "SitusAddress": "SitusAddress",
    "SitusCity": "SitusCity",
    "SitusZip": "SitusZip",
    "PropertyType": "PropertyType",
    "SubdivisonName": "SubdivisonName",
}

# Where each staged column lives in a /parcel/{apn} body (JSONPath), read as text.
PARCEL_FIELDS = {
    "APN": "$.APN",
    "PropertyAddress": "$.PropertyAddress",
    "assessor_property_type": "$.PropertyType",
    "PropertyUseCode": "$.PropertyUseCode",
    "SubdivisionName": "$.SubdivisionName",
    "LotSizeSquareFeet": "$.LotSize",
    "LivingArea": "$.ResidentialPropertyData.LivableSpace",
    "YearBuilt": "$.ResidentialPropertyData.ConstructionYear",
    "BathFixtures": "$.ResidentialPropertyData.BathFixtures",
    "StoriesTotal": "$.ResidentialPropertyData.Stories",
    "PoolArea": "$.ResidentialPropertyData.Pool",
    "GarageSpaces": "$.ResidentialPropertyData.NumberOfGarages",
    "CarportSpaces": "$.ResidentialPropertyData.NumberOfCarports",
    "Latitude": "$.Geo.lat",
    "Longitude": "$.Geo.long",
    "LastSalePrice": "$.Owner.SalePrice",
    "LastSaleDate": "$.Owner.SaleDate",
    "Ownership": "$.Owner.Ownership",  # read only to derive OwnerType; the name is not staged
    "Valuations": "$.Valuations",
}
VALUATION = pl.List(pl.Struct({"TaxYear": pl.String, "FullCashValue": pl.String}))


def _parcel_shape() -> dict[str, tuple[str, ...]]:
    """PARCEL_FIELDS as the shape a detail body must have: each top-level key staging reads, with
    the keys read inside it (an object), or () for a value read as it is."""
    shape: dict[str, tuple[str, ...]] = {}
    for path in PARCEL_FIELDS.values():
        top, *inner = path.removeprefix("$.").split(".")
        shape[top] = (*shape.get(top, ()), *inner)
    return shape


PARCEL_SHAPE = _parcel_shape()
PARCEL_ARRAYS = {"Valuations": ("TaxYear", "FullCashValue")}  # arrays of objects, and the values read in each


def parcel_shape_problems(text: str) -> str | None:
    """What in a parcel detail is not where staging reads it: an object where a value belongs, a
    value or array where an object belongs (`"Geo": "33.5,-112.2"`); read as text, each would be a
    silent null or garbage in the parcel's new latest version. None when the shape is right."""
    document = json.loads(text)  # read within MAX_JSON_DEPTH at the decoding boundary
    if not isinstance(document, dict):
        return None  # _parcel_shaped rejects it as not an object
    problems = []
    for top, inner in PARCEL_SHAPE.items():
        value = document.get(top)
        if value is None:
            continue
        if top in PARCEL_ARRAYS:
            if not isinstance(value, list):
                problems.append(f"{top} is {json_kind(value)}, expected an array of objects")
                continue
            problems += [
                f"{top}[{index}].{problem}"
                for index, item in enumerate(value)
                if isinstance(item, dict)
                for problem in shape_problems(item, PARCEL_ARRAYS[top])
            ]
        elif inner:
            if not isinstance(value, dict):
                problems.append(f"{top} is {json_kind(value)}, expected an object with {', '.join(inner)}")
                continue
            problems += [f"{top}.{problem}" for problem in shape_problems(value, inner)]
        elif isinstance(value, (dict, list)):
            problems.append(f"{top} is {json_kind(value)}, expected a value")
    return "; ".join(problems) or None


def _search_rows(pages: pl.DataFrame) -> pl.DataFrame:
    """One row per element of Results, every field as text (an element that is not an object,
    such as null, has every field null: staging rejects it for its missing APN)."""
    row = pl.Struct(dict.fromkeys([*SEARCH_ROW_FIELDS, SHAPE], pl.String))
    read = frozenset(SEARCH_ROW_FIELDS)
    return (
        pages.with_columns(
            pl.col("text")
            .map_elements(lambda text: flatten_list_elements(text, "Results", read), return_dtype=pl.String)
            .str.json_decode(pl.Struct({"Results": pl.List(row)}))
            .struct.field("Results")
            .alias("row"),
            pl.col("record_key").str.extract(r"page=(\d+)").cast(pl.Int32).alias("search_page"),
        )
        .filter(pl.col("row").list.len() > 0)  # a page without rows would explode to one empty row
        .explode("row")
        .with_columns(
            pl.col("row").fill_null(pl.struct([pl.lit(None, pl.String).alias(n) for n in [*SEARCH_ROW_FIELDS, SHAPE]]))
        )
        .unnest("row")
    )


def stage_search_results(pages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Decoded search pages → (stg_assessor__search_results, rejected rows). A page that is not the
    contract's — a `Results` array and a `TOTAL` of rows — is rejected whole, as the crawl judged it
    (`search_page_rows`): it is not "no rows", and a page 1 the crawl could not enumerate by does
    not stage part of the ZIP."""
    is_page = pl.col("text").map_elements(
        lambda text: search_page_rows(200, text)[0] is not None, return_dtype=pl.Boolean
    )
    pages = pages.with_columns(is_page.alias("_is_page"))
    not_pages = decoded_rejects(
        pages.filter(~pl.col("_is_page")), pl.lit("not a search page: no `Results` array with a `TOTAL` of rows")
    )
    pages = pages.filter(pl.col("_is_page")).drop("_is_page")
    rows = _search_rows(pages).with_columns(normalize_apn(pl.col("APN")).alias("ParcelNumber"))
    problem = (
        pl.when(pl.col(SHAPE).is_not_null())
        .then(pl.format("search row is not the contract's shape: {}", pl.col(SHAPE)))
        .when(pl.col("ParcelNumber").is_null())
        .then(pl.format("search row has no usable APN ({})", pl.col("APN").fill_null("missing")))
    )
    rows = rows.with_columns(problem.alias("_problem"))
    rejected = pl.concat(
        [
            not_pages,
            rows.filter(pl.col("_problem").is_not_null()).select(
                "source",
                pl.col("APN").alias("record_key"),
                pl.col("_problem").alias("reason"),
                pl.struct(list(SEARCH_ROW_FIELDS)).struct.json_encode().alias("raw_record"),
                pl.col("sha256").alias("payload_sha256"),
                pl.lit(None, pl.Int64).alias("raw_bytes"),
            ),
        ]
    )
    rows = rows.filter(pl.col("_problem").is_null())
    staged = rows.filter(pl.col("ParcelNumber").is_not_null()).select(
        "ParcelNumber",
        pl.col("SitusAddress").str.strip_chars().str.replace_all(r"\s+", " ").alias("UnparsedAddress"),
        pl.col("SitusCity").str.strip_chars().str.to_uppercase().alias("City"),
        pl.col("SitusZip").str.strip_chars().alias("PostalCode"),
        pl.col("PropertyType").str.strip_chars().str.to_uppercase().alias("assessor_property_type"),
        pl.col("SubdivisonName").str.strip_chars().str.replace_all(r"\s+", " ").alias("SubdivisionName"),
        "search_page",
        "source",
        "fetched_at",
    )
    return conform(staged, StgAssessorSearchResults), rejected


def stage_parcels(details: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Decoded /parcel/{apn} bodies → (stg_assessor__parcels, rejected rows).

    Numbers arrive as strings or numbers, dates as MM/DD/YYYY, Pool as an area; blanks
    are nulls; a value that does not parse rejects the row with the field named. A reply that
    is not a parcel — an `{"Error": …}` object, an array, no APN, or another parcel's APN — is
    rejected whole: it must not become the parcel's latest version, and it is fetched again.
    """
    details, not_parcels = _parcel_shaped(details)
    fields = details.with_columns(
        [pl.col("text").str.json_path_match(path).alias(name) for name, path in PARCEL_FIELDS.items()]
    )
    schema = polars_schema(StgAssessorParcels)
    typed = {name: schema[name] for name in PARCEL_FIELDS if name in schema and schema[name] != pl.String}
    parsed, bad = parse_text_columns(fields, typed)
    parsed = parsed.with_columns(pl.col("Valuations").map_elements(_valuations, return_dtype=pl.String))
    odd = parsed.filter(pl.col("Valuations").str.starts_with("!"))  # an element that is not a valuation
    bad = (
        pl.concat(
            [bad, odd.with_columns(pl.col("Valuations").str.slice(1).alias("reason")).select(bad.columns)],
            how="vertical_relaxed",
        )
        if odd.height
        else bad
    )
    parsed = parsed.filter(~pl.col("Valuations").str.starts_with("!").fill_null(False))
    latest_value = (
        pl.when(pl.col("Valuations").str.starts_with("["))
        .then(pl.col("Valuations"))
        .otherwise(None)
        .str.json_decode(VALUATION)
        .list.eval(pl.element().sort_by(pl.element().struct.field("TaxYear"), descending=True))
        .list.first()
    )
    staged = parsed.with_columns(
        normalize_apn(pl.coalesce("APN", "record_key")).alias("ParcelNumber"),
        pl.col("PropertyAddress")
        .str.extract(r"^(.*?\S)(?:\s{2,}|,)")
        .fill_null(pl.col("PropertyAddress"))
        .str.strip_chars()
        .str.replace_all(r"\s+", " ")
        .alias("UnparsedAddress"),
        pl.col("PropertyAddress").str.extract(r"(\d{5})(?:-\d{4})?\s*$").alias("PostalCode"),
        pl.col("assessor_property_type").str.strip_chars().str.to_uppercase(),
        latest_value.struct.field("TaxYear").cast(pl.Int32, strict=False).alias("TaxYear"),
        latest_value.struct.field("FullCashValue").cast(pl.Float64, strict=False).alias("FullCashValue"),
        pl.col("sha256").alias("payload_sha256"),
        owner_type(pl.col("Ownership")).alias("OwnerType"),
    )
    rejected = decoded_rejects(bad, pl.col("reason"))
    return conform(staged.drop_nulls("ParcelNumber"), StgAssessorParcels), pl.concat([not_parcels, rejected])


def _valuations(text: str | None) -> str | None:
    """The Valuations array with every value as text; "!<reason>" when an element is not an object."""
    if text is None or not text.startswith("["):
        return text
    items = json.loads(text)
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            return f"!Valuations element {index} is a {type(item).__name__}, not a valuation"
    return json.dumps([{k: (None if v is None else str(v)) for k, v in item.items()} for item in items])


def _parcel_shaped(details: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(replies that are a parcel object with the requested APN, the others as rejects)."""
    apn = normalize_apn(pl.col("text").str.json_path_match("$.APN"))
    field_names = pl.col("text").str.extract_all(r'"\w+"\s*:').list.eval(pl.element().str.extract(r'"(\w+)"'))
    is_object = pl.col("text").str.strip_chars_start().str.starts_with("{")
    shape = pl.col("text").map_elements(parcel_shape_problems, return_dtype=pl.String)
    reason = (
        pl.when(~is_object)
        .then(pl.lit("parcel reply is not a JSON object"))
        .when(apn.is_null())
        .then(pl.lit("parcel reply has no APN (not a parcel); its fields: ") + field_names.list.head(8).list.join(", "))
        .when(apn != normalize_apn(pl.col("record_key")))
        .then(pl.lit("parcel reply is for APN ") + apn + pl.lit(", not the one requested"))
        .when(shape.is_not_null())
        .then(pl.lit("parcel reply is not the contract's shape: ") + shape)
        .otherwise(None)
    )
    judged = details.with_columns(reason.alias("reason"))
    rejects = decoded_rejects(judged.filter(pl.col("reason").is_not_null()), pl.col("reason"))
    return judged.filter(pl.col("reason").is_null()).drop("reason"), rejects


def refresh_day(apn: str, refresh_days: int) -> int:
    """The parcel's own day of every refresh window, 0 … refresh_days − 1: a stable hash of its
    APN (punctuation and case ignored, so '103-06-005' and '10306005' agree), the same in every
    process and release."""
    return zlib.crc32(re.sub(r"[\s.\-]", "", apn).upper().encode()) % refresh_days


def is_refresh_day(apn: str, day: date, refresh_days: int) -> bool:
    """Whether `day` is the parcel's day of its refresh window (days counted from 0001-01-01)."""
    return refresh_days >= 1 and day.toordinal() % refresh_days == refresh_day(apn, refresh_days)


def parcels_to_fetch(
    wanted: list[str],
    fetch_history: pl.DataFrame | None,
    version_history: pl.DataFrame | None,
    *,
    as_of: datetime,
    refresh_days: int,
    full_refresh: bool = False,
) -> list[str]:
    """The wanted APNs that need a detail request: every one on a full refresh; else those never
    fetched successfully, those whose last good fetch is `refresh_days` old or more, and those
    whose refresh day it is. Every parcel has its own day in each window of `refresh_days`
    (`refresh_day`), so a ZIP's details are refreshed ~1/refresh_days a day instead of all on
    the day they fell due together (the parcels first fetched on one day would otherwise fall due
    together again every window, a day's rate limit many times over for a real ZIP).

    `fetch_history`: earlier parcel requests (record_key, day — their partition day —, and
    http_status, fetched_at, sha256; a request that got no reply has no status, time or hash,
    and a history of only such requests may lack those columns). `version_history`: earlier staged parcels (ParcelNumber, payload_sha256). A fetch was
    successful when its body became a staged version, or the county said there is no such
    parcel (404); a parcel whose latest request was malformed, failed or got no reply is asked
    again by the next run.
    """
    if full_refresh or fetch_history is None:
        return list(wanted)
    fetch_history = fetch_history.with_columns(  # a history of requests that got no reply has no such columns
        pl.lit(None, dtype).alias(name)
        for name, dtype in (("http_status", pl.Int32), ("fetched_at", pl.Datetime("us", "UTC")), ("sha256", pl.String))
        if name not in fetch_history.columns
    )
    versions = (
        version_history
        if version_history is not None
        else pl.DataFrame(schema={"ParcelNumber": pl.String, "payload_sha256": pl.String})
    )
    staged = fetch_history.with_columns(normalize_apn(pl.col("record_key")).alias("ParcelNumber")).join(
        versions.select("ParcelNumber", pl.col("payload_sha256").alias("sha256")),
        on=["ParcelNumber", "sha256"],
        how="semi",
    )
    good = pl.concat(
        [
            staged.select("record_key", "fetched_at"),
            fetch_history.filter(pl.col("http_status") == 404).select("record_key", "fetched_at"),
        ]
    )
    # Only a parcel whose *latest* request was good and recent can wait: a bad reply or none after
    # a good one (an error object, another parcel, a timeout) is fetched again, not trusted for
    # refresh_days. Latest by partition day, then time; on its day, no reply (no time) comes last.
    latest = (
        fetch_history.sort(["day", "fetched_at"], nulls_last=True, maintain_order=True).group_by("record_key").last()
    )
    fresh = latest.join(good, on=["record_key", "fetched_at"], how="semi").filter(
        pl.col("fetched_at") > as_of - timedelta(days=refresh_days)
    )
    recent = set(fresh["record_key"].to_list())
    day = as_of.date()
    return [apn for apn in wanted if apn not in recent or is_refresh_day(apn, day, refresh_days)]


def new_versions(staged: pl.DataFrame, version_history: pl.DataFrame | None) -> pl.DataFrame:
    """Only parcels whose payload differs from the latest earlier version of the same parcel: an
    unchanged body does not create a new version downstream, and a body that went back to an
    older one (a sale recorded, then corrected) is the latest version again. The latest is the
    last by partition `day`, then `fetched_at`."""
    if version_history is None:
        return staged
    latest = version_history.sort(["day", "fetched_at"], maintain_order=True).group_by("ParcelNumber").last()
    return staged.join(
        latest.select("ParcelNumber", "payload_sha256"), on=["ParcelNumber", "payload_sha256"], how="anti"
    )
