"""Redaction of personal data from citizen comments before anything is stored.

One module per job:

* ``spans``: the placeholders, ``Span``, ``Redaction`` and applying spans to a text;
* ``number_context``: what marks a number as a date, time range, sum or case number (shared guards);
* ``identity_numbers``: personnummer and samordningsnummer (shape, date and context; python-stdnum's Luhn);
* ``phones``: phone numbers (the phonenumbers library plus hand-written shapes, and numbers read out in words);
* ``payment_numbers``: card numbers, IBANs, bank accounts and giro numbers;
* ``addresses``: street, Box and postcode addresses;
* ``vehicles``: car registration numbers (Swedish plates);
* ``patterns``: e-mail and the order in which the rules above take precedence;
* ``columns``: metadata headers (only fixed-shape identifiers taken out) and name columns (every cell a name);
* ``name_lists`` and ``names``: the name rules and the per-word decisions around the model;
* ``name_model``: the encoder + logistic-regression head that finds names the rules miss;
* ``name_model_training``: training and measuring the head on the Swedish NER corpus;
* ``redactor``: the ``Redactor`` that puts it all together; ``cli``: ``python -m synpunkt.redact train``.
"""

from synpunkt.redaction.name_model import NameModel, ner_corpus_path, redaction_model_dir
from synpunkt.redaction.name_model_training import load_ner_corpus, score_on_ner, train
from synpunkt.redaction.patterns import pattern_spans
from synpunkt.redaction.redactor import Redactor, redact, redact_many
from synpunkt.redaction.spans import PLACEHOLDERS, Redaction, Span, apply_spans

__all__ = ["PLACEHOLDERS", "NameModel", "Redaction", "Redactor", "Span", "apply_spans", "load_ner_corpus",
           "ner_corpus_path", "pattern_spans", "redact", "redact_many", "redaction_model_dir", "score_on_ner", "train"]
