"""Reading one variable from an environment mapping — a text, a finite number with a floor, a
list, one of a set — with an error naming the variable and never a secret's value. Shared by
settings.py (the only module handed the process environment) and each source's own settings."""

from __future__ import annotations


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
