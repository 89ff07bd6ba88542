"""Input normalisation applied before the encoder.

``unshout``: a comment written (almost) all in capitals is rewritten in sentence case. Capitals are emphasis
(LABELLING.md: emphasis never changes a judgement's direction), but the encoder's SentencePiece vocabulary
splits upper-case Swedish into unfamiliar pieces ("HANDLÄGGAREN" -> HAND/L/Ä/GG/AREN), and the model read
shouting as anger. Single upper-case words ("ALDRIG fått svar") are kept: only whole-text shouting changes.

``respell``: typos and words written without å, ä, ö are written back as the Swedish word they stand for
("handläggaern" -> "handläggaren", "hjalp" -> "hjälp"), so that a typo does not change what the model reads. It
reads the Swedish word frequencies the name rules use (synpunkt.redaction.lexicon, ``wordfreq``).

``normalise`` applies what a model's settings ask for (``respell``, ``unshout``).
"""

from __future__ import annotations

import re
from functools import lru_cache

NORMALISATION_VERSION = "1"
"""Part of the model version of every model that normalises its input (synpunkt.model.model_version): bump it when
``unshout`` or ``respell`` answer differently, so that predictions made before and after never share a version.
tests/test_textnorm.py pins the output on a fixed set of texts and fails until it is bumped."""
_PLACEHOLDER = re.compile(r"\[[A-ZÅÄÖ-]+\]")
SHOUTING_SHARE = 0.7  # share of cased letters (outside placeholders) that must be capitals
MIN_LETTERS = 4


def normalise(text: str, unshouts: bool, respells: bool) -> str:
    """The text the classifier reads: ``respell`` (where `respells`), then ``unshout`` (where `unshouts`)."""
    text = respell(text) if respells else text
    return unshout(text) if unshouts else text


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


# -- respelling --------------------------------------------------------------------------------------------

RARE_ZIPF = 2.5
"""A word below this Zipf frequency in Swedish (about three in a billion words) may be a typo."""
NEIGHBOUR_ZIPF = {4: 4.0, 6: 3.5, 8: 3.0}
"""The Zipf frequency a word one edit away must reach to replace a rare word, by the rare word's length (from
that many letters): short words have many neighbours, long ones ("handläggaern") one."""
MARGIN = 1.5
"""How much more frequent (in Zipf units, a factor of about 30) the replacement must be than the word."""
SWEDISH_SHARE = 0.5
"""Texts in which fewer of the words are known Swedish words are left as they are (other languages)."""
_WORD = re.compile(r"[^\W\d_]+")
_SKIP_CHUNK = re.compile(r"[@\d\[\]/\\]|www\.|\.\w{2,3}$")  # e-mail, URLs, numbers, placeholders: never touched
_SENTENCE_END = ".!?"
_SWEDISH_LETTERS = set("åäöÅÄÖ")


@lru_cache(maxsize=1)
def _english() -> frozenset[str]:
    """Common English words (wordfreq's small English list, Zipf >= 3): never replaced by a Swedish word."""
    from wordfreq import get_frequency_dict

    return frozenset(w for w, f in get_frequency_dict("en", wordlist="small").items() if f >= 1e-6)


@lru_cache(maxsize=65536)
def _replacement(word: str, restore_diacritics: bool) -> str | None:
    """The word a lowercase `word` stands for, or None to keep it: its å/ä/ö form (when `restore_diacritics`),
    else for a rare word of four letters or more the most frequent word one edit away (a letter dropped, added,
    changed or two swapped) that is frequent enough."""
    from synpunkt.redaction.lexicon import diacritic_form, known_word, listed_name, one_edit, zipf

    if listed_name(word):
        return None
    own = zipf(word)
    if restore_diacritics and word.isascii():  # a Swedish text typed without å/ä/ö: "pa" is "på", not English
        form = diacritic_form(word)
        if form is not None and form[1] >= max(3.0, own + MARGIN):
            return form[0]
    if len(word) < 4 or own >= RARE_ZIPF or word in _english() or known_word(word):
        return None
    floor = max(own + MARGIN, NEIGHBOUR_ZIPF[max(n for n in NEIGHBOUR_ZIPF if len(word) >= n)])
    frequent = [(-z, c) for c in one_edit(word) if (z := zipf(c)) >= floor and not listed_name(c)]
    return min(frequent)[1] if frequent else None  # the most frequent; a tie goes to the first alphabetically


def load_word_lists() -> None:
    """Load the word frequencies respell reads (about a second, once per process)."""
    from synpunkt.redaction.lexicon import known_word

    _english(), known_word("hej")  # known_word reads the Swedish frequencies and the name lists


def _cased(replacement: str, word: str) -> str:
    """`replacement` in the case pattern of `word` (all capitals, capitalised, or as it is)."""
    if word.isupper() and len(word) > 1:
        return replacement.upper()
    return replacement[0].upper() + replacement[1:] if word[0].isupper() else replacement


def respell(text: str) -> str:
    """Typos and å/ä/ö-less spelling written back as ordinary Swedish before the encoder; other text unchanged.

    A rare word (not an inflection or compound of frequent ones, no listed name, no common English word) becomes
    the most frequent word one edit away when that word is frequent ("handläggaern" -> "handläggaren"); in a text
    with no å, ä or ö at all, a word gets them back when that spelling is far more frequent ("hjalp" -> "hjälp").
    Capitalised words inside a sentence (names), placeholders, e-mail addresses, URLs and words with digits are
    left alone, and so are texts that are mostly not Swedish.
    """
    from synpunkt.redaction.lexicon import known_word

    words = [w.lower() for w in _WORD.findall(text)]
    if not words or sum(len(w) < 3 or known_word(w) for w in words) < SWEDISH_SHARE * len(words):
        return text
    restore = not any(c in _SWEDISH_LETTERS for c in text)
    if not any(_replacement(w, restore) for w in set(words)):  # most comments: nothing to respell
        return text
    out, last, sentence_start = [], 0, True
    for chunk in re.finditer(r"\S+", text):
        out.append(text[last:chunk.start()])
        last = chunk.end()
        piece = chunk.group(0)
        if not _SKIP_CHUNK.search(piece):
            piece = _respell_chunk(piece, restore, sentence_start)
        out.append(piece)
        sentence_start = piece.endswith(tuple(_SENTENCE_END)) or piece.endswith((".\"", "!\"", "?\""))
    out.append(text[last:])
    return "".join(out)


def _respell_chunk(chunk: str, restore: bool, sentence_start: bool) -> str:
    def fix(m: re.Match) -> str:
        word = m.group(0)
        if word[0].isupper() and not sentence_start and not word.isupper():
            return word  # a capitalised word inside a sentence: most likely a name
        new = _replacement(word.lower(), restore)
        return word if new is None else _cased(new, word)

    return _WORD.sub(fix, chunk)
