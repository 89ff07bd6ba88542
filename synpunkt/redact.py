"""Redact personal data from citizen comments: the public names of ``synpunkt.redaction``, kept at this path.

The code lives in the package ``synpunkt/redaction/`` (one module per job; see its docstring). Train the name
head (writes ``models/redaction/``)::

    python -m synpunkt.redact train [--data PATH]
"""

from __future__ import annotations

import sys

from synpunkt.redaction import (
    PLACEHOLDERS,
    NameModel,
    Redaction,
    Redactor,
    Span,
    apply_spans,
    load_ner_corpus,
    ner_corpus_path,
    pattern_spans,
    redact,
    redact_many,
    redaction_model_dir,
    score_on_ner,
    train,
)
from synpunkt.redaction.cli import main

__all__ = ["PLACEHOLDERS", "NameModel", "Redaction", "Redactor", "Span", "apply_spans", "load_ner_corpus", "main",
           "ner_corpus_path", "pattern_spans", "redact", "redact_many", "redaction_model_dir", "score_on_ner", "train"]

if __name__ == "__main__":
    sys.exit(main())
