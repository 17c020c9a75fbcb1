"""Every source the platform knows, declared by the module that implements it and found by a
scan of this package: a source module lists its sources in a module-level `DESCRIPTORS`, each a
`SourceDescriptor` saying what the rest of the platform needs to know about it — its kind and
name, the outside service its health probe checks, whether a listing fetch is complete, and what
an operator checks when the probe fails. Health, the listing resolver and the tests read these
instead of tables of their own.

    descriptor("listings", "reso").service   # "reso"
    services()                               # every source's probed service
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

KINDS = ("assessor", "listings")


@dataclass(frozen=True)
class SourceDescriptor:
    kind: str  # one of KINDS
    name: str  # its PHOENIX_ASSESSOR_SOURCE / PHOENIX_LISTING_SOURCE value; its price is `<name>_request`
    service: str | None = None  # the dependency its probe checks (`<service>_up`); None: nothing outside to probe
    complete: bool = False  # listings: every fetch returns all of a ZIP's current listings
    remedies: Mapping[str, str] = field(default_factory=dict)  # a failing probe's state → what to check

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"source {self.name!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")


@cache
def descriptors() -> tuple[SourceDescriptor, ...]:
    """Every declared source, by kind and name. Two declaring the same kind and name is an error
    naming both modules."""
    from phoenix_dagster import sources

    found: dict[tuple[str, str], tuple[SourceDescriptor, str]] = {}
    for module in pkgutil.iter_modules(sources.__path__):
        if module.name == __name__.rsplit(".", 1)[1]:
            continue
        declared = getattr(importlib.import_module(f"{sources.__name__}.{module.name}"), "DESCRIPTORS", ())
        for source in declared:
            key = (source.kind, source.name)
            if key in found:
                raise ValueError(
                    f"the {source.kind} source {source.name!r} is declared twice: in {found[key][1]} and {module.name}"
                )
            found[key] = (source, module.name)
    return tuple(source for _, (source, _) in sorted(found.items()))


def descriptor(kind: str, name: str) -> SourceDescriptor:
    for source in descriptors():
        if (source.kind, source.name) == (kind, name):
            return source
    known = ", ".join(names(kind))
    raise KeyError(f"no {kind} source named {name!r} (known: {known})")


def names(kind: str) -> tuple[str, ...]:
    return tuple(source.name for source in descriptors() if source.kind == kind)


def services() -> tuple[str, ...]:
    """The outside services the sources' probes check, each once."""
    return tuple(dict.fromkeys(source.service for source in descriptors() if source.service))


def remedy(service: str, state: str) -> str | None:
    """What an operator checks when `service`'s probe ends in `state` (None when nothing is said)."""
    for source in descriptors():
        if source.service == service and state in source.remedies:
            return source.remedies[state]
    return None
