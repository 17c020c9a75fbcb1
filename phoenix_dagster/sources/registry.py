"""Every source the platform knows, declared by the module that implements it. A source module
lists its sources in a module-level `DESCRIPTORS`, each a `SourceDescriptor` saying all the rest
of the platform needs to know about it:

- its kind and name (PHOENIX_ASSESSOR_SOURCE / PHOENIX_LISTING_SOURCE name it), whether a
  listing fetch is complete, and the Dagster pool its collection step waits in;
- its settings: a frozen dataclass whose `from_env(env)` reads the source's own variables when
  `Settings.from_env` loads (settings.py stays the only reader of the environment);
- its resource: a Dagster resource built from those settings (`from_settings`), which opens the
  client a collection uses (`open`) and probes the outside service (`probe`) with the same place
  and credentials (the county's probe also takes its turn at the county's rate limiter);
- the service its probe checks (`<service>_up`), and what an operator checks when it fails;
- its secrets: variables read only through Dagster's EnvVar.

Sources are found by a scan of this package, plus the modules a deployment names in
PHOENIX_SOURCE_MODULES (its own sources, importable by Python). A module that runs several
instances (one feed module, several feeds) declares them with `declare(env)`, from its own
variables: each instance is a descriptor of its own name. A request to a source is priced
as `<name>_request` in data/unit_prices.yaml.

    found = descriptors(("my_company.sources.feed",))
    descriptor(found, "listings", "reso").service   # "reso"
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

KINDS = ("assessor", "listings")
NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")  # a source's name, service and pool


@dataclass(frozen=True)
class SharedSourceSettings:
    """What a source's resource may take from the platform's own settings."""

    max_body_bytes: int  # PHOENIX_MAX_BODY_MB: one reply's decoded body
    max_fetch_bytes: int  # PHOENIX_MAX_FETCH_MB: every reply of one collection, together
    control_dir: str  # control state (a rate limiter's machine-wide window lives under it)
    inbox_dir: str  # where files handed in by people arrive
    sample_dir: str  # the embedded sample's replies


# `secret(name)` is the variable as an EnvVar when it is set, else None: a resource never holds the value.
SecretReader = Callable[[str], Any]


@dataclass(frozen=True)
class SourceDescriptor:
    kind: str  # one of KINDS
    name: str  # its PHOENIX_ASSESSOR_SOURCE / PHOENIX_LISTING_SOURCE value; its price is `<name>_request`
    resource: Callable[[Any, SharedSourceSettings, SecretReader], Any]  # (its settings, shared, secret) → resource
    settings: Callable[[Mapping[str, str]], Any] | None = None  # reads its own variables from the environment
    service: str | None = None  # the dependency its probe checks (`<service>_up`); None: nothing outside to probe
    complete: bool = False  # listings: every fetch returns all of a ZIP's current listings
    pool: str | None = None  # the Dagster pool of its collection step; None: it shares nothing
    pool_limit: Callable[[Any], int] | None = None  # its settings → its pool's limit; None: PHOENIX_LISTING_POOL_LIMIT
    secrets: tuple[str, ...] = ()  # variables holding its secrets, read only through EnvVar
    remedies: Mapping[str, str] = field(default_factory=dict)  # a failing probe's state → what to check

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"source {self.name!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        for what, value in (("name", self.name), ("service", self.service), ("pool", self.pool)):
            if value is not None and not NAME.fullmatch(value):
                # it becomes part of asset, resource, check and pool names, and of file names in the lake
                raise ValueError(f"source {self.name!r}: its {what} {value!r} is not lower-case letters, digits and _")

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)

    @property
    def resource_key(self) -> str:
        """Its resource's key in the definitions (`assessor_source__maricopa`, `listings_source__reso`)."""
        return f"{self.kind}_source__{self.name}"

    @property
    def price_key(self) -> str:
        return f"{self.name}_request"

    def read_settings(self, env: Mapping[str, str]) -> Any:
        return self.settings(env) if self.settings is not None else None


@cache
def _modules(modules: tuple[str, ...]) -> tuple:
    """This package's modules and `modules`, imported once; a module named in `modules` that does
    not import, or declares nothing, is an error naming it."""
    from phoenix_dagster import sources

    package = [f"{sources.__name__}.{m.name}" for m in pkgutil.iter_modules(sources.__path__)]
    found = []
    for name in [*package, *modules]:
        if name == __name__:
            continue
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ValueError(f"PHOENIX_SOURCE_MODULES: {name!r} does not import ({exc})") from None
        if name in modules and not (hasattr(module, "DESCRIPTORS") or hasattr(module, "declare")):
            raise ValueError(f"PHOENIX_SOURCE_MODULES: {name!r} declares no DESCRIPTORS")
        found.append(module)
    return tuple(found)


def descriptors(modules: tuple[str, ...] = (), env: Mapping[str, str] | None = None) -> tuple[SourceDescriptor, ...]:
    """Every source declared in this package and in `modules`, by kind and name: each module's
    `DESCRIPTORS`, and the instances a module's `declare(env)` makes from the environment (one
    module, several configured instances — each its own name, so its own resource, asset, pool,
    probe and price). Two declaring the same kind and name is an error naming both modules."""
    found: dict[tuple[str, str], tuple[SourceDescriptor, str]] = {}
    for module in _modules(tuple(modules)):
        declared = [*getattr(module, "DESCRIPTORS", ())]
        if hasattr(module, "declare"):
            declared += module.declare(env or {})
        for source in declared:
            if source.key in found:
                raise ValueError(
                    f"the {source.kind} source {source.name!r} is declared twice: "
                    f"in {found[source.key][1]} and {module.__name__}"
                )
            found[source.key] = (source, module.__name__)
    return tuple(source for _, (source, _) in sorted(found.items()))


def descriptor(found: Sequence[SourceDescriptor], kind: str, name: str) -> SourceDescriptor:
    for source in found:
        if source.key == (kind, name):
            return source
    known = ", ".join(names(found, kind))
    raise KeyError(f"no {kind} source named {name!r} (known: {known})")


def names(found: Sequence[SourceDescriptor], kind: str) -> tuple[str, ...]:
    return tuple(source.name for source in found if source.kind == kind)


def services(found: Sequence[SourceDescriptor]) -> tuple[str, ...]:
    """The outside services the sources' probes check, each once."""
    return tuple(dict.fromkeys(source.service for source in found if source.service))


def remedy(found: Sequence[SourceDescriptor], service: str, state: str) -> str | None:
    """What an operator checks when `service`'s probe ends in `state` (None when nothing is said)."""
    for source in found:
        if source.service == service and state in source.remedies:
            return source.remedies[state]
    return None
