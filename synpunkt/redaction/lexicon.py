"""Whether a word is an ordinary Swedish word: the name rules' test for names in none of the name lists.

A capitalised word after "Fråga efter", a lowercase word after "pratade med", a cell holding one word: such a
word is a name far more often when it is no word of the language. ``common_word`` looks the word up in the
Swedish word frequencies of the ``wordfreq`` package (Apache-2.0 code, CC BY-SA 4.0 data from Wikipedia,
subtitles, news, web text), also as an inflected form ("avgiften"), a compound of two words ("snöröjningen") or
a typo one letter away from a very frequent word ("kommmunen"), and written without å, ä, ö ("stangt"). Common
first names are words here too ("Anna", "Ahmad"): the name lists, not this test, are for them. The frequencies
are loaded on first use (about 0.4 s) and answers are cached per word.
"""

from __future__ import annotations

import math
from functools import lru_cache

COMMON_ZIPF = 3.0
"""Zipf frequency (log10 per billion words) from which a word is taken as common: about one in a million words."""
TYPO_ZIPF = 4.0
"""A word one letter (missing, doubled, swapped, extra) from a word this frequent (one in 10,000 words) is taken
for a typo of it; names are often one letter from a rarer word ("Hawre", "Guled")."""
_SUFFIXES = ("ningarna", "ningar", "ningen", "ning", "ingen", "ing", "heten", "het", "arnas", "ernas", "ornas",
             "arna", "erna", "orna", "aren", "are", "ande", "ende", "else", "liga", "ligt", "lig", "ens", "ets", "ans",
             "ns", "en", "et", "an", "na", "ar", "er", "or", "ad", "at", "de", "te", "n", "t", "s")
"""Inflection and derivation endings: a word is common when it is a common stem (or verb stem, "anteckn-a")
with one of these ("anteckning", "avgiften"). Not -a or -e: names are words with an -a too ("Neda", "Deepa")."""
_LETTERS = "abcdefghijklmnopqrstuvwxyzåäöé"


_ASCII = str.maketrans("åäöé", "aaoe")


@lru_cache(maxsize=1)
def _frequencies() -> tuple[dict[str, float], dict[str, tuple[str, float]]]:
    """Swedish word frequencies, and for each word written without å, ä, ö ("stangt") the most frequent word it
    stands for and that word's frequency (("stängt", f))."""
    from wordfreq import get_frequency_dict

    freqs = get_frequency_dict("sv", wordlist="best")
    folded: dict[str, tuple[str, float]] = {}
    for w, f in freqs.items():
        if w.isascii():  # no å, ä, ö, é to fold (three words in four: not translated)
            continue
        a = w.translate(_ASCII)
        if a != w and a.isascii() and f > folded.get(a, ("", 0.0))[1]:
            folded[a] = (w, f)
    return freqs, folded


@lru_cache(maxsize=1)
def _names() -> frozenset[str]:
    """Listed first names and surnames (not those that are also words: "Björk", "Klara"), lowercased: never
    taken for the word a name resembles ("Gabriel" in "gabriela", "Ivan" in "berivan")."""
    from synpunkt.redaction.name_lists import GAZETTEER

    return frozenset(w.lower() for w in GAZETTEER.first | GAZETTEER.surnames)


def zipf(word: str) -> float:
    """The word's Zipf frequency in Swedish (0 for words not in the list), any case."""
    return _zipf(word.lower())


def _zipf(word: str, fold: bool = False) -> float:
    freqs, folded = _frequencies()
    f = max(freqs.get(word, 0.0), folded.get(word, ("", 0.0))[1] if fold else 0.0)
    return math.log10(f * 1e9) if f > 0 else 0.0


def _frequent(word: str, zipf: float = COMMON_ZIPF, fold: bool = False) -> bool:
    """A frequent word (``fold``: also written without å, ä, ö) that is no listed name."""
    return len(word) >= 3 and word not in _names() and _zipf(word, fold) >= zipf


def _stem(word: str, fold: bool = False) -> bool:
    """A frequent stem: four letters or more, or three letters and very frequent (one in 10,000 words); or a
    verb's stem (the infinitive with -a frequent)."""
    return (_frequent(word, COMMON_ZIPF if len(word) >= 4 else 4.0, fold)
            or (len(word) >= 4 and _frequent(word + "a", COMMON_ZIPF, fold)))


def _inflected(word: str, fold: bool = False) -> bool:
    """A frequent word, or one with an inflection ending on a frequent stem."""
    return _frequent(word, fold=fold) or any(
        word.endswith(s) and len(word) - len(s) >= 3 and _stem(word[: -len(s)], fold) for s in _SUFFIXES)


def _compound(word: str) -> bool:
    """Two frequent parts (the second of 4 letters or more, inflected or not), the first as a stem, without its
    final -a or with a linking s: "snöröjningen", "gatlamporna", "kollektivtrafikandelen"."""
    for k in range(3, len(word) - 3):
        head, tail = word[:k], word[k:]
        if (_stem(head) or _stem(head + "a") or (head.endswith("s") and _stem(head[:-1]))) and (
                _inflected(tail) or _compound(tail)):
            return True
    return False


def _typo(word: str) -> bool:
    """One letter inside the word from a very frequent word: dropped, doubled, swapped or missing ("kommmunen",
    "ingn")."""
    if len(word) < 4:
        return False
    # inside the word only: the first letter is seldom wrong, and a name is often a word and a letter ("Sagal")
    variants = {word[:i] + c + word[i:] for i in range(1, len(word)) for c in _LETTERS}
    if len(word) >= 5:  # four letters: only a missing letter ("ingn")
        variants |= {word[:i] + word[i + 1 :] for i in range(1, len(word) - 1)}
        variants |= {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(1, len(word) - 2)}
    return any(_frequent(v, TYPO_ZIPF) for v in variants if len(v) >= 3)


@lru_cache(maxsize=65536)
def common_word(word: str) -> bool:
    """Whether ``word`` (any case) is an ordinary Swedish word, an inflection or compound of one, or a typo of
    one. Hyphenated words are common when their last part is ("E-tjänsten"). False for words with digits."""
    w = word.lower().strip("'’")
    if not w or any(c.isdigit() for c in w):
        return False
    if "-" in w:
        head, tail = w.split("-", 1)
        return _frequent(w) or ((len(head) == 1 or common_word(head)) and common_word(tail))
    if len(w) <= 2:
        return True
    if w in _names():
        return False
    return _inflected(w, fold=w.isascii()) or _compound(w) or _typo(w)


def rare_word(word: str) -> bool:
    """Letters only, three or more, and no common word (see ``common_word``): a name when the context says so."""
    core = word.replace("-", "")
    return len(core) >= 3 and core.isalpha() and not common_word(word)


@lru_cache(maxsize=65536)
def known_word(word: str) -> bool:
    """A lowercase word that is Swedish as written: frequent, an inflection of a frequent stem or a compound of
    two (``common_word`` without its typo and å/ä/ö-less readings, and without the name test)."""
    return _inflected(word) or _compound(word)


def listed_name(word: str) -> bool:
    """Whether the lowercase word is a listed first name or surname that is no common word."""
    return word in _names()


def diacritic_form(word: str) -> tuple[str, float] | None:
    """For a lowercase word written without å, ä, ö ("hjalp"), the most frequent word it stands for and its Zipf
    frequency (("hjälp", 5.5)); None when no word folds to it."""
    form = _frequencies()[1].get(word)
    return None if form is None else (form[0], math.log10(form[1] * 1e9))


def one_edit(word: str) -> set[str]:
    """Every string one edit from `word`: a letter deleted, two adjacent letters swapped, changed or inserted."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b}
            | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
            | {a + c + b for a, b in splits for c in _LETTERS}) - {word}
