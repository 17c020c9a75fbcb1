"""Build the labelled address-resolution evaluation set, ``tests/eval/resolution_cases.jsonl``.

Each case is what a listing site would send (an ``UnparsedAddress``, a ``City``, a
``PostalCode`` and sometimes a ``ParcelNumber``) together with the answer: the assessor parcel
it belongs to (``expected: "match"``), no parcel at all (``"none"``), or several parcels that
fit equally well (``"ambiguous"``, with their APNs in ``candidates``).

The cases are variations of the embedded sample's county search rows
(``data/sample/assessor/search/q<ZIP>_page<NNN>.json``). A row belongs to the ZIP in its
``SitusZip``; a repeated row (the paging shift) is counted once; only RESIDENTIAL and VACANT
LAND RESIDENTIAL rows become parcels, but every row counts when deciding whether an address is
unique. County addresses are parsed here with one regular expression, on purpose: the set must
not depend on the resolver it scores.

Run ``python tests/eval/build_resolution_set.py``: fixed seed, byte-identical output on re-run.
It prints the number of cases of each kind.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from rapidfuzz.distance.Levenshtein import distance as edit_distance  # the resolver's library, not the resolver

ROOT = Path(__file__).resolve().parents[2]
SEARCH_DIR = ROOT / "data" / "sample" / "assessor" / "search"
OUTPUT = Path(__file__).resolve().parent / "resolution_cases.jsonl"

SEED = 20260814
SAMPLE_ZIPS = ("85031", "85033", "85035")
KEPT_TYPES = frozenset({"RESIDENTIAL", "VACANT LAND RESIDENTIAL"})

# How many cases of each kind, in the order they are written: each at or above the kind's
# minimum. The cases of a kind go round the three ZIPs in turn (multiples of 3 split evenly),
# except the ambiguous ones, which are wherever the sample's collisions are.
KIND_COUNTS = {
    "exact": 21,
    "suffix_missing": 27,
    "suffix_spelled": 27,
    "directional_spelled": 21,
    "directional_missing": 21,
    "case_spacing_punctuation": 21,
    "ordinal_case": 15,
    "zip_plus4": 21,
    "unit_designator": 21,
    "city_variant": 21,
    "apn_punctuated": 21,
    "street_typo": 21,
    "combined": 24,
    "house_number_absent": 21,
    "other_zip_street": 15,
    "conflicting_suffix": 21,
    "ambiguous": 8,
}

COUNTY_ADDRESS = re.compile(
    r"^(?P<number>\d+)"
    r"(?: (?P<predir>[NSEW]))?"
    r" (?P<name>.+?)"
    r"(?: (?P<suffix>AVE|DR|ST|RD|LN|PL|CT|BLVD|WAY|CIR|TER))?"
    r"(?: (?P<postdir>[NSEW]))?"
    r"(?: (?P<unit>\w+))?$"
)
ORDINAL = re.compile(r"^\d+(ST|ND|RD|TH)$")

SUFFIX_SPELLINGS = {
    "AVE": ["Avenue", "Ave.", "Av", "Av.", "AVENUE"],
    "DR": ["Drive", "Dr.", "Drv", "DRIVE"],
    "ST": ["Street", "St.", "Str", "STREET"],
    "RD": ["Road", "Rd.", "ROAD"],
    "LN": ["Lane", "Ln.", "LANE"],
    "WAY": ["Wy", "Way.", "WAY."],
    "BLVD": ["Boulevard", "Blvd.", "Boul", "BOULEVARD"],
}
DIRECTIONAL_WORDS = {"N": "North", "S": "South", "E": "East", "W": "West"}
CITY_VARIANTS = ["Maryvale", "PHX", "Phx", "Phoenix AZ", "Phoenix, AZ", "PHOENIX, ARIZONA", "phoenix", ""]
UNIT_DESIGNATORS = ["# 1", "#2", "Unit 2", "Unit B", "Apt B", "Apt 1", "#A"]
CONFLICTING_SUFFIXES = ["AVE", "DR", "LN", "ST", "RD"]


# --- the county's rows ------------------------------------------------------------------------


@dataclass(frozen=True)
class CountyAddress:
    number: str
    predir: str
    name: str
    suffix: str
    unit: str

    @property
    def is_ordinal(self) -> bool:
        return bool(ORDINAL.match(self.name))


@dataclass(frozen=True)
class SearchRow:
    apn: str
    zip: str
    property_type: str
    address: CountyAddress

    @property
    def is_parcel(self) -> bool:
        return self.property_type in KEPT_TYPES


def parse_county_address(text: str) -> CountyAddress:
    match = COUNTY_ADDRESS.match(" ".join(text.split()))
    if not match:
        raise ValueError(f"unparsed county address: {text!r}")
    parts = match.groupdict(default="")
    if parts["postdir"]:
        raise ValueError(f"post-directional not expected in the sample: {text!r}")
    return CountyAddress(parts["number"], parts["predir"], parts["name"], parts["suffix"], parts["unit"])


def load_search_rows(search_dir: Path = SEARCH_DIR) -> list[SearchRow]:
    """Every search row of every page, in file order, each APN once."""
    rows: dict[str, SearchRow] = {}
    for page in sorted(search_dir.glob("q*_page*.json")):
        for raw in json.loads(page.read_text())["Results"]:
            rows.setdefault(
                raw["APN"],
                SearchRow(raw["APN"], raw["SitusZip"], raw["PropertyType"], parse_county_address(raw["SitusAddress"])),
            )
    return list(rows.values())


class Sample:
    """The search rows of the sample's ZIPs, with the look-ups the case makers need."""

    def __init__(self, rows: list[SearchRow]):
        self.all_rows = rows
        self.rows = {z: [r for r in rows if r.zip == z] for z in SAMPLE_ZIPS}
        self.parcels = {z: [r for r in self.rows[z] if r.is_parcel] for z in SAMPLE_ZIPS}
        self.number_name_count = {
            z: Counter((r.address.number, r.address.name) for r in self.rows[z]) for z in SAMPLE_ZIPS
        }
        self.street_names = {z: sorted({r.address.name for r in self.rows[z]}) for z in SAMPLE_ZIPS}
        self.numbers_anywhere = defaultdict(set)  # street name -> house numbers, any ZIP, any row
        for row in rows:
            self.numbers_anywhere[row.address.name].add(row.address.number)

    def is_unique(self, parcel: SearchRow) -> bool:
        """No other search row of the ZIP (any type, any suffix) has this number on this street name."""
        return self.number_name_count[parcel.zip][(parcel.address.number, parcel.address.name)] == 1

    def suffixes_at(self, zip_code: str, number: str, name: str) -> set[str]:
        return {r.address.suffix for r in self.rows[zip_code] if (r.address.number, r.address.name) == (number, name)}

    def collisions(self) -> list[list[SearchRow]]:
        """Groups of two or more parcels of a ZIP with the same house number and street name."""
        groups = defaultdict(list)
        for zip_code in SAMPLE_ZIPS:
            for parcel in self.parcels[zip_code]:
                groups[(zip_code, parcel.address.number, parcel.address.name)].append(parcel)
        return [sorted(g, key=lambda p: p.apn) for _, g in sorted(groups.items()) if len(g) > 1]


# --- writing a listing ------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """A listing's address as written, part by part; ``render`` joins it."""

    number: str
    predir: str
    name: str
    suffix: str
    unit: str = ""
    city: str = "Phoenix"
    postal_code: str = ""
    parcel_number: str | None = None
    finish: Callable[[str], str] | None = None  # a last rewrite of the whole line (case, spacing)

    def render(self) -> str:
        line = " ".join(part for part in (self.number, self.predir, self.name, self.suffix) if part)
        if self.unit:
            line += self.unit
        return self.finish(line) if self.finish else line


def title_word(word: str) -> str:
    """'55TH' -> '55th', 'GLENROSA' -> 'Glenrosa', 'AVE' -> 'Ave'."""
    return word.lower() if word[:1].isdigit() else word.capitalize()


def title_case(text: str) -> str:
    return " ".join(title_word(w) for w in text.split(" "))


def county_listing(parcel: SearchRow, title: bool) -> Listing:
    """The parcel's county spelling, in capitals or title-cased."""
    a = parcel.address
    style = title_case if title else (lambda s: s)
    return Listing(a.number, a.predir, style(a.name), style(a.suffix), postal_code=parcel.zip)


def base_listing(parcel: SearchRow, rng: random.Random) -> Listing:
    return county_listing(parcel, title=rng.random() < 0.7)


# One function per variation. Each takes a listing of the parcel and returns it varied.


def drop_suffix(listing: Listing, parcel: SearchRow, rng: random.Random) -> Listing:
    return replace(listing, suffix="")


def spell_suffix(listing: Listing, parcel: SearchRow, rng: random.Random) -> Listing:
    return replace(listing, suffix=rng.choice(SUFFIX_SPELLINGS[parcel.address.suffix]))


def spell_directional(listing: Listing, parcel: SearchRow, rng: random.Random) -> Listing:
    word = DIRECTIONAL_WORDS[parcel.address.predir]
    return replace(listing, predir=rng.choice([word, word.upper(), word.lower(), parcel.address.predir + "."]))


def drop_directional(listing: Listing, parcel: SearchRow, rng: random.Random) -> Listing:
    return replace(listing, predir="")


def vary_ordinal_case(listing: Listing, parcel: SearchRow, rng: random.Random) -> Listing:
    name = parcel.address.name  # e.g. 55TH
    digits, letters = name[:-2], name[-2:]
    written = rng.choice([digits + letters.lower(), digits + letters.capitalize()])
    if written == listing.name:  # already written that way: take the other one
        written = digits + letters.capitalize() if written.endswith(letters.lower()) else digits + letters.lower()
    return replace(listing, name=written)


def add_zip_plus4(listing: Listing, parcel: SearchRow, rng: random.Random) -> Listing:
    return replace(listing, postal_code=f"{parcel.zip}-{rng.randrange(1000, 10000)}")


def add_unit(listing: Listing, parcel: SearchRow, rng: random.Random) -> Listing:
    separator = rng.choice([" ", ", "])
    return replace(listing, unit=separator + rng.choice(UNIT_DESIGNATORS))


def vary_city(listing: Listing, parcel: SearchRow, rng: random.Random) -> Listing:
    return replace(listing, city=rng.choice(CITY_VARIANTS))


def misspell_street(listing: Listing, parcel: SearchRow, rng: random.Random, sample: Sample) -> Listing:
    typo = street_typo(parcel.address.name, sample.street_names[parcel.zip], rng)
    return replace(listing, name=title_case(typo) if not listing.name.isupper() else typo)


SCRAMBLES: list[Callable[[str], str]] = [
    lambda s: s.lower(),
    lambda s: s.upper(),
    lambda s: s.replace(" ", "  ", 2),
    lambda s: s.replace(" ", ", ", 1),
    lambda s: s + ".",
    lambda s: s + ",",
    lambda s: " " + s + "  ",
    lambda s: "".join(c.lower() if i % 2 else c.upper() for i, c in enumerate(s)),
    lambda s: re.sub(r"(?<= )([NSEW]) ", r"\1. ", s),
]


def scramble_text(listing: Listing, parcel: SearchRow, rng: random.Random) -> Listing:
    """One or two of SCRAMBLES, drawn until the line reads differently from before."""
    before = listing.render()
    while True:
        first, second = rng.sample(range(len(SCRAMBLES)), 2)
        steps = [SCRAMBLES[first]] + ([SCRAMBLES[second]] if rng.random() < 0.5 else [])

        def finish(line: str, steps=steps) -> str:
            for step in steps:
                line = step(line)
            return line

        if finish(before) != before:
            return replace(listing, finish=finish)


def one_typo(word: str, rng: random.Random) -> str:
    """Drop, double, swap or replace one letter (never the first)."""
    position = rng.randrange(1, len(word) - 1)
    operation = rng.choice(["drop", "double", "swap", "vowel"])
    if operation == "drop":
        return word[:position] + word[position + 1 :]
    if operation == "double":
        return word[:position] + word[position] + word[position:]
    if operation == "swap":
        return word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    vowels = [i for i in range(1, len(word)) if word[i] in "AEIOU"]
    i = rng.choice(vowels)
    return word[:i] + rng.choice([v for v in "AEIOU" if v != word[i]]) + word[i + 1 :]


def street_typo(name: str, zip_street_names: list[str], rng: random.Random) -> str:
    """A one-edit misspelling of ``name`` (in its longest word) that is no other street of the ZIP
    and is at least two edits from every other one."""
    words = name.split(" ")
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    others = [s for s in zip_street_names if s != name]
    for _ in range(100):
        typo = " ".join(one_typo(w, rng) if i == longest else w for i, w in enumerate(words))
        if typo != name and edit_distance(typo, name) <= 2 and all(edit_distance(typo, s) >= 2 for s in others):
            return typo
    raise ValueError(f"no safe typo for {name}")


def format_apn(apn: str, rng: random.Random) -> str:
    separator = rng.choice(["-", "-", " ", "."])
    return separator.join((apn[:3], apn[3:5], apn[5:]))


# --- which parcels each kind may use ----------------------------------------------------------


def has_typo_able_name(parcel: SearchRow) -> bool:
    return not parcel.address.is_ordinal and max(len(w) for w in parcel.address.name.split()) >= 6


# Which parcels a kind can vary at all (a kind not listed can use any parcel).
ELIGIBLE: dict[str, Callable[[SearchRow], bool]] = {
    "suffix_spelled": lambda p: p.address.suffix in SUFFIX_SPELLINGS,
    "directional_spelled": lambda p: bool(p.address.predir),
    "directional_missing": lambda p: bool(p.address.predir),
    "ordinal_case": lambda p: p.address.is_ordinal,
    "unit_designator": lambda p: p.property_type == "RESIDENTIAL",
    "apn_punctuated": lambda p: p.apn.isdigit() and len(p.apn) == 8,
    "street_typo": has_typo_able_name,
    "suffix_missing": lambda p: bool(p.address.suffix),
}


def positive_listing(kind: str, parcel: SearchRow, rng: random.Random, sample: Sample) -> Listing:
    """The listing of one positive case of ``kind``."""
    if kind == "exact":
        listing = base_listing(parcel, rng)
        return replace(listing, city=rng.choice(["Phoenix", "PHOENIX"]))
    if kind == "ordinal_case":  # the county's capitals but for the ordinal, so only its case differs
        return vary_ordinal_case(county_listing(parcel, title=False), parcel, rng)
    listing = base_listing(parcel, rng)
    simple = {
        "suffix_missing": drop_suffix,
        "suffix_spelled": spell_suffix,
        "directional_spelled": spell_directional,
        "directional_missing": drop_directional,
        "case_spacing_punctuation": scramble_text,
        "zip_plus4": add_zip_plus4,
        "unit_designator": add_unit,
        "city_variant": vary_city,
    }
    if kind in simple:
        return simple[kind](listing, parcel, rng)
    if kind == "street_typo":
        return misspell_street(listing, parcel, rng, sample)
    if kind == "apn_punctuated":
        return apn_listing(listing, parcel, rng)
    if kind == "combined":
        return combined_listing(listing, parcel, rng, sample)
    raise KeyError(kind)


def apn_listing(listing: Listing, parcel: SearchRow, rng: random.Random) -> Listing:
    """The parcel number with punctuation, and the address as written or slightly off."""
    off = rng.choice([None, drop_suffix, drop_directional, spell_suffix, spell_directional])
    if off is spell_suffix and parcel.address.suffix not in SUFFIX_SPELLINGS:
        off = None
    if off is not None:
        listing = off(listing, parcel, rng)
    return replace(listing, parcel_number=format_apn(parcel.apn, rng))


# The variations ``combined`` draws two or three of, one per part of the address.
COMBINABLE = {
    "suffix": [("suffix_missing", drop_suffix), ("suffix_spelled", spell_suffix)],
    "directional": [("directional_spelled", spell_directional), ("directional_missing", drop_directional)],
    "name": [("ordinal_case", vary_ordinal_case), ("street_typo", misspell_street)],
    "postal": [("zip_plus4", add_zip_plus4)],
    "unit": [("unit_designator", add_unit)],
    "city": [("city_variant", vary_city)],
    "text": [("case_spacing_punctuation", scramble_text)],
}


def combined_listing(listing: Listing, parcel: SearchRow, rng: random.Random, sample: Sample) -> Listing:
    """Two or three variations, each of a different part of the address, each allowed for the parcel."""
    options = {
        part: [(kind, vary) for kind, vary in variations if ELIGIBLE.get(kind, lambda p: True)(parcel)]
        for part, variations in COMBINABLE.items()
    }
    usable = [part for part in COMBINABLE if options[part]]
    for part in sorted(rng.sample(usable, rng.choice([2, 3])), key=usable.index):
        _kind, vary = rng.choice(options[part])
        if vary is misspell_street:  # the one variation that needs the ZIP's other street names
            vary = partial(misspell_street, sample=sample)
        listing = vary(listing, parcel, rng)
    return listing


def positive_cases(kind: str, count: int, sample: Sample, rng: random.Random, used: set[str]) -> list[dict]:
    """``count`` cases, one parcel each, round-robin over the ZIPs, no parcel used twice in the set.
    Only parcels whose house number and street name are unique in their ZIP, except that
    ``apn_punctuated`` first takes the colliding parcels (the parcel number tells them apart)."""
    eligible = ELIGIBLE.get(kind, lambda p: True)
    forced = [p for group in sample.collisions() for p in group] if kind == "apn_punctuated" else []
    cases = []
    for i in range(count):
        zip_code = SAMPLE_ZIPS[i % len(SAMPLE_ZIPS)]
        forced_left = [p for p in forced if p.apn not in used and eligible(p)]
        if forced_left:
            parcel = forced_left[0]
        else:
            pool = [p for p in sample.parcels[zip_code] if p.apn not in used and eligible(p) and sample.is_unique(p)]
            parcel = rng.choice(pool)
        used.add(parcel.apn)
        listing = positive_listing(kind, parcel, rng, sample)
        cases.append(case(kind, "match", listing, expected_parcel=parcel.apn))
    return cases


# --- negatives and ambiguous cases ------------------------------------------------------------


def negative_listing(number: str, address: CountyAddress, suffix: str, zip_code: str, rng: random.Random) -> Listing:
    """A plainly written address (title case or capitals, the suffix maybe spelled out)."""
    title = rng.random() < 0.7
    style = title_case if title else (lambda s: s)
    predir = address.predir
    if predir and rng.random() < 0.25:
        predir = DIRECTIONAL_WORDS[predir]
    written_suffix = suffix
    if suffix in SUFFIX_SPELLINGS and rng.random() < 0.3:
        written_suffix = SUFFIX_SPELLINGS[suffix][0]
    return Listing(number, style(predir), style(address.name), style(written_suffix), postal_code=zip_code)


def house_number_absent_cases(count: int, sample: Sample, rng: random.Random) -> list[dict]:
    """A real street of the ZIP with a house number no search row (of any ZIP) has on that street."""
    cases, written = [], set()
    for i in range(count):
        zip_code = SAMPLE_ZIPS[i % len(SAMPLE_ZIPS)]
        while True:
            parcel = rng.choice(sample.parcels[zip_code])
            taken = sample.numbers_anywhere[parcel.address.name]
            number = str(int(parcel.address.number) + rng.choice([-1, 1]) * 2 * rng.randrange(1, 20))
            if number not in taken and int(number) > 0 and (number, parcel.address.name) not in written:
                break
        written.add((number, parcel.address.name))
        listing = negative_listing(number, parcel.address, parcel.address.suffix, zip_code, rng)
        cases.append(case("house_number_absent", "none", listing))
    return cases


def other_zip_street_cases(count: int, sample: Sample, rng: random.Random) -> list[dict]:
    """A real parcel of another sample ZIP written with this ZIP, on a street name this ZIP also
    has, at a house number no row of this ZIP has on that street."""
    cases, used = [], set()
    for i in range(count):
        zip_code = SAMPLE_ZIPS[i % len(SAMPLE_ZIPS)]
        here = set(sample.street_names[zip_code])
        pool = [
            p
            for other in SAMPLE_ZIPS
            if other != zip_code
            for p in sample.parcels[other]
            if p.address.name in here
            and p.apn not in used
            and not sample.number_name_count[zip_code][(p.address.number, p.address.name)]
        ]
        parcel = rng.choice(pool)
        used.add(parcel.apn)
        listing = negative_listing(parcel.address.number, parcel.address, parcel.address.suffix, zip_code, rng)
        cases.append(case("other_zip_street", "none", listing))
    return cases


def conflicting_suffix_cases(count: int, sample: Sample, rng: random.Random) -> list[dict]:
    """A real parcel's number and street with a suffix no row of the ZIP has for them,
    preferring a suffix that is a real street of the ZIP (55TH AVE -> 55TH DR)."""
    cases, used = [], set()
    for i in range(count):
        zip_code = SAMPLE_ZIPS[i % len(SAMPLE_ZIPS)]
        parcel = rng.choice([p for p in sample.parcels[zip_code] if sample.is_unique(p) and p.apn not in used])
        used.add(parcel.apn)
        a = parcel.address
        present = sample.suffixes_at(zip_code, a.number, a.name)
        streets = {r.address.suffix for r in sample.rows[zip_code] if r.address.name == a.name}
        options = [s for s in CONFLICTING_SUFFIXES if s not in present]
        real_streets = [s for s in options if s in streets]
        suffix = rng.choice(real_streets or options)
        listing = negative_listing(a.number, a, suffix, zip_code, rng)
        cases.append(case("conflicting_suffix", "none", listing))
    return cases


def ambiguous_cases(count: int, sample: Sample, rng: random.Random) -> list[dict]:
    """Every collision of parcels in a ZIP, written without the part that tells them apart
    (the suffix when suffixes differ, the directional when those differ); where the addresses are
    identical, any spelling fits both, so each collision is written several ways."""
    groups = sample.collisions()
    writings = [
        lambda listing, p: listing,
        lambda listing, p: drop_suffix(listing, p, rng),
        lambda listing, p: add_zip_plus4(spell_directional(spell_suffix(listing, p, rng), p, rng), p, rng),
        lambda listing, p: vary_city(drop_directional(listing, p, rng), p, rng),
    ]
    cases = []
    for i in range(count):
        group = groups[i % len(groups)]
        first = group[0]
        listing = county_listing(first, title=rng.random() < 0.5)
        if len({p.address.suffix for p in group}) > 1:
            listing = drop_suffix(listing, first, rng)
        if len({p.address.predir for p in group}) > 1:
            listing = drop_directional(listing, first, rng)
        listing = writings[(i // len(groups)) % len(writings)](listing, first)
        cases.append(case("ambiguous", "ambiguous", listing, candidates=[p.apn for p in group]))
    return cases


# --- the file ---------------------------------------------------------------------------------


def case(
    kind: str, expected: str, listing: Listing, expected_parcel: str | None = None, candidates: list[str] | None = None
) -> dict:
    return {
        "case_id": "",
        "kind": kind,
        "expected": expected,
        "expected_parcel": expected_parcel,
        "candidates": sorted(candidates or []),
        "UnparsedAddress": listing.render(),
        "City": listing.city,
        "PostalCode": listing.postal_code,
        "ParcelNumber": listing.parcel_number,
    }


NEGATIVE_MAKERS = {
    "house_number_absent": house_number_absent_cases,
    "other_zip_street": other_zip_street_cases,
    "conflicting_suffix": conflicting_suffix_cases,
    "ambiguous": ambiguous_cases,
}


def build_cases(search_dir: Path = SEARCH_DIR) -> list[dict]:
    sample = Sample(load_search_rows(search_dir))
    rng = random.Random(SEED)
    used: set[str] = set()
    cases: list[dict] = []
    for kind, count in KIND_COUNTS.items():
        if kind in NEGATIVE_MAKERS:
            cases += NEGATIVE_MAKERS[kind](count, sample, rng)
        else:
            cases += positive_cases(kind, count, sample, rng, used)
    for number, c in enumerate(cases, 1):
        c["case_id"] = f"r{number:04d}"
    return cases


def render_jsonl(cases: list[dict]) -> str:
    return "".join(json.dumps(c) + "\n" for c in cases)


def main() -> None:
    cases = build_cases()
    OUTPUT.write_text(render_jsonl(cases))
    counts = Counter(c["kind"] for c in cases)
    print(f"{len(cases)} cases -> {OUTPUT.relative_to(ROOT)}")
    for kind in KIND_COUNTS:
        print(f"  {kind:<26} {counts[kind]:>3}")


if __name__ == "__main__":
    main()
