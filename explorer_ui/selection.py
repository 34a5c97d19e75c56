"""Reading the latent map's plotly selection event (what the browser sends back) into dataset row ids."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def selected_indices(event: Mapping[str, Any] | None, n_points: int) -> list[int]:
    """Dataset row ids in a plotly selection event, first-seen order, unique, each in [0, n_points).

    Each point's `customdata` holds its row id (a scalar or a one-element list); when no point carries
    one, the event's `point_indices` are used (right for a single-trace figure)."""
    if not event:
        return []
    selection = event.get("selection", event) if isinstance(event, Mapping) else None
    if not isinstance(selection, Mapping):
        return []
    raw: list[Any] = []
    for point in selection.get("points") or []:
        if isinstance(point, Mapping) and point.get("customdata") is not None:
            value = point["customdata"]
            raw.append(value[0] if isinstance(value, (list, tuple)) and value else value)
    if not raw:
        raw = list(selection.get("point_indices") or [])
    seen: dict[int, None] = {}
    for value in raw:
        try:
            index = int(value)
        except (TypeError, ValueError, OverflowError):  # JSON from the browser may hold Infinity/NaN
            continue
        if 0 <= index < n_points:
            seen.setdefault(index, None)
    return list(seen)
