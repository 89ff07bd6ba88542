"""Person names by rule, and the per-word decisions around the name model.

Words are tokenised with their offsets; the rules mark listed first names and surnames (also -sson/-sdotter and
the genitive "Anderssons"), and a capitalised word after a title ("Handläggaren Karin", "heter Lund"). A
capitalised word or two after a name is taken for its surname. Names in none of the lists are found by context
(``name_context``) and grown by neighbours that are no common word (``lexicon.rare_word``: "fatima doğan").
``decide_names`` turns the model's probabilities into decisions (never for stopwords, numbers, acronyms or
placeholders), and ``name_spans`` merges name words that follow each other into one span.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from synpunkt.redaction.lexicon import common_word, known_word, rare_word, zipf
from synpunkt.redaction.name_lists import (
    CORE_LISTS,
    GAZETTEER,
    NOT_NAMES,
    STOPWORDS,
    TITLE_SUFFIXES,
    TITLE_WORDS,
    NameLists,
)
from synpunkt.redaction.spans import PLACEHOLDER_RE, Span

_WORD_RE = re.compile(PLACEHOLDER_RE.pattern + r"|\w+(?:[-'’:]\w+)*|[^\w\s]")
SENTENCE_END = {".", "!", "?", ":", ";", '"', "”", "“", "»", "«", "-", "–", "—", "•", "*", "(", ")"}
_NAME_SUFFIX_RE = re.compile(r"^[A-ZÅÄÖ][a-zåäöé]+(?:sson|sdotter)s?$")
_LOWER_NAME_SUFFIX_RE = re.compile(r"^[a-zåäöé]{3,}(?:sson|sdotter)s?$")
_INITIAL_RE = re.compile(r"^[A-ZÅÄÖ]$")
_ANY_INITIAL_RE = re.compile(r"^[A-ZÅÄÖa-zåäö]$")
LABEL_WORDS = {"kontakt", "ansvarig", "kontaktperson", "handläggare", "namn", "inlämnad", "av", "hänvisad", "till",
                "upp"}
_LIST_JOINS = {",", "och", "eller", "&", "samt"}
PLACE_AFTER = {"kommun", "kommuns", "kommunen", "stad", "stads", "län", "kyrka", "centrum", "station"}
"""Words after which a surname that is also a place is the place ("Lund kommun")."""
LOWERCASE_CONTEXT = {"med", "till", "och", "från", "av", "åt", "heter"}
_ACRONYM_RE = re.compile(r"^[A-ZÅÄÖ]{2,3}$|^[A-ZÅÄÖ]{2,}:[a-zåäö]+$")

LONE_INITIAL_THRESHOLD = 0.95
"""A first word of a sentence, in no name list and with no capitalised word after it ("Version", "Hemsidan"),
needs this probability: comments often start with words the news-trained head has not seen."""

CHEAP_FEATURES = ("capitalised", "all_caps", "lowercase", "sentence_initial", "first_name", "ambiguous_first_name",
                  "surname", "after_title", "after_capitalised", "before_capitalised", "has_digit", "punctuation",
                  "stopword", "rule_name")
"""Hand-made per-word features fed to the name head next to the encoder features (this order)."""


WORD_CACHE = 1 << 16
"""Words whose answers the per-word tests below keep (they run for every word of every rule, many times)."""


@lru_cache(maxsize=WORD_CACHE)
def is_title(low: str) -> bool:
    """A (lowercased) word after which a capitalised word is a name: "handläggaren", "heter", "enhetschefen"."""
    return low in TITLE_WORDS or low.endswith(TITLE_SUFFIXES)


@lru_cache(maxsize=WORD_CACHE)
def is_surname(w: str, lists: NameLists = GAZETTEER) -> bool:
    """A listed surname or one ending in -sson/-sdotter, also in the genitive (Anderssons)."""
    return (w in lists.surnames or (w.endswith("s") and w[:-1] in lists.surnames)
            or bool(_NAME_SUFFIX_RE.match(w)))


def tokenize(text: str) -> tuple[list[str], list[tuple[int, int]], list[bool]]:
    """Words, their character offsets, and whether each starts a line."""
    words, offsets, line_start = [], [], []
    prev_end = 0
    for m in _WORD_RE.finditer(text):
        start, end = m.span()
        line_start.append(not words or "\n" in text[prev_end:start])
        words.append(m.group())
        offsets.append((start, end))
        prev_end = end
    return words, offsets, line_start


@lru_cache(maxsize=WORD_CACHE)
def is_cap(w: str) -> bool:
    """Capitalised, not all in capitals."""
    return w[:1].isupper() and any(c.isalpha() for c in w) and not (len(w) > 1 and w.isupper())


@lru_cache(maxsize=WORD_CACHE)
def is_wordlike(w: str) -> bool:
    """Has letters, no digits, and is no placeholder."""
    return any(c.isalpha() for c in w) and not any(c.isdigit() for c in w) and not PLACEHOLDER_RE.fullmatch(w)


@lru_cache(maxsize=WORD_CACHE)
def model_candidate(w: str) -> bool:
    """Words the name model may mark: not stopwords, numbers, placeholders or acronyms (VA, SYV:n)."""
    return is_wordlike(w) and w.lower() not in STOPWORDS and not _ACRONYM_RE.match(w)


def model_may_add(words: list[str], rule_flags: np.ndarray) -> np.ndarray:
    """Per word: whether the name model could change its decision, i.e. a model candidate the rules have not
    marked (``decide_names`` marks candidates only, and its marks are added to the rules'). Where this is False for
    every word of a text (or of an encoder chunk), the model's output cannot change the redaction."""
    return np.array([model_candidate(w) and not f for w, f in zip(words, rule_flags)], dtype=bool)


def sentence_initial(words: list[str], line_start: list[bool]) -> list[bool]:
    """Whether each word starts a sentence or a line."""
    return [line_start[i] or i == 0 or words[i - 1] in SENTENCE_END for i in range(len(words))]


@lru_cache(maxsize=WORD_CACHE)
def known_first(w: str, lists: NameLists = GAZETTEER) -> bool:
    """A listed first name, or a double name of listed parts ("Anna-Karin")."""
    if w in lists.first:
        return True
    parts = w.split("-")
    return len(parts) > 1 and all(p in lists.first or p in lists.ambiguous for p in parts)


def rule_names(words: list[str], line_start: list[bool] | None = None, lists: NameLists = GAZETTEER
               ) -> np.ndarray:
    """Which words the core name rules mark as (parts of) person names (with ``lists``).

    Listed first names, ambiguous ones beside a surname or after a title, any capitalised word after a title,
    listed first names in lowercase after a title or after "med", "till", "och"..., listed surnames; and a
    capitalised word or two after each of these. (The name model's ``rule_name`` feature: keep as trained.)
    """
    n = len(words)
    line_start = line_start or [False] * n
    initial = sentence_initial(words, line_start)
    low = [w.lower() for w in words]
    name = np.zeros(n, dtype=bool)

    def surname_like(i: int) -> bool:
        w = words[i]
        return is_cap(w) and is_wordlike(w) and low[i] not in STOPWORDS and (not initial[i] or w in lists.surnames)

    for i, w in enumerate(words):
        if not is_wordlike(w):
            continue
        after_title = i > 0 and is_title(low[i - 1])
        cap = is_cap(w)
        start = False
        if cap and known_first(w, lists) and low[i] not in STOPWORDS:
            start = True
        elif cap and w in lists.ambiguous and (after_title or (
                i + 1 < n and surname_like(i + 1)
                and (is_surname(words[i + 1], lists) or words[i + 1] in lists.all_surnames))):
            start = True
        elif cap and after_title and low[i] not in STOPWORDS and not is_title(low[i]):
            start = True
        elif not cap and w.islower() and after_title and (w.title() in lists.first) and low[i] not in STOPWORDS:
            start = True
        elif not cap and w.islower() and i > 0 and low[i - 1] in LOWERCASE_CONTEXT \
                and w.title() in lists.first and w.title() not in lists.ambiguous and low[i] not in STOPWORDS:
            start = True
        elif cap and is_surname(w, lists) and low[i] not in STOPWORDS:
            start = True
        if not start:
            continue
        name[i] = True
        j = i + 1  # a capitalised word or two after a name is a (second) surname
        while j < n and j <= i + 2 and surname_like(j):
            name[j] = True
            j += 1
    return name


@lru_cache(maxsize=WORD_CACHE)
def _word_features(w: str) -> tuple:
    """The CHEAP_FEATURES of a word that depend on the word alone (CORE_LISTS): capitalised, all in capitals,
    lowercase, first name, ambiguous first name, surname, has a digit, punctuation, stopword."""
    core = CORE_LISTS
    return (is_cap(w), len(w) > 1 and w.isupper(), w[:1].islower(), known_first(w, core) or w.title() in core.first,
            w in core.ambiguous, is_surname(w, core), any(c.isdigit() for c in w), not any(c.isalnum() for c in w),
            w.lower() in STOPWORDS)


def cheap_features(words: list[str], line_start: list[bool]) -> np.ndarray:
    """A few hand-made per-word features fed to the name head next to the encoder features (``CORE_LISTS``, as
    the head was trained)."""
    n = len(words)
    initial = sentence_initial(words, line_start)
    rules = rule_names(words, line_start, CORE_LISTS)
    alone = [_word_features(w) for w in words]
    rows = []
    for i, (cap, caps, lower, first, ambiguous, surname, digit, punctuation, stopword) in enumerate(alone):
        rows.append((cap, caps, lower, initial[i], first, ambiguous, surname,
                     i > 0 and is_title(words[i - 1].lower()),  # after a title
                     i > 0 and alone[i - 1][0] and not initial[i - 1],  # after a capitalised word
                     i + 1 < n and alone[i + 1][0],  # before a capitalised word
                     digit, punctuation, stopword, rules[i]))
    return np.array(rows, dtype=np.float32).reshape(n, len(CHEAP_FEATURES))


def decide_names(words: list[str], line_start: list[bool], probs: np.ndarray, threshold: float,
                 lone_initial_threshold: float) -> np.ndarray:
    """Which words the model's probabilities mark as names: P >= threshold, or >= lone_initial_threshold for a
    sentence's first word in no name list, no rare word (``lexicon.rare_word``) and without a capitalised word
    after it; model candidates only."""
    initial = sentence_initial(words, line_start)
    n = len(words)
    out = np.zeros(n, dtype=bool)
    for i, w in enumerate(words):
        if not model_candidate(w):
            continue
        t = threshold
        if initial[i] and not (known_first(w) or is_surname(w)) and not (
                i + 1 < n and is_cap(words[i + 1]) and is_wordlike(words[i + 1])) and not rare_word(w):
            t = max(threshold, lone_initial_threshold)
        out[i] = probs[i] >= t
    return out


def name_spans(text: str, offsets: list[tuple[int, int]], is_name: np.ndarray) -> list[Span]:
    """Merge name words that follow each other (only whitespace between) into one span each."""
    spans: list[Span] = []
    for (s, e), flag in zip(offsets, is_name):
        if not flag:
            continue
        if spans and text[spans[-1].end : s].strip() == "" and s - spans[-1].end <= 2:
            spans[-1] = Span(spans[-1].start, e, "namn")
        else:
            spans.append(Span(s, e, "namn"))
    return spans



def extra_rule_names(words: list[str], line_start: list[bool] | None = None, lists: NameLists = GAZETTEER
                     ) -> np.ndarray:
    """Names the core rules leave: listed first names in lowercase anywhere ("pratade med karin", "anna lund"),
    -sson surnames in lowercase, possessives of listed first names ("Annas", "karins"), an initial before a
    capitalised word ("K. Lund"), a capitalised word after a label and a colon ("Kontakt: Soran") or after "ring
    upp", and a listed (or ambiguous) first name that is a whole cell ("Gerd")."""
    n = len(words)
    out = np.zeros(n, dtype=bool)
    for i, w in enumerate(words):
        if (_INITIAL_RE.match(w) and i + 2 < n and words[i + 1] == "." and is_cap(words[i + 2])
                and is_wordlike(words[i + 2]) and words[i + 2].lower() not in STOPWORDS
                and not is_title(words[i + 2].lower())):
            out[i : i + 3] = True  # "K. Lund", "I. Frid": the period belongs to the name
            continue
        if not is_wordlike(w) or w.lower() in STOPWORDS or w.lower() in NOT_NAMES:
            continue
        if w.islower() and len(w) >= 3:
            t = w.title()
            stem = t[:-1] if t.endswith("s") and len(t) >= 4 else None
            if (t in lists.first or (stem in lists.first)) or _LOWER_NAME_SUFFIX_RE.match(w):
                out[i] = True
        elif is_cap(w) and w.endswith("s") and len(w) >= 4 and w[:-1] in lists.first:
            out[i] = True  # "Annas bemötande"
        elif is_cap(w) and n == 1 and (w in lists.first or w in lists.ambiguous):
            out[i] = True  # a cell holding a first name only
        elif (is_cap(w) and len(w) > 1 and i >= 2 and words[i - 1] == ":"
              and words[i - 2].lower() in LABEL_WORDS | TITLE_WORDS and not is_title(w.lower())):
            out[i] = True  # "Kontakt: Soran"
        elif (is_cap(w) and i >= 2 and words[i - 1].lower() == "upp" and words[i - 2].lower() in ("ring", "ringa")):
            out[i] = True  # "Ring upp Guled"
    return out


def all_rule_names(words: list[str], line_start: list[bool] | None = None) -> np.ndarray:
    """Every name rule with the gazetteer: ``rule_names``, ``extra_rule_names`` and the context rules
    (``name_context.context_names``: names in none of the lists)."""
    from synpunkt.redaction.name_context import context_names  # it builds on this module

    return (rule_names(words, line_start, GAZETTEER) | extra_rule_names(words, line_start, GAZETTEER)
            | context_names(words, line_start, GAZETTEER))


def _adjacent(offsets: list[tuple[int, int]], text: str, i: int, j: int) -> bool:
    """Words i < j follow each other with only a space (or none) between them."""
    return text[offsets[i][1] : offsets[j][0]] in ("", " ")


SIGNATURE_SURNAME_ZIPF = 2.5
"""A capitalised word rarer than this before ", <listed first name>" is a surname written first when it is no common
word ("Yousefi, Tove") or is hyphenated of capitalised parts ("Al-Hassan, Tove", "Abu-Salem, Tove": the parts may
be words of their own)."""


def _capitalised_parts(w: str) -> bool:
    """A hyphenated word whose parts are all capitalised ("Al-Hassan", "Ben-Ali"; not "E-tjänsten")."""
    parts = w.split("-")
    return len(parts) > 1 and all(p[:1].isupper() and p[1:].islower() for p in parts)


def extend_names(text: str, words: list[str], offsets: list[tuple[int, int]], line_start: list[bool],
                 is_name: np.ndarray) -> np.ndarray:
    """Grow each run of name words to the whole name: the capitalised word after it (a surname), a listed
    surname in lowercase after it ("anna lund"), the capitalised word before it (a first name: not at a
    sentence start unless the name is a surname, "Filmon Olsson"), a surname and comma before it ("Lund, Karin";
    any capitalised word where that is the whole text; a rare hyphenated one before a listed first name,
    "Al-Hassan, Tove"), and an initial before it ("L. Andersson"). A word that is
    no common word (``lexicon.rare_word``) counts as a name beside one: at a sentence start ("Szymon Janczura"),
    in lowercase ("fatima doğan", "zabihullah gebru") and around the comma of a short cell ("Kumar, Rojda")."""
    flags = np.array(is_name, dtype=bool)
    initial = sentence_initial(words, line_start)
    n = len(words)

    def name_word(k: int) -> bool:
        w = words[k]
        return (is_wordlike(w) and w.lower() not in STOPWORDS and w.lower() not in NOT_NAMES
                and not is_title(w.lower()) and not _ACRONYM_RE.match(w))

    def surname_word(k: int) -> bool:
        return words[k] in GAZETTEER.all_surnames or is_surname(words[k])

    def surname_word_low(k: int) -> bool:
        return words[k].title() in GAZETTEER.all_surnames or bool(_LOWER_NAME_SUFFIX_RE.match(words[k]))

    cell = n <= 4  # "Sultani, Selam", "haddad, ghada": a cell, where the order may be surname first

    def listed_beside(k: int) -> bool:  # "Holm, Lund och Berg": a listed name that is also a word, in a list
        return (0 <= k < n and not flags[k] and is_cap(words[k]) and not initial[k] and name_word(k)
                and (words[k] in GAZETTEER.all_surnames or words[k] in GAZETTEER.ambiguous)
                and not (k + 1 < n and words[k + 1].lower() in PLACE_AFTER))

    changed = True
    while changed:
        changed = False
        for i in range(n):
            if not flags[i] or not is_wordlike(words[i]):
                continue
            j = i + 1
            if j < n and not flags[j] and _adjacent(offsets, text, i, j) and name_word(j) and (
                    (is_cap(words[j]) and not initial[j])
                    or (words[j].islower() and (words[j].title() in GAZETTEER.all_surnames
                                                or _LOWER_NAME_SUFFIX_RE.match(words[j]) or rare_word(words[j])))):
                flags[j] = changed = True
            j = i - 1
            if j >= 0 and not flags[j] and _adjacent(offsets, text, j, i) and name_word(j) and is_cap(words[j]) and (
                    not initial[j] or surname_word(i) or rare_word(words[j])):
                flags[j] = changed = True
            if (i >= 2 and words[i - 1] == "," and not flags[i - 2] and name_word(i - 2)
                    and (is_cap(words[i - 2]) or (cell and words[i - 2].islower()))
                    and (surname_word(i - 2) or surname_word_low(i - 2) or (i == 2 and n == 3) or (
                        cell and rare_word(words[i - 2])) or (
                        known_first(words[i]) and is_cap(words[i - 2]) and zipf(words[i - 2]) < SIGNATURE_SURNAME_ZIPF
                        and (_capitalised_parts(words[i - 2]) or rare_word(words[i - 2]))))):
                flags[i - 2] = changed = True  # "Lund, Karin", "Al-Hassan, Tove" (a surname first, as in registers)
            if (j >= 0 and not flags[j] and _adjacent(offsets, text, j, i) and words[j].islower() and (
                    (name_word(j) and (words[j].title() in GAZETTEER.first | GAZETTEER.ambiguous
                                       or (rare_word(words[j]) and words[i].islower())))
                    or (words[j].title() in GAZETTEER.ambiguous and words[i].islower() and surname_word_low(i)))):
                flags[j] = changed = True  # "bo nilsson", "zabihullah gebru", "hans hansson": a first name
            if (i + 2 < n and words[i + 1] == "," and not flags[i + 2] and (surname_word(i) or cell)
                    and (is_cap(words[i + 2]) or (cell and words[i + 2].islower() and rare_word(words[i + 2])))
                    and name_word(i + 2) and (i + 3 == n or not is_wordlike(words[i + 3]))):
                flags[i + 2] = changed = True  # "Wang, Ubah": the first name after a surname and a comma
            for step in (1, -1):  # a name joined by "," or "och" to this one
                if 0 <= i + step < n and words[i + step].lower() in _LIST_JOINS and listed_beside(i + 2 * step):
                    flags[i + 2 * step] = changed = True
            if (i >= 2 and words[i - 1] == "." and _ANY_INITIAL_RE.match(words[i - 2]) and not flags[i - 2]
                    and text[offsets[i - 1][1] : offsets[i][0]] == " "):
                flags[i - 2] = flags[i - 1] = changed = True
    return flags


CLAUSE_WORD_ZIPF = 4.0
"""A capitalised word this frequent in Swedish (about one in 100,000 words: "Allt", "Hoppas", "Gäller", "Mobil")
after a name, in none of the name lists, starts the next clause of a comment that left out its full stop."""
CLAUSE_NOUN_ZIPF = 3.0
"""The same for a noun in the definite form ("Mötet", "Hemtjänsten", "Receptionen"), which no surname is."""
CLAUSE_AFTER_ONE_ZIPF = 5.0
"""Right after a single name word only a very frequent word ("Allt", "Hoppas", "Gäller") is cut: a rarer one may be
an unlisted surname that is also a word ("Anna Sommar")."""
_DEFINITE_ENDINGS = ("en", "et", "na", "rn", "ln")


@lru_cache(maxsize=WORD_CACHE)
def clause_word(w: str) -> bool:
    """A capitalised common Swedish word that is no listed name: after a name it starts a new clause ("Mvh Stig
    Engström Allt fungerade bra"), so a name span stops before it."""
    if len(w) < 3 or not is_cap(w) or not is_wordlike(w) or "-" in w:
        return False
    if known_first(w) or w in GAZETTEER.ambiguous or w in GAZETTEER.all_surnames or is_surname(w):
        return False
    if not common_word(w):
        return False
    f = zipf(w)
    low = w.lower()
    return f >= CLAUSE_WORD_ZIPF or (f >= CLAUSE_NOUN_ZIPF and low.endswith(_DEFINITE_ENDINGS) and known_word(low))


def stop_at_clause_words(text: str, words: list[str], offsets: list[tuple[int, int]], is_name: np.ndarray
                         ) -> np.ndarray:
    """Cut each run of name words (only a space between them) at a ``clause_word`` after two name words (after one
    only a very frequent one; never after a particle: "Hjalmar von Essen"): that word and the rest of the run are
    no name ("Mvh Stig Engström Allt fungerade" keeps "Allt fungerade")."""
    flags = np.array(is_name, dtype=bool)
    n = len(words)
    i = 0
    while i < n:
        if not flags[i]:
            i += 1
            continue
        j = i + 1
        while j < n and flags[j] and _adjacent(offsets, text, j - 1, j):
            j += 1
        for k in range(i + 1, j):
            if clause_word(words[k]) and is_cap(words[k - 1]) and (
                    k - i >= 2 or zipf(words[k]) >= CLAUSE_AFTER_ONE_ZIPF):
                flags[k:j] = False
                break
        i = j
    return flags


def for_names(text: str) -> str:
    """The text to look for names in: a text written in capitals ("PETTERSSON ELISABET") title-cased, placeholders
    kept; any other text as it is (same length, so offsets hold)."""
    letters = PLACEHOLDER_RE.sub("", text)
    if not any(c.isalpha() for c in letters) or not letters.isupper():
        return text
    parts, pos = [], 0
    for m in PLACEHOLDER_RE.finditer(text):
        parts += [text[pos : m.start()].title(), m.group()]
        pos = m.end()
    parts.append(text[pos:].title())
    titled = "".join(parts)
    return titled if len(titled) == len(text) else text


_PLACE_PREPOSITIONS = {"i", "vid", "mot", "utanför", "nära", "genom", "inom"}
PLACE_PREPOSITIONS = _PLACE_PREPOSITIONS | {"till", "från", "ur", "runt"}
"""Words before a place ("Bussen till Borås är full"): a word ending in s after them is no possessive."""
_INSTITUTION_ENDINGS = ("boendet", "boende", "skolan", "skola", "gården", "huset", "centret", "centrum", "kyrkan",
                        "hallen", "parken", "park", "enheten", "hemmet", "stationen", "torget")


def drop_places(words: list[str], is_name: np.ndarray) -> np.ndarray:
    """Unmark a lone capitalised word that reads as a place: after "i", "vid", "mot" ("bor i Rosengård") unless it
    is a listed first name, or after an institution ("Äldreboendet Björken", "Skola Öst")."""
    flags = np.array(is_name, dtype=bool)
    n = len(words)
    for i, w in enumerate(words):
        if not flags[i] or i == 0 or not is_cap(w):
            continue
        lone = not (i + 1 < n and flags[i + 1]) and not flags[i - 1]
        prev = words[i - 1].lower()
        if lone and prev in _PLACE_PREPOSITIONS and not known_first(w) and not w.endswith("s"):
            flags[i] = False
        elif prev.endswith(_INSTITUTION_ENDINGS) and not known_first(w):
            flags[i] = False
    return flags
