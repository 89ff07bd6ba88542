"""Labelled data loaders: the in-domain comments, the public sets and any labelled file."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import load_file_module
from synpunkt.config import SHIPPABLE_PUBLIC_SOURCES
from synpunkt.data import assign_split, load_in_domain, load_labelled_file, load_public, validate_labelled
from synpunkt.labels import SENTIMENTS, TOPICS


def test_in_domain_data_is_complete_and_consistent():
    df = load_in_domain()
    assert len(df) >= 1500 and df["text"].is_unique
    assert set(df["sentiment"]) == set(SENTIMENTS)
    assert all(t and set(t) <= set(TOPICS) for t in df["topics"])
    assert all(set(d) == set(t) for d, t in zip(df["topic_sentiment"], df["topics"]))
    assert (df["split"] == df["id"].map(assign_split)).all(), "the stored split is the fixed hash split"
    assert df["split"].value_counts().to_dict().keys() == {"train", "validation", "test"}


def test_public_sets_load_with_one_schema(shared_data):
    df = load_public(SHIPPABLE_PUBLIC_SOURCES, shared_data)
    assert set(df["source"]) == set(SHIPPABLE_PUBLIC_SOURCES)
    assert df["sentiment"].isin(SENTIMENTS).all() and df["topics"].isna().all()
    assert set(df["split"]) == {"train", "validation", "test"}


def test_unknown_public_source_is_a_clear_error(shared_data):
    with pytest.raises(FileNotFoundError, match="not found; available"):
        load_public(("no_such_set",), shared_data)


def test_labelled_file_with_topic_strings(tmp_path):
    path = tmp_path / "l.csv"
    pd.DataFrame({"kommentar": ["Bra", "Lång kö"], "label": ["Positive", "negative"],
                  "topics": ["handler; experience", ""]}).to_csv(path, index=False)
    df = load_labelled_file(path)
    assert list(df["sentiment"]) == ["positive", "negative"]
    assert list(df["topics"]) == [["handler", "experience"], []]


def test_bad_labels_name_the_rows_not_the_text():
    df = pd.DataFrame({"text": ["hemlig text", "b"], "sentiment": ["glad", "positive"], "topics": [None, ["x"]],
                       "topic_sentiment": None, "source": "s", "split": "test"})
    with pytest.raises(ValueError, match=r"unknown sentiment \['glad'\]") as err:
        validate_labelled(df, "file.csv")
    assert "hemlig" not in str(err.value)


def test_training_comments_are_not_near_duplicates_of_the_test_material():
    """The comments written for the robustness issue (ids d.... to g...., o...., p....) and for issue 8 (h....) may not be near
    copies (character n-gram cosine >= 0.85) of a behaviour-suite text or an independent test comment: those
    measure generalisation and must stay unseen. Older rows are held to >= 0.92 (a few short stock phrases such
    as "Vi får väl se." sit close to suite texts such as "Vi får se.")."""
    import json

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    from synpunkt.behaviour import load_suite, suite_texts
    from synpunkt.config import INDEPENDENT_TEST_DATA

    df = load_in_domain()
    ours = df["text"].tolist()
    independent = [json.loads(line)["text"] for line in INDEPENDENT_TEST_DATA.read_text(encoding="utf-8").splitlines()
                   if line.strip()]
    held_out = suite_texts(load_suite()) + independent
    vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit(ours + held_out)
    similarity = cosine_similarity(vectoriser.transform(ours), vectoriser.transform(held_out)).max(axis=1)
    limit = df["id"].str[0].isin(["d", "e", "f", "g", "h", "j", "o", "p", "q"]).map({True: 0.85, False: 0.92})
    rows = [i for i, (s, lim) in enumerate(zip(similarity, limit)) if s >= lim]
    assert not rows, f"in-domain row(s) {rows[:10]} nearly repeat a behaviour-suite or independent test text"


def test_apply_relabels_sets_topics_from_the_new_topic_sentiment_and_skips_stale_rows():
    module = load_file_module("scripts/apply_relabels.py")
    rows = [{"id": "a1", "topics": ["handler", "experience"], "topic_sentiment": {"handler": "positive",
                                                                                  "experience": "positive"}},
            {"id": "a2", "topics": ["experience"], "topic_sentiment": {"experience": "negative"}}]
    candidates = [{"id": "a1", "field": "topic_sentiment", "old": rows[0]["topic_sentiment"],
                   "new": {"handler": "positive"}},
                  {"id": "a2", "field": "topic_sentiment", "old": {"experience": "positive"},
                   "new": {"handler": "negative"}},
                  {"id": "zz", "field": "topic_sentiment", "old": {}, "new": {"handler": "negative"}}]
    out, counts = module.apply_relabels(rows, candidates)
    assert out[0]["topics"] == ["handler"] and out[0]["topic_sentiment"] == {"handler": "positive"}
    assert out[1] == rows[1], "a row that changed since the proposal is left alone"
    assert counts == {"applied": 1, "stale": 1, "unknown": 1}
