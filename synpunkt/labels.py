"""The one place where label names live: sentiment classes and the five Medborgarpulsen topics."""

from __future__ import annotations

SENTIMENTS: tuple[str, ...] = ("positive", "skeptical", "negative")
"""Overall sentiment, exactly one per comment. Order defines the model's output columns."""

TOPICS: tuple[str, ...] = (
    "handler",
    "wait_time",
    "digital_services",
    "municipal_services",
    "experience",
)
"""Areas a comment is about, any number per comment (the five areas of Medborgarpulsen)."""

TOPIC_LABELS_SV: dict[str, str] = {
    "handler": "Handläggare och bemötande",
    "wait_time": "Väntetid",
    "digital_services": "Digitala tjänster",
    "municipal_services": "Kommunens tjänster",
    "experience": "Helhetsupplevelse",
}
TOPIC_LABELS_EN: dict[str, str] = {
    "handler": "Case handler and treatment",
    "wait_time": "Wait time",
    "digital_services": "Digital services",
    "municipal_services": "Municipal services",
    "experience": "Overall experience",
}
ALL_TOPICS = "all"
"""Topic code of the figures over every comment (the warehouse's yearly_shares, the reports); not a model label."""
ALL_TOPICS_LABEL_SV = "Alla synpunkter"
ALL_TOPICS_LABEL_EN = "All comments"
SENTIMENT_LABELS_SV: dict[str, str] = {
    "positive": "positiv",
    "skeptical": "skeptisk",
    "negative": "negativ",
}


def sentiment_index(label: str) -> int:
    """Index of a sentiment label; raises ValueError with the allowed values."""
    try:
        return SENTIMENTS.index(label)
    except ValueError:
        raise ValueError(f"unknown sentiment {label!r}; expected one of {', '.join(SENTIMENTS)}") from None


def topic_vector(topics: list[str] | tuple[str, ...]) -> list[float]:
    """Multi-hot vector over TOPICS; raises ValueError on an unknown topic."""
    unknown = set(topics) - set(TOPICS)
    if unknown:
        raise ValueError(f"unknown topic(s) {sorted(unknown)}; expected any of {', '.join(TOPICS)}")
    return [1.0 if t in topics else 0.0 for t in TOPICS]


def prob_column(label: str) -> str:
    """Name of the probability column for a sentiment or topic label, e.g. p_positive."""
    return f"p_{label}"
