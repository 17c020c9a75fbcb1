"""Personal data: county replies name owners (and their mailing addresses). Analysts get what
they need from a name — the kind of owner — derived in staging; the names themselves stay in
the raw layer only. Anything else that carries raw text (quarantined records, their reasons,
the log lines about them) has these fields withheld first.
"""

from __future__ import annotations

import re

import polars as pl

PERSONAL_FIELDS = ("Ownership", "FullMailingAddress", "MailingAddress", "OwnerName")
OWNER_NAME_FIELDS = ("Ownership", "OwnerName")  # the rest are addresses
WITHHELD = "(withheld)"
# What a retained raw body says instead of a name (transforms/retention.py): the kind survives.
STAND_IN = r"^\(WITHHELD: (GOVERNMENT|TRUST|COMPANY|INDIVIDUAL)\)$"
# A personal field's JSON string value, also when a truncated body ends inside it.
_VALUE = r'("(?:' + "|".join(PERSONAL_FIELDS) + r')"\s*:\s*)"(?:[^"\\]|\\.)*(?:"|$)'
_PATTERN = re.compile(_VALUE)

OWNER_TYPES = {  # checked in this order; the first that matches the upper-cased name wins
    "government": r"\b(CITY OF|STATE OF|COUNTY|UNITED STATES|USA|FLOOD CONTROL|SCHOOL DIST|HOUSING AUTHORITY|"
                  r"TOWN OF|DEPARTMENT|DEPT OF|AUTHORITY)\b",
    "trust": r"\b(TRUST|TRUSTEE|TRUSTEES|TR|REVOCABLE|LIVING TRUST)\b",
    "company": r"\b(LLC|L L C|INC|CORP|CORPORATION|CO|COMPANY|LP|LLP|LTD|PARTNERS|PARTNERSHIP|BANK|ASSOCIATION|"
               r"ASSN|HOLDINGS|PROPERTIES|INVESTMENTS|HOMES|REALTY|FUND|VENTURES|GROUP)\b",
}


def withhold(text: str | None) -> str | None:
    """Text with every personal field's value replaced by "(withheld)"."""
    return None if text is None else _PATTERN.sub(rf'\1"{WITHHELD}"', text)


def withhold_expr(column: str) -> pl.Expr:
    return pl.col(column).str.replace_all(_VALUE, f'$1"{WITHHELD}"')


def owner_type(ownership: pl.Expr) -> pl.Expr:
    """government, trust, company or individual, from the owner's name (or a retained body's
    stand-in for it); null without a name."""
    name = ownership.str.to_uppercase().str.strip_chars()
    expr = pl.when(name.is_null() | (name == "")).then(None)
    expr = expr.when(name.str.contains(STAND_IN)).then(name.str.extract(STAND_IN).str.to_lowercase())
    for kind, pattern in OWNER_TYPES.items():
        expr = expr.when(name.str.contains(pattern)).then(pl.lit(kind))
    return expr.otherwise(pl.lit("individual"))


def owner_type_of(name: str | None) -> str | None:
    """`owner_type` for one name, in Python (retention compacts bodies one at a time); a test
    holds the two to the same answers."""
    upper = (name or "").upper().strip()
    if not upper:
        return None
    stand_in = re.match(STAND_IN, upper)
    if stand_in:
        return stand_in[1].lower()
    return next((kind for kind, pattern in OWNER_TYPES.items() if re.search(pattern, upper)), "individual")
