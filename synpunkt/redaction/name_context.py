"""Names in none of the name lists, found by their context: who is addressed, who signs, what a cell holds.

A word that is no common Swedish word (``lexicon.rare_word``) is taken for a name where people write names:
after a verb or phrase of naming or addressing ("heter Soran", "pratade med ubah", "fråga efter Zana", "enligt
Habtom", "hälsningar Sagal", "det är Berivan som"), in a signature ("/Hawre", "/h. haddad"), as a cell of one to
three such words ("Kourosh", "Sultani, Selam", "owczarczak róża"), and as a possessive in mid-sentence ("Tsegas
beslut"). Also an initial before a surname in lowercase ("k. hashemi"). Common words, typos of them, inflections
and compounds are never taken here; names that are also words ("Soran", "Emir") are left to the lists and the
name model, except a listed surname that is also a word, capitalised in mid-sentence, right after a person
context ("talade med Ek", "fråga efter Holm", "Tack till Berg", and "sedan med Lund" after "pratade med"), and a
listed first name that is also a word ("Rosa", "Sten", "Ros", the nickname "Ankan") capitalised after a greeting
and before "!", ",", "." or "för" ("Hej Rosa!", "Tack Ankan för ...") or before a workplace ("Ros i kundtjänst
förstod": in mid-sentence, or at a sentence's start with a person's verb after it, "Sten på gatukontoret sa").
"""

from __future__ import annotations

import numpy as np

from synpunkt.redaction.lexicon import rare_word, zipf
from synpunkt.redaction.name_lists import GAZETTEER, NOT_NAMES, STOPWORDS, NameLists
from synpunkt.redaction.names import (
    LABEL_WORDS,
    LOWERCASE_CONTEXT,
    PLACE_AFTER,
    PLACE_PREPOSITIONS,
    SENTENCE_END,
    is_cap,
    is_surname,
    is_title,
    is_wordlike,
    known_first,
    sentence_initial,
)

NAMING_WORDS = frozenset("""
heter hette kallas kallad mvh hälsningar hälsning hälsar enligt kontakta kontaktade kontaktat ring ringa ringde
ringer ringt signerat undertecknad träffade träffat träffa träffar
""".split())
"""Words after which a rare word is a name: "heter Soran", "Ring Ghada", "enligt Habtom"."""
NAMING_PAIRS = {
    "med": frozenset("pratade pratat prata pratar talade talat tala talar träffade träffat träffa träffar "
                     "möte mötet samtal samtalet kontakt kontakten".split()),
    "efter": frozenset("fråga frågade frågar frågat fråga".split()),
    "från": frozenset("svar svaret besked beskedet mejl mejlet brev brevet samtal samtalet hälsningar".split()),
    "till": frozenset("tack hänvisad hänvisade hänvisades skicka skickade skickat ring vidare".split()),
    "upp": frozenset("ring ringa ringde ringer".split()),
    "är": frozenset({"det"}),
    "var": frozenset({"det"}),
}
"""Two-word contexts (second word: first words): "pratade med ubah", "fråga efter Zana", "det är Berivan"."""
PERSON_VERBS = frozenset("""
lovade lovar ringde ringer svarade svarar sa sade säger skrev skriver hjälpte hjälper förklarade förklarar
berättade berättar pratade pratar tyckte tycker
""".split())
"""Verbs with a person as subject: a very rare capitalised word before one is a name ("Mahad lovade")."""
NOUN_ENDINGS = ("orna", "arna", "erna", "ningen", "ningarna", "heten")
"""Definite endings of nouns, never of a person's name: a rare word with one before a person's verb or "på" is a
thing ("Gatlyktorna på cykelvägen", "Bygglovshandläggningen svarade")."""
VERY_RARE_ZIPF = 2.5
"""Below this a capitalised word before a person's verb is taken for a name (organisations are more frequent:
"Lantmäteriet svarar aldrig")."""
_WORD_SURNAME_CONTEXT = NAMING_WORDS - {"mvh", "hälsningar", "hälsning", "hälsar"}
"""Naming words after which a capitalised surname that is also a word is a name ("kontakta Holm")."""
_NO_INITIAL = frozenset("iåö")
"""Lowercase letters that are words on their own, never taken for an initial."""


WORKPLACE_ENDINGS = ("tjänsten", "skolan", "kontoret", "förvaltningen", "enheten", "receptionen", "kommunen",
                     "boendet", "centralen", "biblioteket", "nämnden", "avdelningen", "mottagningen", "växeln",
                     "teamet", "personalen", "omsorgen", "fritids", "gården", "stadshuset", "kommunhuset", "vården",
                     "kundtjänst", "hemtjänst", "socialen", "bygglov", "lovet", "kansliet")
"""Workplaces ("hemtjänsten", "förskolan", "biblioteket"): a rare capitalised word before "från", "på", "i" or "hos"
one of them is the person who works there ("Gurra från hemtjänsten")."""
WORKPLACE_ZIPF = 3.5
"""Below this a capitalised rare word before a workplace is taken for a name (a nickname such as "Gurra" is a word
of some frequency in the news; places before a workplace are rare)."""


GREETING_WORDS = frozenset("hej hejsan hallå tjena tjenare tack kära käre bästa bäste".split())
"""Words before the name of who is greeted or thanked ("Hej Rosa!", "Tack Ankan för ...", "Kära Sten,"); "Till"
counts too at a sentence's start ("Till Sten, ...")."""
_AFTER_GREETED = frozenset({"!", ",", ".", ":", "för"})
"""What follows a greeted name ("Hej Rosa!", "Hej Sten,", "Tack Ankan för")."""
SAYING_VERBS = PERSON_VERBS | frozenset("""
sagt svarat skrivit lovat förstod förstår förstått visste vet menade menar trodde tror lyssnade lyssnar bad ber
""".split())
"""Verbs of saying and knowing: after "<first name that is a word> på <workplace>" at a sentence's start they
make it a person ("Sten på gatukontoret sa", against "Sol på förskolan är viktigt")."""
WORD_NAME_MAX_ZIPF = 5.5
"""First names that are words more frequent than this are function words at a sentence's start ("Inga på kommunen
svarade", "Bara i kundtjänsten"), unless ``_NAMES_FIRST``."""
_NAMES_FIRST = frozenset({"Hans", "Per"})
"""Frequent words that are still names before "på <workplace>" ("Hans på bygglov sa")."""


def _greeted(words: list[str], i: int, initial: list[bool], lists: NameLists) -> bool:
    """Word ``i`` is a first name that is a word, capitalised after a greeting and before "!", ",", "." or "för":
    "Hej Rosa!", "Tack Ankan för", "Kära Sten,"."""
    w = words[i]
    if i < 1 or not is_cap(w):
        return False
    prev = words[i - 1].lower()
    if prev not in GREETING_WORDS and not (prev == "till" and initial[i - 1]):
        return False
    if i + 1 < len(words) and words[i + 1].lower() not in _AFTER_GREETED:
        return False
    return w in lists.ambiguous  # not any rare word: "Tack Lantmäteriet för hjälpen!"


def _word_name_at_work(words: list[str], i: int, initial: list[bool], lists: NameLists) -> bool:
    """Word ``i`` is a first name that is a word, capitalised before "på", "i", "från", "hos" or "vid" and a
    workplace: in mid-sentence ("vecka Ros i kundtjänst förstod"), or at a sentence's start with a verb of saying or
    knowing later in the sentence ("Sten på gatukontoret sa att ...")."""
    w = words[i]
    if not (is_cap(w) and w in lists.ambiguous and _works_at(words, i)):
        return False
    if zipf(w.lower()) >= WORD_NAME_MAX_ZIPF and w not in _NAMES_FIRST:
        return False
    if not initial[i]:
        return True
    for k in range(i + 3, min(len(words), i + 12)):
        if words[k] in SENTENCE_END:
            return False
        if words[k].lower() in SAYING_VERBS:
            return True
    return False


def _works_at(words: list[str], i: int) -> bool:
    """Word ``i`` is followed by "från", "på", "i", "hos" or "vid" and a workplace in lowercase."""
    return (i + 2 < len(words) and words[i + 1] in ("från", "på", "i", "hos", "vid")
            and words[i + 2].islower() and words[i + 2].endswith(WORKPLACE_ENDINGS))


def naming_context(words: list[str], i: int, lowercase: bool = False) -> bool:
    """Whether word ``i`` follows a naming or addressing context (see ``NAMING_WORDS``, ``NAMING_PAIRS``; for a
    ``lowercase`` word not "det är", which comes before adjectives as often)."""
    if i < 1:
        return False
    prev = words[i - 1].lower()
    if prev == ":" and i >= 2:
        prev = words[i - 2].lower()
        return prev in NAMING_WORDS or prev in LABEL_WORDS or is_title(prev)
    if prev in NAMING_WORDS:
        return True
    if lowercase and prev in ("är", "var"):
        return False
    return i >= 2 and words[i - 2].lower() in NAMING_PAIRS.get(prev, ())


def _person_context(words: list[str], i: int) -> bool:
    """Word ``i`` follows a context that names a person, not a place: a naming word, "pratade med", "fråga efter",
    "tack till", or "med" later in a sentence with "pratade/talade med" ("... och sedan med Lund")."""
    prev = words[i - 1].lower() if i else ""
    if prev in _WORD_SURNAME_CONTEXT:
        return True
    if i >= 2 and prev in ("med", "efter") and words[i - 2].lower() in NAMING_PAIRS[prev]:
        return True
    if i >= 2 and prev == "till" and words[i - 2].lower() == "tack":
        return True
    if prev != "med":
        return False
    for k in range(i - 2, max(0, i - 12), -1):  # back to the sentence's start
        if words[k] in SENTENCE_END:
            return False
        if words[k].lower() == "med" and words[k - 1].lower() in NAMING_PAIRS["med"]:
            return True
    return False


def word_surname_named(words: list[str], i: int, initial: list[bool], lists: NameLists = GAZETTEER) -> bool:
    """A listed surname that is also a word ("Ek", "Lund", "Berg"), capitalised in mid-sentence after a person
    context (``_person_context``) and not before "kommun" or "stad"."""
    w = words[i]
    return (is_cap(w) and not initial[i] and w in lists.all_surnames and _person_context(words, i)
            and not (i + 1 < len(words) and words[i + 1].lower() in PLACE_AFTER))


def listed(w: str, lists: NameLists = GAZETTEER, surnames: bool = True) -> bool:
    """A listed first name (any case), an ambiguous one, or (``surnames``) any listed surname or -sson name."""
    t = w if is_cap(w) else w.title()
    return (known_first(t, lists) or t in lists.ambiguous
            or (surnames and (t in lists.all_surnames or is_surname(t, lists))))


def _free(w: str) -> bool:
    """A word that may be a name at all: letters, no stopword, no title, not in ``NOT_NAMES``."""
    low = w.lower()
    return is_wordlike(w) and low not in STOPWORDS and low not in NOT_NAMES and not is_title(low)


def _signature(words: list[str], line_start: list[bool], i: int) -> bool:
    """Word ``i`` comes right after a "/" that starts the text, a line or a sentence ("/Hawre")."""
    if i < 1 or words[i - 1] != "/":
        return False
    k = i - 1
    return k == 0 or line_start[k] or words[k - 1] in SENTENCE_END


def _cell(words: list[str]) -> list[int] | None:
    """The word positions of a text that is a cell of one to three words (after a label such as "Kontakt:",
    "handläggare", "Ring upp", "Hänvisad till"; with at most one comma and a final period); None otherwise."""
    k = 0
    while k < len(words) and (words[k].lower() in LABEL_WORDS | NAMING_WORDS or is_title(words[k].lower())):
        k += 1
    if k < len(words) and words[k] == ":":
        k += 1
    rest = words[k:]
    if rest and rest[-1] == ".":
        rest = rest[:-1]
    if not rest or rest.count(",") > 1 or rest[0] == "," or rest[-1] == ",":
        return None
    positions = [k + j for j, w in enumerate(rest) if w != ","]
    if not 1 <= len(positions) <= 3 or not all(is_wordlike(words[p]) for p in positions):
        return None
    return positions


def _cell_names(words: list[str], lists: NameLists) -> list[int]:
    """The positions of a cell's words when the cell reads as a name: one rare word or listed first name; or two
    or three words, all listed or rare, or (capitalised) at least one listed or rare and the others free."""
    cell = _cell(words)
    if cell is None:
        return []
    ws = [words[p] for p in cell]
    if not all(_free(w) or listed(w, lists) for w in ws):
        return []
    if len(ws) == 1:  # in lowercase only the rarest words: column names are redacted as cells too
        w = ws[0]
        rare = rare_word(w) and (is_cap(w) or zipf(w) < VERY_RARE_ZIPF)
        return cell if rare or listed(w, lists, surnames=False) else []
    name_like = [rare_word(w) or listed(w, lists) for w in ws]
    if all(name_like):
        return cell
    if any(name_like) and all(is_cap(w) for w in ws) and all(_free(w) for w in ws):
        return cell
    return []


def context_names(words: list[str], line_start: list[bool] | None = None, lists: NameLists = GAZETTEER
                  ) -> np.ndarray:
    """Names the lists miss, found by context (see the module's docstring)."""
    n = len(words)
    line_start = line_start or [False] * n
    initial = sentence_initial(words, line_start)
    out = np.zeros(n, dtype=bool)
    for p in _cell_names(words, lists):
        out[p] = True
    for i, w in enumerate(words):
        if out[i]:
            continue
        if _signature(words, line_start, i) and is_wordlike(w) and listed(w, lists, surnames=False):
            out[i] = True  # "/Hans", "/viola": a listed first name signing, even one that is also a word
            continue
        if not _free(w):
            continue
        if (naming_context(words, i, lowercase=not is_cap(w)) or _signature(words, line_start, i)) and (
                rare_word(w) or listed(w, lists, surnames=False)):
            out[i] = True  # "Fråga efter Zana", "pratade med ubah", "/Hawre"
        elif word_surname_named(words, i, initial, lists):
            out[i] = True  # "talade med Ek", "och sedan med Lund"
        elif _greeted(words, i, initial, lists) or _word_name_at_work(words, i, initial, lists):
            out[i] = True  # "Hej Rosa!", "Tack Ankan för", "Sten på gatukontoret sa"
        elif _signature(words, line_start, i) and is_cap(w) and (
                i + 1 == n or words[i + 1] in SENTENCE_END or line_start[i + 1]):
            out[i] = True  # "/Hans." : a capitalised word alone after the slash
        elif is_cap(w) and i + 1 < n and (
                words[i + 1].lower() in PERSON_VERBS
                or (words[i + 1] == "på" and i + 2 < n and words[i + 2].islower() and is_wordlike(words[i + 2]))
        ) and zipf(w) < VERY_RARE_ZIPF and rare_word(w) and not w.lower().endswith(NOUN_ENDINGS):
            out[i] = True  # "Mahad på bygglov lovade", "Liban svarade aldrig"
        elif is_cap(w) and _works_at(words, i) and zipf(w) < WORKPLACE_ZIPF and rare_word(w) and not (
                w.lower().endswith(NOUN_ENDINGS)):
            out[i] = True  # "Gurra från hemtjänsten kom aldrig", "Zebbe på förskolan"
        elif (is_cap(w) and not initial[i] and w.endswith("s") and len(w) >= 5 and rare_word(w[:-1])
              and words[i - 1].lower() not in PLACE_PREPOSITIONS
              and i + 1 < n and words[i + 1].islower() and is_wordlike(words[i + 1])):
            out[i] = True  # "Jag har aldrig fått Tsegas beslut"
    for i in range(n - 2):  # "k. hashemi", "/e. lindqvist": a lowercase initial before a surname
        w, nxt = words[i], words[i + 2]
        if (len(w) == 1 and w.isalpha() and w.islower() and w not in _NO_INITIAL and words[i + 1] == "."
                and nxt.islower() and _free(nxt) and (rare_word(nxt) or listed(nxt, lists))
                and (i == 0 or not words[i - 1].isalpha() or naming_context(words, i)
                     or is_title(words[i - 1].lower()) or words[i - 1].lower() in LABEL_WORDS | LOWERCASE_CONTEXT)):
            out[i : i + 3] = True
    return out
