"""Input normalisation applied before the encoder.

``unshout``: a comment written (almost) all in capitals is rewritten in sentence case. Capitals are emphasis
(LABELLING.md: emphasis never changes a judgement's direction), but the encoder's SentencePiece vocabulary
splits upper-case Swedish into unfamiliar pieces ("HANDLÄGGAREN" -> HAND/L/Ä/GG/AREN), and the model read
shouting as anger. Single upper-case words ("ALDRIG fått svar") are kept: only whole-text shouting changes.
"""

from __future__ import annotations

import re

_PLACEHOLDER = re.compile(r"\[[A-ZÅÄÖ-]+\]")
SHOUTING_SHARE = 0.7  # share of cased letters (outside placeholders) that must be capitals
MIN_LETTERS = 4


def unshout(text: str) -> str:
    """Sentence case for a text written in capitals (placeholders such as [NAMN] kept); others unchanged."""
    bare = _PLACEHOLDER.sub("", text)
    cased = [c for c in bare if c.isalpha() and c.lower() != c.upper()]
    if len(cased) < MIN_LETTERS or sum(c.isupper() for c in cased) < SHOUTING_SHARE * len(cased):
        return text
    parts, last = [], 0
    for m in _PLACEHOLDER.finditer(text):
        parts += [text[last:m.start()].lower(), m.group(0)]
        last = m.end()
    parts.append(text[last:].lower())
    lowered = "".join(parts)
    first = next((i for i, c in enumerate(lowered) if c.isalpha()), None)
    if first is None or _PLACEHOLDER.match(lowered, max(0, first - 1)):
        return lowered
    return lowered[:first] + lowered[first].upper() + lowered[first + 1:]
