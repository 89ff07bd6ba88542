"""Errors in plain words for one-line messages: what went wrong, never the file name or the cell that an error's own
text may quote (a submitted file's name can hold a citizen's name). Imports nothing from the package."""

from __future__ import annotations


def plain_reason(err: BaseException, *names: str) -> str:
    """Why `err` happened, in words: an OSError's description ("Permission denied", "No space left on device"; its
    type's name where it has none), never the path it carries; any other error's message with each of `names`
    replaced by "…" (pure)."""
    if isinstance(err, OSError):
        return err.strerror or type(err).__name__
    text = str(err)
    for name in filter(None, names):
        text = text.replace(name, "…")
    return text
