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

from . import state
from .state import PRESENT
from .state import URL_ECHOES as ECHOES
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


def parse_float_list(
    raw: str | None, name: str, low: float, high: float, length: int, default: float = 0.0
) -> Parsed[list[float]]:
    """Exactly `length` comma-separated finite numbers, each clamped to [low, high] (missing ones: default)."""
    if (early := _absent(raw, [default] * length)) is not None:
        return early
    items = [part.strip() for part in raw.split(",")]
    notes = []
    if len(items) != length:
        notes.append(f"expected {length} values, got {len(items)}")
    values = []
    for item in items[:length] + [str(default)] * max(0, length - len(items)):
        parsed = parse_float(item, name, low, high, default)
        values.append(parsed.value)
        if parsed.note:
            notes.append(parsed.note)
    if len(notes) > 3:
        notes = notes[:3] + [f"and {len(notes) - 3} more"]
    return Parsed(values, f"{name}: " + "; ".join(notes) if notes else None)


@dataclass(frozen=True)
class Param:
    """One control kept in the URL: the session key it lives in, how its query text is read, its default."""

    state_key: str
    parse: Callable[[str | None], Parsed[Any]]
    default: Any


def int_param(state_key: str, name: str, low: int, high: int, default: int) -> Param:
    """A whole-number control (slider, number input) with its widget's range."""
    return Param(state_key, lambda raw: parse_int(raw, name, low, high, default), default)


def float_param(state_key: str, name: str, low: float, high: float, default: float, step: float) -> Param:
    """A float slider with its widget's range and step."""
    return Param(state_key, lambda raw: parse_float(raw, name, low, high, default, step=step), default)


def choice_param(state_key: str, name: str, choices: Sequence[str], default: str) -> Param:
    """A radio or select box over known names."""
    return Param(state_key, lambda raw: parse_choice(raw, name, list(choices), default), default)


def flag_param(state_key: str, name: str, default: bool = False) -> Param:
    """A toggle or checkbox."""
    return Param(state_key, lambda raw: parse_flag(raw, name, default), default)


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


MAX_ECHOES = 64  # query texts remembered per parameter


def _own_echo(scope: str, name: str, raw: str | None) -> bool:
    """Whether `raw` is a value this session itself put in the URL earlier: a rerun sent before the browser
    applied a later write carries it, and it is not a link (adopting it snapped a just-moved slider back)."""
    return raw in st.session_state.get(ECHOES, {}).get((scope, name), ())


def _remember_echo(scope: str, name: str, text: str | None) -> None:
    """Add a query text this session wrote to its echoes (the newest MAX_ECHOES per parameter)."""
    echoes = st.session_state.setdefault(ECHOES, {}).setdefault((scope, name), [])
    if text in echoes:
        echoes.remove(text)
    echoes.append(text)
    del echoes[:-MAX_ECHOES]


def take(scope: str, name: str, parsed: Parsed[Any]) -> tuple[bool, str | None]:
    """Whether the URL's value of `name` is new to this session (a link just opened, an address typed), marking
    it seen; and its note. For values a page sets through its own function rather than one session key."""
    written = st.session_state.setdefault(WRITTEN, {})
    raw = query_value(name)
    if not parsed.present or written.get((scope, name)) == raw or _own_echo(scope, name, raw):
        return False, None
    written[(scope, name)] = raw
    return True, parsed.note


def adopt(scope: str, name: str, state_key: str, parsed: Parsed[Any]) -> str | None:
    """Copy the URL's value into st.session_state[state_key] when the URL changed since this session wrote it
    (or the state has no value yet); returns the note to show, if any."""
    ss = st.session_state
    written = ss.setdefault(WRITTEN, {})
    raw = query_value(name)
    if not parsed.present:
        return None
    if state_key in ss and (written.get((scope, name)) == raw or _own_echo(scope, name, raw)):
        return (
            None  # the URL says what this session wrote (now or just before): the session's own value stands
        )
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
        _remember_echo(scope, name, text)


def share_url(values: Mapping[str, Any]) -> str:
    """The address of this page with these values as its query string (relative when the browser's URL is unknown)."""
    base = (st.context.url or "").split("?", 1)[0]
    query = urlencode({k: encode(v) for k, v in values.items() if v is not None})
    return f"{base}?{query}" if query else base


def copy_link(values: Mapping[str, Any], key: str, note: str | None = None) -> str:
    """A "Copy link" popover with this page's address (st.code has a copy button); returns the address."""
    url = share_url(values)
    with st.popover("Copy link", icon=":material/link:", key=key):
        st.code(url, language=None, wrap_lines=True)
        st.caption("Opens this page with the same settings, in any browser that can reach this server.")
        if note:
            st.warning(note, icon=":material/link_off:")
    return url


def show_notes(notes: Sequence[str | None], where: str = "the link") -> None:
    """One warning listing what the URL asked for that could not be used as it stood."""
    kept = [note for note in notes if note]
    if kept:
        st.warning(
            f"Some settings in {where} were adjusted: " + "; ".join(kept) + ".", icon=":material/link_off:"
        )


def restore(scope: str, params: Mapping[str, Param]) -> None:
    """Take a link's values into session state (one warning for what was adjusted); the rest at their defaults.
    Call before the page draws the widgets whose keys these are (the widgets then take no `value=`)."""
    show_notes(adopt_all(scope, {name: (p.state_key, p.parse) for name, p in params.items()}))
    for param in params.values():
        st.session_state.setdefault(param.state_key, param.default)


def share(scope: str, params: Mapping[str, Param], key: str, extra: Mapping[str, Any] | None = None) -> str:
    """Put the controls' current values (and `extra` ones) in the URL and draw "Copy link" with the model and
    dataset in use (when a link can carry them); returns the link."""
    values = {name: st.session_state.get(param.state_key) for name, param in params.items()}
    values.update(extra or {})
    write(scope, values)
    pair, note = pair_values()
    write(PAIR_SCOPE, pair)
    present = 1 if st.session_state.get(PRESENT) else None
    return copy_link({**pair, **values, "present": present}, key=key, note=note)


# ---------------------------------------------------------------- the model and dataset in a link

PAIR_SCOPE = "app"  # ?model=&dataset=: the same on every page


def pair_values() -> tuple[dict[str, str | None], str | None]:
    """The active model and dataset as link values, and why one of them cannot be carried (None when both can).
    Shipped models go by menu key, datasets by spec; uploads and models trained in this session stay out."""
    ss = st.session_state
    model = ss[state.MODELS][ss[state.MODEL_CHOICE]]
    dataset = ss[state.DATASETS][ss[state.DATASET_CHOICE]]
    notes = []
    model_value = ss[state.MODEL_CHOICE] if model.kind == "shipped" else None
    if model_value is None:
        notes.append(
            f"*{model.label}* was {model.kind} in this session and lives only there: a link cannot carry it, "
            "so the link opens with the shipped default model."
        )
    if dataset.spec is None:
        notes.append(
            f"*{dataset.label}* was uploaded to this session: a link cannot carry it, so the link opens with "
            "the digits."
        )
    default_model = ss[state.MODEL_CHOICE] == state.DEFAULT_MODEL_KEY
    default_data = dataset.spec == state.DEFAULT_DATASET_SPEC
    values = {
        "model": None if default_model else model_value,
        "dataset": None if default_data else dataset.spec,
    }
    return values, " ".join(notes) or None


def follow_pair_link() -> None:
    """When a link names a model or dataset this session has not seen in its URL yet: choose a shipped model
    by key, ask for a dataset by spec (the sidebar loads it, with its usual checks and messages). A name that
    cannot be used is explained once (in the sidebar) and the current choice stays."""
    ss = st.session_state
    shipped = [k for k, e in ss[state.MODELS].items() if e.kind == "shipped"]
    model = parse_choice(query_value("model"), "model", shipped, ss[state.MODEL_CHOICE])
    taken, note = take(PAIR_SCOPE, "model", model)
    if taken and note:
        state.flash(
            "warning",
            f"Link: {note}. Uploaded models and models trained in a session cannot be shared by a link.",
        )
        write(PAIR_SCOPE, {"model": None})  # the address no longer names what is not on screen
    elif taken:
        state.select_model(model.value)
    raw = query_value("dataset")
    dataset = _absent(raw, None) or Parsed(raw.strip())
    taken, note = take(PAIR_SCOPE, "dataset", dataset)
    if taken and note:
        state.flash("warning", f"Link: dataset {note}.")
        write(PAIR_SCOPE, {"dataset": None})
    elif taken and dataset.value:
        name = dataset.value
        entry = (
            state.builtin_entry(name)
            if name in state.BUILTIN_DATASETS
            else state.DatasetEntry(name, spec=name)
        )
        state.request_dataset(entry)
