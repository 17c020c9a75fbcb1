"""The MLS HTML selectors (data/mls_html_selectors.yaml): a validated model, and the one
function that reads a field from a parsed page with them."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

SELECTORS_FILE = Path(__file__).resolve().parents[2] / "data" / "mls_html_selectors.yaml"
# The RESO fields a detail page may fill (BathroomsTotal expands into the three bath fields).
READABLE_FIELDS = {
    "ListingId",
    "UnparsedAddress",
    "City",
    "PostalCode",
    "ListPrice",
    "StandardStatus",
    "BedroomsTotal",
    "BathroomsTotal",
    "LivingArea",
    "LotSizeSquareFeet",
    "YearBuilt",
    "PropertyType",
    "PropertySubType",
    "PublicRemarks",
    "PhotoURLs",
    "GarageSpaces",
    "AssociationFee",
    "Latitude",
    "Longitude",
    "ParcelNumber",
    "DaysOnMarket",
}


class SelectorsOutOfDate(ValueError):
    """A page no longer has the structure the selectors describe."""


def _check_css(css: str) -> str:
    try:
        HTMLParser("<html></html>").css(css)
    except Exception as exc:  # selectolax raises several kinds for a bad selector
        raise ValueError(f"not a CSS selector: {css!r} ({exc})") from None
    return css


class FieldSelector(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    css: str
    attr: Optional[str] = None
    regex: Optional[str] = None
    many: bool = False
    as_: Literal["text", "baths"] = Field("text", alias="as")

    _check = field_validator("css")(classmethod(lambda cls, v: _check_css(v)))

    @field_validator("regex")
    @classmethod
    def _one_group(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and re.compile(value).groups != 1:
            raise ValueError(f"regex {value!r} must have exactly one capture group")
        return value

    def read(self, page: HTMLParser | Node) -> str | list[str] | None:
        values = []
        for node in page.css(self.css):
            text = node.attributes.get(self.attr) if self.attr else node.text(separator=" ", strip=True)
            if text and self.regex:
                match = re.search(self.regex, text)
                text = match.group(1) if match else None
            if text:
                values.append(" ".join(text.split()))
            if values and not self.many:
                break
        return values if self.many else (values[0] if values else None)


class SearchSelectors(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str
    result: str
    detail_link: FieldSelector
    next_page: FieldSelector
    no_results: str

    _check = field_validator("result", "no_results")(classmethod(lambda cls, v: _check_css(v)))

    @field_validator("path")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        if "{zip}" not in value or "{page}" not in value:
            raise ValueError("search.path needs {zip} and {page}")
        return value


class DetailSelectors(BaseModel):
    model_config = ConfigDict(extra="forbid")
    required: list[str]
    fields: dict[str, FieldSelector]

    @model_validator(mode="after")
    def _known_fields(self) -> DetailSelectors:
        unknown = set(self.fields) - READABLE_FIELDS
        if unknown:
            raise ValueError(f"unknown field(s) {sorted(unknown)}; readable: {sorted(READABLE_FIELDS)}")
        missing = set(self.required) - set(self.fields)
        if missing:
            raise ValueError(f"required field(s) {sorted(missing)} have no selector")
        return self


class MlsSelectors(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int
    search: SearchSelectors
    detail: DetailSelectors

    def read_detail(self, html: str, url: str) -> dict:
        """A detail page → a RESO record. Raises SelectorsOutOfDate naming what is missing."""
        page = HTMLParser(html)
        record: dict = {}
        for name, selector in self.detail.fields.items():
            value = selector.read(page)
            if value in (None, []):
                continue
            if selector.as_ == "baths":
                record.update(_baths(value))
            else:
                record[name] = value
        missing = [
            f"{name} ({self.detail.fields[name].css})"
            for name in self.detail.required
            if name not in record and not (name == "BathroomsTotal" and "BathroomsTotalInteger" in record)
        ]
        if missing:
            raise SelectorsOutOfDate(
                f"selectors out of date (v{self.version}): detail page {url} has no " + ", ".join(missing)
            )
        record["ListingKey"] = record.get("ListingId")
        return record


def _baths(text: str) -> dict:
    try:
        value = float(text)
    except ValueError:  # left for staging to reject, naming the value
        return {"BathroomsTotalInteger": text}
    return {
        "BathroomsTotalInteger": str(math.ceil(value)),
        "BathroomsFull": str(int(value)),
        "BathroomsHalf": "1" if value % 1 else "0",
    }


def load_selectors(path: Path = SELECTORS_FILE) -> MlsSelectors:
    """Load and validate the selector file; a ValueError says what is wrong and where."""
    try:
        return MlsSelectors.model_validate(yaml.safe_load(path.read_text()))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot be read: {exc}") from None
    except ValidationError as exc:
        raise ValueError(f"{path}: invalid MLS selectors:\n{exc}") from None
