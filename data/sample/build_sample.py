"""Build the embedded sample in data/sample/ (run once; outputs are committed).

    python data/sample/build_sample.py [--fixtures ../shared/fixtures/maricopa]

What is real and what is constructed is described in data/sample/README.md. The
construction is deterministic (fixed seed), so re-running it reproduces the same files.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20251123
ROWS_PER_PAGE = 25
PAGES_PER_ZIP = 12  # 300 search rows per ZIP

# Rough centre of each ZIP and the grid streets that run through it.
ZIP_GEO = {
    "85031": {
        "lat": 33.4950,
        "lon": -112.1695,
        "aves": range(51, 64),
        "house": (3700, 4899),
        "roads": [
            "W INDIANOLA AVE",
            "W CLARENDON AVE",
            "W TURNEY AVE",
            "W MONTEREY WAY",
            "W WHITTON AVE",
            "W HEATHERBRAE DR",
            "W GLENROSA AVE",
            "W MINNEZONA AVE",
        ],
    },
    "85033": {
        "lat": 33.4945,
        "lon": -112.2130,
        "aves": range(67, 84),
        "house": (3500, 5099),
        "roads": [
            "W HEATHERBRAE DR",
            "W GLENROSA AVE",
            "W MINNEZONA AVE",
            "W ELM ST",
            "W MONTEBELLO AVE",
            "W CAMPBELL AVE",
            "W HIGHLAND AVE",
            "W OSBORN RD",
        ],
    },
    "85035": {
        "lat": 33.4715,
        "lon": -112.1905,
        "aves": range(67, 84),
        "house": (1500, 2999),
        "roads": [
            "W PALM LN",
            "W GILES RD",
            "W WINDSOR AVE",
            "W VERNON AVE",
            "W COOLIDGE ST",
            "W ENCANTO BLVD",
            "W HOLLY ST",
            "W EARLL DR",
        ],
    },
}
SUBDIVISIONS = [
    "MARYVALE TERRACE 14",
    "MARYVALE PARKWAY TERRACE",
    "VILLA DE PAZ",
    "DESERT SANDS",
    "CARTWRIGHT ESTATES",
    "PALM BROOK",
    "SUNSET RIDGE UNIT 2",
    "ESTRELLA VISTA",
]
CONSTRUCTED_TYPES = (
    ["RESIDENTIAL"] * 78
    + ["VACANT LAND RESIDENTIAL"] * 5
    + ["COMMERCIAL"] * 8
    + ["VACANT LAND COMMERCIAL "] * 3
    + ["WAREHOUSE"] * 2
    + ["OTHER_ZIP"] * 4
)
RESIDENTIAL_TYPES = {"RESIDENTIAL", "VACANT LAND RESIDENTIAL"}
STATUSES = ["Active"] * 12 + ["Pending"] * 3 + ["ActiveUnderContract"] * 2 + ["Closed"] * 3
SPELLING_VARIANTS = {
    "N": "North",
    "W": "West",
    "AVE": "Avenue",
    "DR": "Drive",
    "RD": "Road",
    "LN": "Lane",
    "ST": "Street",
    "BLVD": "Boulevard",
    "WAY": "Way",
}


def constructed_search_row(rng: random.Random, zip_code: str, n: int) -> dict:
    geo = ZIP_GEO[zip_code]
    kind = rng.choice(CONSTRUCTED_TYPES)
    situs_zip = zip_code
    if kind == "OTHER_ZIP":  # a free-text hit whose situs lies in another ZIP
        situs_zip, kind = rng.choice(["85037", "85019", "85009"]), "RESIDENTIAL"
    if rng.random() < 0.5:
        address = f"{rng.randint(*geo['house'])} N {rng.choice(list(geo['aves']))}TH {rng.choice(['AVE', 'DR', 'LN'])}"
    else:
        address = (
            f"{rng.randint(5100, 8399) if zip_code == '85031' else rng.randint(6700, 8399)} {rng.choice(geo['roads'])}"
        )
    book = {"85031": "103", "85033": "102", "85035": "102"}[zip_code]
    low, high = {"85031": (10, 99), "85033": (10, 49), "85035": (50, 99)}[zip_code]  # APNs never repeat across ZIPs
    apn = f"{book}{rng.randint(low, high)}{n:03d}"
    if rng.random() < 0.08:
        apn += rng.choice("ABCDEF")
    sub = rng.choice(SUBDIVISIONS)
    return {
        "MCR": str(rng.randint(1000, 99999)),
        "SubdivisonName": sub,
        "SectionTownshipRange": rng.choice(["292N2E", "222N1E", "272N1E"]),
        "APN": apn,
        "Ownership": f"OWNER {zip_code}-{n + 1:02d} (redacted)",
        "SitusAddress": address,
        "SitusCity": "PHOENIX",
        "SitusZip": situs_zip,
        "PropertyType": kind,
        "RentalID": None,
    }


def parcel_detail(rng: random.Random, row: dict, geo: dict) -> dict:
    year = rng.choice([rng.randint(1954, 1972)] * 4 + [rng.randint(1973, 2006)])
    living = rng.randint(850, 2300)
    lot = rng.randint(5200, 9800)
    pool = str(rng.choice([0] * 4 + [rng.randint(300, 600)])) if rng.random() > 0.1 else ""
    vacant = row["PropertyType"] != "RESIDENTIAL"
    sale_year = rng.randint(1998, 2025)
    detail = {
        "APN": row["APN"],
        "PropertyAddress": f"{row['SitusAddress']}   {row['SitusCity']}  {row['SitusZip']}",
        "PropertyDescription": f"{row['SubdivisonName']} LOT {rng.randint(1, 600)}",
        "SubdivisionName": row["SubdivisonName"],
        "MCR": row["MCR"],
        "LotSize": str(lot),
        "IsResidential": not vacant,
        "IsRental": rng.random() < 0.2,
        "PropertyType": row["PropertyType"].strip(),
        "PropertyUseCode": "0013" if vacant else rng.choice(["0131", "0131", "0131", "0141"]),
        "TaxAreaCode": rng.choice(["010200", "010300", "100500"]),
        "LocalJusidiction": "PHOENIX",
        "ElementarySchoolDistrict": rng.choice(["CARTWRIGHT ELEMENTARY #83", "PENDERGAST ELEMENTARY #92"]),
        "HighSchoolDistrict": "PHOENIX UNION HIGH SCHOOL #210",
        "Geo": {
            "lat": f"{geo['lat'] + rng.uniform(-0.012, 0.012):.6f}",
            "long": f"{geo['lon'] + rng.uniform(-0.015, 0.015):.6f}",
        },
        "Owner": {
            "Ownership": row["Ownership"],
            "SalePrice": str(rng.randint(60, 340) * 1000),
            "SaleDate": f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{sale_year}",
            "DeedDate": f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{sale_year}",
            "DeedType": rng.choice(["WD", "SW", "JT"]),
            "MostCurrentDeed": str(rng.randint(10**9, 10**10)),
            "FullMailingAddress": "(redacted)",
        },
        "Valuations": [
            {
                "TaxYear": str(y),
                "FullCashValue": str(int(living * rng.uniform(140, 230) * (0.93 ** (2026 - y)))),
                "LimitedPropertyValue": str(int(living * 95 * (0.95 ** (2026 - y)))),
                "AssessedLPV": "",
                "AssessmentRatioPercentage": "10.0",
                "LegalClassification": "3" if not vacant else "2",
                "PEPropUseDesc": "Single Family Residence" if not vacant else "Vacant Land Residential",
            }
            for y in range(2026, 2021, -1)
        ],
    }
    if not vacant:
        garages = rng.choice([0, 0, 1, 2, 2])
        detail["ResidentialPropertyData"] = {
            "ConstructionYear": str(year),
            "OriginalConstructionYear": str(year),
            "LivableSpace": str(living) if rng.random() > 0.5 else living,  # numbers arrive both ways
            "LotSize": str(lot),
            "BathFixtures": str(rng.choice([3, 5, 6, 6, 7, 8, 9])),
            "Stories": "1" if rng.random() < 0.9 else "2",
            "Pool": pool,
            "NumberOfGarages": str(garages),
            "NumberOfCarports": str(0 if garages else rng.choice([0, 1, 2])),
            "CoveredParking": rng.choice(["GARAGE", "CARPORT", ""]),
            "ParkingType": "",
            "Cooling": rng.choice(["REFRIGERATION", "EVAPORATIVE", "BOTH"]),
            "Heating": "YES",
            "ExteriorWalls": rng.choice(["BLOCK", "FRAME STUCCO", "BRICK"]),
            "RoofType": rng.choice(["ASPHALT SHINGLE", "BUILT-UP", "TILE"]),
            "ImprovementQualityGrade": rng.choice(["AVERAGE", "FAIR", "GOOD"]),
            "PhysicalCondition": rng.choice(["AVERAGE", "GOOD", "FAIR"]),
        }
        if rng.random() < 0.04:  # realistic dirt: missing structural facts
            detail["ResidentialPropertyData"].pop("LivableSpace")
            detail["ResidentialPropertyData"]["ConstructionYear"] = ""
    return detail


def spelled_out(address: str) -> str:
    words = []
    for word in address.split():
        if word[:-2].isdigit() and word[-2:] in {"TH", "ST", "ND", "RD"}:
            words.append(word[:-2] + word[-2:].lower())
        else:
            words.append(SPELLING_VARIANTS.get(word, word.title()))
    return " ".join(words)


def dashed_apn(apn: str) -> str:
    return f"{apn[:3]}-{apn[3:5]}-{apn[5:]}"


def remarks(
    rng: random.Random,
    beds: int,
    baths: float,
    living: int,
    year: int,
    garage: int,
    pool: bool,
    hoa: int | None,
    remodel: int | None,
) -> str:
    bath_text = f"{baths:g}"
    opening = rng.choice(
        [
            f"Charming {beds} bed, {bath_text} bath home in established Maryvale.",
            f"Move-in ready {beds} bedroom / {bath_text} bathroom single-level home.",
            f"Welcome home! This {beds}BR {bath_text}BA block home sits on a quiet street.",
            f"Great investment opportunity: {beds} bedrooms, {bath_text} baths, {living:,} sq ft.",
            f"Spacious {beds} bed + den, {bath_text} bath floor plan with room to grow.",
        ]
    )
    parts = [opening]
    if "sq ft" not in opening:
        parts.append(
            rng.choice(
                [
                    f"Approx. {living:,} sq ft of living space.",
                    f"{living:,} SF per county records.",
                    f"Offering {living:,} square feet.",
                ]
            )
        )
    parts.append(rng.choice([f"Built in {year}.", f"Solid {year} construction.", f"Year built: {year}."]))
    if remodel:
        parts.append(
            rng.choice(
                [
                    f"Fully remodeled in {remodel} with new kitchen, quartz counters and LVP flooring.",
                    f"Updated {remodel}: new roof, dual-pane windows and fresh paint.",
                ]
            )
        )
    if garage:
        parts.append(
            f"{garage}-car garage."
            if rng.random() < 0.7
            else f"{'Two' if garage == 2 else 'One'} car garage with storage."
        )
    else:
        parts.append(rng.choice(["Covered carport parking.", "Long driveway with RV gate."]))
    if pool:
        parts.append(rng.choice(["Sparkling private pool in the backyard!", "Backyard oasis with diving pool."]))
    else:
        parts.append(
            rng.choice(
                [
                    "Huge pool-sized lot, no pool yet.",
                    "Low-maintenance desert landscaping.",
                    "Grassy backyard with mature citrus trees.",
                ]
            )
        )
    parts.append("No HOA!" if hoa is None else f"HOA ${hoa}/month covers common areas.")
    return " ".join(parts)


def listing(rng: random.Random, zip_code: str, n: int, row: dict, detail: dict | None) -> dict:
    data = (detail or {}).get("ResidentialPropertyData", {})
    living = int(data.get("LivableSpace") or rng.randint(900, 2100))
    year = int(data.get("ConstructionYear") or rng.randint(1955, 1975))
    beds = max(2, min(6, round(living / 450)))
    baths = rng.choice([1, 1.5, 2, 2, 2.5, 3]) if living > 1100 else rng.choice([1, 1.5])
    garage = int(data.get("NumberOfGarages") or 0)
    pool = bool(data.get("Pool") and data.get("Pool") != "0")
    hoa = rng.choice([None] * 6 + [45, 60, 95])
    remodel = rng.choice([None, None, rng.randint(2015, 2025)])
    price = int(living * rng.uniform(215, 305) / 1000) * 1000
    status = rng.choice(STATUSES)
    original = price + rng.choice([0, 0, 0, 5000, 10000, 15000])
    address = row["SitusAddress"]
    record = {
        "ListingKey": f"SMPL{zip_code}{n:04d}",
        "ListingId": str(6_700_000 + int(zip_code[-2:]) * 1000 + n),
        "StandardStatus": status,
        "MlsStatus": status,
        "ListPrice": price,
        "OriginalListPrice": original,
        "ClosePrice": price - rng.randint(0, 8) * 1000 if status == "Closed" else None,
        "CloseDate": f"2026-{rng.randint(8, 11):02d}-{rng.randint(1, 27):02d}" if status == "Closed" else None,
        "ListingContractDate": f"2026-{rng.randint(6, 11):02d}-{rng.randint(1, 27):02d}",
        "DaysOnMarket": rng.randint(2, 120),
        "UnparsedAddress": spelled_out(address) if rng.random() < 0.3 else address.title(),
        "City": "Phoenix",
        "StateOrProvince": "AZ",
        "PostalCode": zip_code,
        "ParcelNumber": dashed_apn(row["APN"]) if rng.random() < 0.6 else None,
        "PropertyType": "Residential",
        "PropertySubType": "SingleFamilyResidence",
        "BedroomsTotal": beds if rng.random() > 0.2 else None,
        "BathroomsTotalInteger": int(baths + 0.5) if rng.random() > 0.2 else None,
        "BathroomsFull": int(baths),
        "BathroomsHalf": 1 if baths % 1 else 0,
        "LivingArea": living if rng.random() > 0.15 else None,
        "YearBuilt": year if rng.random() > 0.15 else None,
        "LotSizeSquareFeet": int(detail["LotSize"]) if detail else None,
        "GarageSpaces": garage,
        "PoolPrivateYN": pool,
        "AssociationYN": hoa is not None,
        "AssociationFee": hoa,
        "Latitude": float(detail["Geo"]["lat"]) if detail else None,
        "Longitude": float(detail["Geo"]["long"]) if detail else None,
        "PublicRemarks": remarks(rng, beds, baths, living, year, garage, pool, hoa, remodel),
        "ModificationTimestamp": f"2026-11-{rng.randint(1, 26):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
        "OriginatingSystemName": "Embedded sample (constructed)",
    }
    return record


def build(fixtures: Path) -> None:
    rng = random.Random(SEED)
    for zip_code, geo in ZIP_GEO.items():
        real = json.loads((fixtures / f"search_property_q{zip_code}_page1.json").read_text())
        rows = list(real["Results"])
        rows += [constructed_search_row(rng, zip_code, n) for n in range(len(rows), ROWS_PER_PAGE * PAGES_PER_ZIP)]
        # Paging shift: the last row of page 5 shows up again at the top of page 6.
        rows.insert(5 * ROWS_PER_PAGE, rows[5 * ROWS_PER_PAGE - 1])
        rows = rows[: ROWS_PER_PAGE * PAGES_PER_ZIP]
        search_dir = HERE / "assessor" / "search"
        search_dir.mkdir(parents=True, exist_ok=True)
        for page in range(PAGES_PER_ZIP):
            body = {"TOTAL": len(rows), "Results": rows[page * ROWS_PER_PAGE : (page + 1) * ROWS_PER_PAGE]}
            (search_dir / f"q{zip_code}_page{page + 1:03d}.json").write_text(json.dumps(body, indent=1) + "\n")

        wanted = []
        seen = set()
        for row in rows:
            if row["SitusZip"] == zip_code and row["PropertyType"] in RESIDENTIAL_TYPES and row["APN"] not in seen:
                seen.add(row["APN"])
                wanted.append(row)
        details = {}
        replay = []
        for i, row in enumerate(wanted):
            if i == 17:  # the county has no such parcel
                replay.append(
                    {"path": f"/parcel/{row['APN']}", "status": 404, "body": "[parcel]:Requested content was not found"}
                )
                continue
            detail = parcel_detail(rng, row, geo)
            body = json.dumps(detail)
            if i == 29:  # a truncated reply: the connection dropped mid-body
                body = body[: len(body) // 2]
            else:
                details[row["APN"]] = detail
            replay.append({"path": f"/parcel/{row['APN']}", "status": 200, "body": body})
        parcels_dir = HERE / "assessor" / "parcels"
        parcels_dir.mkdir(parents=True, exist_ok=True)
        (parcels_dir / f"{zip_code}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in replay))

        listed = [row for row in wanted if row["PropertyType"] == "RESIDENTIAL" and row["APN"] in details]
        listed = rng.sample(listed, k=min(72, len(listed)))
        records = [listing(rng, zip_code, n, row, details.get(row["APN"])) for n, row in enumerate(listed)]
        # Two listings the assessor never saw (new construction on a split lot).
        for n in range(2):
            ghost = {"SitusAddress": f"{8400 + n * 12} W NEW CONSTRUCTION WAY", "APN": "000000000"}
            record = listing(rng, zip_code, len(records), ghost, None)
            record["ParcelNumber"] = None
            records.append(record)
        records.append(dict(records[3]))  # the feed repeats a listing
        broken = dict(records[7])  # a record with no key and an unparseable price
        broken["ListingKey"] = None
        broken["ListPrice"] = "Call for price"
        records.append(broken)
        listings_dir = HERE / "listings"
        listings_dir.mkdir(parents=True, exist_ok=True)
        page = {"@odata.context": "$metadata#Property", "@odata.count": len(records), "value": records}
        (listings_dir / f"{zip_code}.json").write_text(json.dumps(page, indent=1) + "\n")
        print(f"{zip_code}: {len(rows)} search rows, {len(replay)} parcel replies, {len(records)} listings")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fixtures", type=Path, default=HERE.parents[2] / "shared" / "fixtures" / "maricopa")
    build(parser.parse_args().fixtures)
