"""Reading one variable from an environment mapping — a text, a finite number with a floor, a
list, one of a set, a URL — with an error naming the variable and never a secret's value. Shared by
settings.py (the only module handed the process environment) and each source's own settings."""

from __future__ import annotations

from phoenix_dagster.redact import UrlSettingError, check_url


class ConfigError(ValueError):
    """A setting in the environment is invalid; the message names the variable."""


def text(env, name: str, default: str | None) -> str | None:
    return env.get(name, "").strip() or default


def number(env, name: str, default, kind=int, low=1):
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ConfigError(f"{name}: {raw!r} is not a finite number")
    if value < low:
        raise ConfigError(f"{name}: must be at least {low}")
    return value


def split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.replace(";", ",").replace(" ", ",").split(",") if part.strip())


def one_of(env, name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = text(env, name, default)
    if value not in allowed:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
    return value


def url(env, name: str, default: str | None, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    """The URL in `name`, refused unless it has one of `schemes` and a host; the error names the
    variable and what is wrong, never the value (it may carry a key)."""
    value = text(env, name, default)
    if value is not None:
        try:
            check_url(name, value, schemes)
        except UrlSettingError as exc:
            raise ConfigError(str(exc)) from None
    return value


def urls(env, name: str, schemes: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list of URLs, each checked as `url` checks one."""
    values = split(env.get(name, ""))
    for value in values:
        try:
            check_url(name, value, schemes)
        except UrlSettingError as exc:
            raise ConfigError(str(exc)) from None
    return values
