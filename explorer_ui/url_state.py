"""A page's controls in the URL: read query parameters with the same validation as widget input, keep them in
step with session state, write them back, and offer the link to copy.

Parsing is pure (strings in, a value and an optional note out), so it is tested without Streamlit. A query
value is untrusted text: numbers must be finite and are clamped (or refused) to the widget's range, names must
be one of the known choices, lists are capped, and anything longer than MAX_PARAM_CHARS is refused before it is
parsed. A refusal never raises: the page gets the default and a note saying what was wrong.

Links and session state agree by one rule (`adopt`): the URL's value wins only when it differs from what this
session last wrote there (a link just opened, or an address typed by hand); otherwise the session's value wins
and is written back. So buttons and widgets only change session state, and switching pages (which clears the
query string) keeps what was on screen.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

import streamlit as st

from .state import URL_WRITTEN as WRITTEN

T = TypeVar("T")

MAX_PARAM_CHARS = 2_000  # longer query values are refused unread (a list of 10⁶ indices never gets parsed)
MAX_LIST_ITEMS = 64  # list parameters keep at most this many items
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


@dataclass(frozen=True)
class Parsed(Generic[T]):
    """A value read from the URL, and why the URL's text was not taken as it stands (None when it was)."""

    value: T
    note: str | None = None
    present: bool = True  # False when the parameter was not in the URL at all


def _shown(raw: str) -> str:
    """A query value quoted for a message, cut short."""
    return repr(raw if len(raw) <= 40 else raw[:40] + "…")


def _absent(raw: str | None, default: T) -> Parsed[T] | None:
    """The default (no note) for a missing parameter, the default with a note for an oversized one, else None."""
    if raw is None:
        return Parsed(default, None, present=False)
    if len(raw) > MAX_PARAM_CHARS:
        return Parsed(default, f"ignored a {len(raw):,}-character value (at most {MAX_PARAM_CHARS:,})")
    return None


def parse_int(
    raw: str | None, name: str, low: int, high: int, default: int, clamp: bool = True
) -> Parsed[int]:
    """A whole number in [low, high]: out-of-range values are clamped (or, with clamp=False, replaced by default)."""
    if (early := _absent(raw, default)) is not None:
        return early
    text = raw.strip()
    try:
        number = float(text) if any(ch in text for ch in ".eE") else int(text)
    except ValueError:
        return Parsed(default, f"{name} must be a whole number, got {_shown(raw)}; using {default}")
    if isinstance(number, float) and (not math.isfinite(number) or not number.is_integer()):
        return Parsed(default, f"{name} must be a whole number, got {_shown(raw)}; using {default}")
    value = int(number)
    if low <= value <= high:
        return Parsed(value)
    if not clamp:
        return Parsed(default, f"{name} must be between {low} and {high}, got {_shown(raw)}; using {default}")
    bounded = max(low, min(high, value))
    return Parsed(bounded, f"{name} must be between {low} and {high}, got {_shown(raw)}; using {bounded}")


def parse_float(
    raw: str | None, name: str, low: float, high: float, default: float, step: float | None = None
) -> Parsed[float]:
    """A finite number clamped to [low, high] (and snapped to multiples of `step`, as a slider would);
    NaN, infinities and text give the default."""
    if (early := _absent(raw, default)) is not None:
        return early
    try:
        value = float(raw.strip())
    except ValueError:
        return Parsed(default, f"{name} must be a number, got {_shown(raw)}; using {default:g}")
    if not math.isfinite(value):
        return Parsed(default, f"{name} must be a finite number, got {_shown(raw)}; using {default:g}")
    if step:
        value = round(round(value / step) * step, 10)
    if low <= value <= high:
        return Parsed(value)
    bounded = max(low, min(high, value))
    return Parsed(
        bounded, f"{name} must be between {low:g} and {high:g}, got {_shown(raw)}; using {bounded:g}"
    )


def parse_choice(raw: str | None, name: str, choices: Sequence[str], default: str) -> Parsed[str]:
    """One of the known names (exact match); anything else gives the default and lists what is allowed."""
    if (early := _absent(raw, default)) is not None:
        return early
    if raw in choices:
        return Parsed(raw)
    return Parsed(default, f"{name} must be one of {', '.join(choices)}; got {_shown(raw)}; using {default}")


def parse_flag(raw: str | None, name: str, default: bool = False) -> Parsed[bool]:
    """1/true/yes/on or 0/false/no/off (any case); anything else gives the default."""
    if (early := _absent(raw, default)) is not None:
        return early
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return Parsed(True)
    if word in FALSE_WORDS:
        return Parsed(False)
    return Parsed(default, f"{name} must be 1 or 0, got {_shown(raw)}; using {int(default)}")


def parse_int_list(
    raw: str | None, name: str, low: int, high: int, max_items: int = MAX_LIST_ITEMS
) -> Parsed[list[int]]:
    """Comma-separated whole numbers in [low, high], at most max_items; bad or out-of-range items are dropped."""
    if (early := _absent(raw, [])) is not None:
        return early
    items = [part.strip() for part in raw.split(",") if part.strip()]
    notes = []
    if len(items) > max_items:
        notes.append(f"kept the first {max_items} of {len(items)} values")
        items = items[:max_items]
    values, dropped = [], 0
    for item in items:
        parsed = parse_int(item, name, low, high, default=low, clamp=False)
        if parsed.note is None:
            values.append(parsed.value)
        else:
            dropped += 1
    if dropped:
        notes.append(f"dropped {dropped} value(s) that are not whole numbers between {low} and {high}")
    return Parsed(values, f"{name}: " + "; ".join(notes) if notes else None)


# ---------------------------------------------------------------- session state ⇄ URL (Streamlit)


def query_value(name: str) -> str | None:
    """The URL's value of one query parameter (the last one when repeated), or None."""
    return st.query_params.get(name)


def adopt_all(scope: str, params: Mapping[str, tuple[str, Callable[[str | None], Parsed[Any]]]]) -> list[str]:
    """adopt() for several parameters: {name: (state key, parser of the raw value)}; returns the notes."""
    notes = [
        adopt(scope, name, state_key, parse(query_value(name))) for name, (state_key, parse) in params.items()
    ]
    return [note for note in notes if note]


def adopt(scope: str, name: str, state_key: str, parsed: Parsed[Any]) -> str | None:
    """Copy the URL's value into st.session_state[state_key] when the URL changed since this session wrote it
    (or the state has no value yet); returns the note to show, if any."""
    ss = st.session_state
    written = ss.setdefault(WRITTEN, {})
    raw = query_value(name)
    if not parsed.present:
        return None
    if state_key in ss and written.get((scope, name)) == raw:
        return None  # the URL still says what this session wrote: the session's own value stands
    ss[state_key] = parsed.value
    written[(scope, name)] = raw
    return parsed.note


def encode(value: Any) -> str:
    """A value as query text: booleans as 1/0, floats without trailing zeros, lists comma-separated."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ",".join(encode(v) for v in value)
    return str(value)


def write(scope: str, values: Mapping[str, Any]) -> None:
    """Put these values in the URL (None removes a parameter) and remember them as this session's."""
    written = st.session_state.setdefault(WRITTEN, {})
    for name, value in values.items():
        if value is None:
            if name in st.query_params:
                del st.query_params[name]
            written[(scope, name)] = None
            continue
        text = encode(value)
        if st.query_params.get(name) != text:
            st.query_params[name] = text
        written[(scope, name)] = text


def share_url(values: Mapping[str, Any]) -> str:
    """The address of this page with these values as its query string (relative when the browser's URL is unknown)."""
    base = (st.context.url or "").split("?", 1)[0]
    query = urlencode({k: encode(v) for k, v in values.items() if v is not None})
    return f"{base}?{query}" if query else base


def copy_link(values: Mapping[str, Any], key: str) -> str:
    """A "Copy link" popover with this page's address (st.code has a copy button); returns the address."""
    url = share_url(values)
    with st.popover("Copy link", icon=":material/link:", key=key):
        st.code(url, language=None, wrap_lines=True)
        st.caption("Opens this page with the same settings, in any browser that can reach this server.")
    return url


def show_notes(notes: Sequence[str | None], where: str = "the link") -> None:
    """One warning listing what the URL asked for that could not be used as it stood."""
    kept = [note for note in notes if note]
    if kept:
        st.warning(
            f"Some settings in {where} were adjusted: " + "; ".join(kept) + ".", icon=":material/link_off:"
        )
