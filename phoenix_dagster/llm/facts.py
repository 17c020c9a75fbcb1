"""What the model is asked for: RESO-named facts, each with the snippet of text that states it.

`REPLY_SCHEMA` is sent as Ollama's `format`, so the reply is JSON of this shape by
construction; `validate_reply` still checks every value against the platform's bounds and
drops (with the reason) anything outside them rather than guessing, and drops a fact whose
evidence is not in the listing's text (case and whitespace aside): a model that quotes words the
text does not contain made the fact up.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

CONDITIONS = ["new_construction", "renovated", "updated", "original", "needs_work", "unknown"]


def _fact(name: str, kind, description: str) -> type[BaseModel]:
    return create_model(
        f"{name}Fact",
        __config__=ConfigDict(extra="forbid"),
        value=(Optional[kind], Field(None, description=description)),
        evidence=(Optional[str], Field(None, description="The words in the text that state it, copied exactly")),
    )


class ListingFactsReply(BaseModel):
    model_config = ConfigDict(extra="forbid")
    BedroomsTotal: _fact("BedroomsTotal", int, "Bedrooms; a den is not a bedroom")
    BathroomsFull: _fact("BathroomsFull", int, "Full bathrooms")
    BathroomsHalf: _fact("BathroomsHalf", int, "Half bathrooms (2.5 baths = 2 full, 1 half)")
    LivingArea: _fact("LivingArea", float, "Living area in square feet, not the lot")
    YearBuilt: _fact("YearBuilt", int, "Year the house was built, not remodeled")
    GarageSpaces: _fact("GarageSpaces", float, "Garage spaces (a carport is not a garage)")
    PoolPrivateYN: _fact(
        "PoolPrivateYN", bool, "True if the property has a private pool; 'pool-sized lot' is not a pool"
    )
    AssociationYN: _fact("AssociationYN", bool, "True if there is an HOA; false if the text says no HOA")
    AssociationFee: _fact("AssociationFee", float, "HOA fee per month in USD")
    NewConstructionYN: _fact("NewConstructionYN", bool, "True only for a newly built house")
    Condition: _fact("Condition", Literal[tuple(CONDITIONS)], "Overall condition as the text describes it")
    NotableFeatures: list[str] = Field(
        default_factory=list, max_length=8, description="Up to 8 short notable features, e.g. 'RV gate'"
    )


REPLY_SCHEMA = ListingFactsReply.model_json_schema()
FACT_FIELDS = [name for name in ListingFactsReply.model_fields if name != "NotableFeatures"]


def bounds(today: date) -> dict[str, tuple[float, float]]:
    """Accepted ranges: beds 0–20, baths 0–20, living area 400–20,000 sq ft,
    year built 1900–next year; plus garage 0–20 and HOA fee 0–5,000 a month."""
    return {
        "BedroomsTotal": (0, 20),
        "BathroomsFull": (0, 20),
        "BathroomsHalf": (0, 20),
        "LivingArea": (400, 20_000),
        "YearBuilt": (1900, today.year + 1),
        "GarageSpaces": (0, 20),
        "AssociationFee": (0, 5_000),
    }


class ReplyInvalid(ValueError):
    """The model's reply is not the requested JSON shape."""


def _normalised(text: str) -> str:
    return " ".join(text.casefold().split())


def unsupported(evidence: str | None, text: str) -> str | None:
    """Why a fact's evidence does not support it in `text`, or None when the text contains it."""
    if not evidence or not evidence.strip():
        return "no evidence quoted"
    if _normalised(evidence) not in _normalised(text):
        return f"evidence {evidence[:60]!r} is not in the text"
    return None


def validate_reply(content: str, today: date, text: str | None = None) -> tuple[dict, dict, list[str]]:
    """The reply's text → (values, evidence, rejected reasons). Raises ReplyInvalid when the
    reply is not JSON of the schema; out-of-range values are dropped with a reason, and so is
    every fact whose evidence is not in the listing's `text` (when given)."""
    try:
        reply = ListingFactsReply.model_validate_json(content)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "reply"
        raise ReplyInvalid(
            f"reply does not match the facts schema ({exc.error_count()} errors; first at {where}: {first['msg']})"
        ) from None
    values, evidence, rejected = {}, {}, []
    limits = bounds(today)
    for name in FACT_FIELDS:
        fact = getattr(reply, name)
        if fact.value is None:
            continue
        if name in limits and not limits[name][0] <= fact.value <= limits[name][1]:
            low, high = limits[name]
            rejected.append(f"{name}={fact.value} outside {low:g}..{high:g}")
            continue
        why = unsupported(fact.evidence, text) if text is not None else None
        if why:
            rejected.append(f"{name}={fact.value}: {why}")
            continue
        values[name] = fact.value
        if fact.evidence:
            evidence[name] = fact.evidence[:200]
    values["NotableFeatures"] = [feature[:80] for feature in reply.NotableFeatures if feature.strip()]
    return values, evidence, rejected
