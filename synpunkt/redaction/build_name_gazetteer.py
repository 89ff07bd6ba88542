"""Write the name gazetteer (first_names.txt, surnames.txt beside this file) from Faker's name lists.

Faker (MIT licence; a test dependency) carries lists of common first names and surnames per locale; the Swedish
one follows Statistics Sweden's name statistics and so holds names common in Sweden of every origin. The
gazetteer takes the Swedish list and those of the largest groups of people born abroad with Latin-script name
lists (Finland, Norway, Denmark, Poland, former Yugoslavia; Turkish surnames). Names that are also common Swedish
words are kept here and handled in ``name_lists`` (``COMMON_WORD_NAMES``). Re-run after a Faker upgrade::

    python -m synpunkt.redaction.build_name_gazetteer
"""

from __future__ import annotations

import importlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIRST_LOCALES = ("sv_SE", "fi_FI", "no_NO", "da_DK", "pl_PL", "hr_HR")
LAST_LOCALES = ("sv_SE", "fi_FI", "no_NO", "da_DK", "hr_HR", "tr_TR")
HEADER = "# {what} from Faker {version} (MIT licence), locales {locales}; written by {module}\n"


def _latin_word(name: str) -> bool:
    return bool(name) and " " not in name and all(ord(c) < 0x250 or c in "-'" for c in name)


def _names(locale: str, prefix: str) -> set[str]:
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    out: set[str] = set()
    for attr in dir(provider):
        value = getattr(provider, attr)
        if attr.startswith(prefix) and isinstance(value, (list, tuple, dict)):
            out |= {str(v) for v in value if _latin_word(str(v))}
    return out


def build(out_dir: Path = HERE) -> tuple[int, int]:
    """Write first_names.txt and surnames.txt; returns how many of each."""
    import faker

    firsts = set().union(*(_names(loc, "first_names") for loc in FIRST_LOCALES))
    lasts = set().union(*(_names(loc, "last_names") for loc in LAST_LOCALES)) - {"Doe"}
    for name, what, values, locales in (("first_names.txt", "first names", firsts, FIRST_LOCALES),
                                         ("surnames.txt", "surnames", lasts, LAST_LOCALES)):
        header = HEADER.format(what=what, version=faker.VERSION, locales=", ".join(locales),
                               module="synpunkt.redaction.build_name_gazetteer")
        (out_dir / name).write_text(header + "\n".join(sorted(values)) + "\n", encoding="utf-8")
    return len(firsts), len(lasts)


if __name__ == "__main__":
    print("first names %d, surnames %d" % build())
