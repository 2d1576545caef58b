"""Read what a Dash component tree says, for tests that call callbacks directly."""

from __future__ import annotations


def text_of(component) -> str:
    """Flatten Dash children (components, strings, numbers, lists) to their text."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return "".join(text_of(c) for c in component)
    return text_of(getattr(component, "children", None))
