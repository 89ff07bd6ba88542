"""Redaction of a batch's strings: comment texts, metadata keys and values, quarantined cells, the file name.

Wraps a synpunkt.redact.Redactor so that each distinct string is redacted once per batch (a bounded cache: metadata
and short comments repeat a lot) and the encoder sees small sub-batches (its features for all words of a call are
held at once, which is where the memory of a 200,000-row batch went when it was redacted in one call).

Metadata headers lose identifiers of a fixed shape only (a header is no name: "ärendetyp", "Svarstid"), and every
cell of a column whose header says it holds a name ("efternamn", "kontaktperson") becomes a name placeholder
(synpunkt.redaction.columns). File names go through the whole redactor, names too.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable

import pandas as pd

from synpunkt.municipalities import load_municipalities
from synpunkt.redact import apply_spans
from synpunkt.redaction.columns import contact_cell, contact_column, is_name_column, name_cell, redact_header
from synpunkt.redaction.spans import PLACEHOLDERS

CACHE_ENTRIES = 50_000
SUB_BATCH = 256


_CODE_YEAR = re.compile(r"(?<![0-9])((?:" + "|".join(load_municipalities()["code"]) + r")_(?:19|20)[0-9]{2})(?![0-9])")
"""A four-digit municipality code and a year joined by an underscore, as in exported file names."""


def _missing(value) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


class RedactionCache:
    """Redact strings with `redactor`, each distinct one once while it stays in the cache."""

    def __init__(self, redactor, max_entries: int = CACHE_ENTRIES, sub_batch: int = SUB_BATCH):
        self.redactor = redactor
        self.max_entries = max_entries
        self.sub_batch = sub_batch
        self._texts: dict[str, tuple[str, str]] = {}  # raw -> (redacted, counts as JSON)
        self._labels: dict[str, str] = {}
        self._file_labels: dict[str, str] = {}

    def _lookup(self, values: Iterable[str]) -> dict[str, tuple[str, str]]:
        wanted = set(values)
        missing = sorted(v for v in wanted if v not in self._texts)
        if len(self._texts) + len(missing) > self.max_entries:
            self._texts.clear()
            missing = sorted(wanted)
        for start in range(0, len(missing), self.sub_batch):
            part = missing[start:start + self.sub_batch]
            for raw, red in zip(part, self.redactor.redact_many(part)):
                self._texts[raw] = (red.text, json.dumps(red.counts))
        return {v: self._texts[v] for v in wanted}

    def remember(self, values: list[str], redactions: list) -> None:
        """Keep redactions of `values` made elsewhere (ingest's shared encoder pass: synpunkt.ingest_compute)."""
        if len(self._texts) + len(values) > self.max_entries:
            self._texts.clear()
        for raw, red in zip(values, redactions):
            self._texts[raw] = (red.text, json.dumps(red.counts))

    def texts(self, values: list[str]) -> list[tuple[str, str]]:
        """(redacted text, counts per type as JSON) for each value."""
        found = self._lookup(values)
        return [found[v] for v in values]

    def label(self, label: str) -> str:
        """A file-name stem with personal data replaced: "_" is read as a space, so "Karin_Lund" is found as a
        name."""
        if label not in self._file_labels:
            [spans] = self.redactor.find_spans_many([label.replace("_", " ")])
            self._file_labels[label] = apply_spans(label, spans).text  # same offsets
        return self._file_labels[label]

    def labels(self, labels: Iterable[str]) -> dict[str, str]:
        """Column headers with identifiers of a fixed shape replaced (a personnummer, phone number, e-mail); the
        words of a header are kept ("ärendetyp", "Kontaktväg", the reader's own "line")."""
        for x in {str(x) for x in labels} - self._labels.keys():
            self._labels[x] = redact_header(x)
        return {str(x): self._labels[str(x)] for x in labels}

    def file_name(self, name: str) -> str:
        """The submitter's file name with personal data replaced (the suffix kept). A municipality code and a year
        joined by "_" ("synpunkter_0180_2023") are kept as they are: the phone rules would read them as a number."""
        stem, suffix = os.path.splitext(name)
        if not stem:
            return name
        parts = _CODE_YEAR.split(stem)  # [text, code_year, text, ...]
        return "".join(part if i % 2 else (self.label(part) if part else part)
                       for i, part in enumerate(parts)) + suffix

    def mappings(self, rows: list[dict], cell_rules: dict[str, Callable[[str], str]] | None = None) -> list[dict]:
        """Metadata dicts (str -> str) with keys and values redacted; every cell of a name column ("efternamn",
        "kontaktperson") is a name placeholder, and every address or number in an e-mail, phone or identity-number
        column ("E-post", "Mobil", "Pnr") that kind's placeholder."""
        keys = self.labels({k for row in rows for k in row})
        names = {k for k in keys if is_name_column(k)}
        contacts = {k: kind for k in keys if k not in names and (kind := contact_column(k))}
        values = self._lookup(v for row in rows for k, v in row.items()
                              if isinstance(v, str) and v and str(k) not in names)
        out = []
        for row in rows:
            redacted: dict = {}
            for k, v in row.items():
                name, n = keys[str(k)], 1
                while name in redacted:  # two headers that differ only in personal data stay two keys
                    n += 1
                    name = f"{keys[str(k)]} ({n})"
                if str(k) in names:
                    redacted[name] = PLACEHOLDERS["namn"] if name_cell(v) else v
                elif cell_rules and str(k) in cell_rules:  # the caller's own rule for this column (case ids)
                    redacted[name] = cell_rules[str(k)](v) if isinstance(v, str) and v else v
                elif str(k) in contacts and contact_cell(contacts[str(k)], v):
                    redacted[name] = PLACEHOLDERS[contacts[str(k)]]
                else:
                    redacted[name] = values[v][0] if isinstance(v, str) and v else v
            out.append(redacted)
        return out

    def rows(self, rows: list[dict | None],
             cell_rules: dict[str, Callable[[str], str]] | None = None) -> list[str | None]:
        """Quarantined rows' cells (any types) as redacted JSON objects; None stays None (NULL). ``cell_rules``:
        header -> how that column's cells are redacted instead (a case id keeps its case number)."""
        cells = [None if row is None else {str(k): None if _missing(v) else str(v) for k, v in row.items()}
                 for row in rows]
        redacted = self.mappings([c for c in cells if c is not None], cell_rules)
        it = iter(redacted)
        return [None if c is None else json.dumps(next(it), ensure_ascii=False) for c in cells]
