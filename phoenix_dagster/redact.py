"""Secrets are never echoed: not in an error about a malformed setting, not in a resource's
repr() or str() (which Dagster and tracebacks print), not in a log line.

- `check_url(variable, value, schemes)` says what is wrong with a URL setting by naming the
  variable and the part that is wrong — never the value, whose userinfo, query or path may hold a
  password or a token.
- `MaskedRepr`, mixed into every resource, shows a secret field as "***" and a URL field with its
  userinfo masked, also once Dagster has resolved an `EnvVar` into the real value.
- `mask_url` masks the userinfo of every URL in a text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar
from urllib.parse import urlsplit

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/?#\s]*@")  # to the last @ of the authority
_QUERY = re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://[^\s?#]*\?)[^\s#]*")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]{0,19}$")
MASK = "***"


class UrlSettingError(ValueError):
    """A URL setting that cannot be used; the message names the variable, never the value."""


def mask_url(text: str) -> str:
    """`text` with the userinfo and the query of every URL in it replaced by *** (a password in
    the authority, a token in `?key=…`)."""
    return _QUERY.sub(rf"\1{MASK}", _USERINFO.sub(rf"\1{MASK}@", text))


def check_url(variable: str, value: str, schemes: Iterable[str], *, default_scheme: str | None = None) -> None:
    """Raise UrlSettingError naming `variable` unless `value` is a URL with one of `schemes`, a host
    and (when given) a numeric port. `default_scheme`: assumed when the value has none (OLLAMA_HOST
    may be `host:port`)."""
    schemes = tuple(schemes)
    names = [f"{scheme}://" for scheme in schemes]
    wanted = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    if default_scheme and "://" not in value:
        value = f"{default_scheme}://{value}"
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        raise UrlSettingError(f"{variable} must be a {wanted} URL: its port is not a number") from None
    scheme = parts.scheme.lower()
    if "://" not in value or not scheme:
        raise UrlSettingError(f"{variable} must be a {wanted} URL: it has no scheme")
    if scheme not in schemes:
        named = f" ({scheme!r})" if _SCHEME.match(scheme) else ""
        raise UrlSettingError(f"{variable} must be a {wanted} URL: it has another scheme{named}")
    if not parts.hostname:
        raise UrlSettingError(f"{variable} must be a {wanted} URL: it has no host")


class MaskedRepr:
    """For pydantic models (Dagster resources): `SECRET_FIELDS` shown as *** when set, `URL_FIELDS`
    (a URL or a list of them) with their userinfo masked, in repr(), str() and nested reprs."""

    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset()
    URL_FIELDS: ClassVar[frozenset[str]] = frozenset()

    def __repr_args__(self):
        for name, value in super().__repr_args__():
            if name in self.SECRET_FIELDS and value:
                value = MASK
            elif name in self.URL_FIELDS:
                value = _masked(value)
            yield name, value


def _masked(value):
    if isinstance(value, str):
        return mask_url(value)
    if isinstance(value, (list, tuple)):
        return [_masked(item) for item in value]
    return value
