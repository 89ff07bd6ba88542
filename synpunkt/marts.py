"""The analysts' layer of the warehouse: the views in ``sql/marts.sql``, their documentation inside the database
(``COMMENT ON`` every view and column, shown by ``duckdb_views()`` / ``duckdb_columns()`` and by DuckDB's
``DESCRIBE``-aware tools), the ``topic_labels`` reference table (names from :mod:`synpunkt.labels`) and the
comment-level mart (``comment_mart``, brought up to date at every trends refresh by :func:`build_comment_mart`:
updated for the changed comments or rebuilt, synpunkt.comment_mart): the comments joined once with their current
prediction, correction and signals and sorted by year and municipality, which the comment-level views read while
it is fresh (on 10 million comments, sub-second instead of several seconds)."""

from __future__ import annotations

from importlib import resources

from synpunkt.labels import (ALL_TOPICS, ALL_TOPICS_LABEL_EN, ALL_TOPICS_LABEL_SV, SENTIMENTS, TOPIC_LABELS_EN,
                             TOPIC_LABELS_SV, TOPICS)
from synpunkt.quarantine_reasons import reason_codes_text
from synpunkt.sql_literals import sql_string

_SENTIMENT_WORD = {"positive": "positive", "skeptical": "skeptical", "negative": "negative"}

COLUMN_DOCS: dict[str, str] = {
    "comment_id": "Stable id of the comment: a keyed hash (HMAC-SHA256) of municipality, case id, date and raw "
                  "text (README, Duplicates).",
    "municipality_code": "Four-digit SCB municipality code, e.g. 0180 (Stockholm).",
    "municipality": "Municipality name (from the municipalities reference table).",
    "county": "County (län) of the municipality.",
    "year": "Calendar year of the contact.",
    "contact_date": "Date of the contact the comment is about.",
    "channel": "Contact channel: telefon, e-post, chatt, besök, or NULL when the file gave none.",
    "text": "The comment, redacted: personal data replaced by [NAMN], [TELEFON], [PERSONNUMMER] and the like.",
    "sentiment": "Overall sentiment of the comment predicted by the current model: positive, skeptical or negative.",
    "topics": "Areas the comment is about (codes as in topic_labels), any number.",
    "topic_sentiment": "JSON map from each area to the sentiment towards it, e.g. {\"wait_time\": "
                       "\"negative\"}. For a reviewer-corrected comment an area keeps the model's own sentiment "
                       "when the model gave it one other than its overall sentiment; the other areas get the "
                       "corrected overall sentiment.",
    "topic_sentiment_p": "The model's per-area sentiment probabilities: one [p_positive, p_skeptical, p_negative] "
                         "per area in topics, in the same order (numbers only). NULL for predictions stored before "
                         "they were kept and for a reviewer-corrected comment; the per-area shares are corrected "
                         "from them (probabilistic adjusted classify-and-count), else from the labels.",
    "overall_sentiment": "Overall sentiment of the whole comment (may differ from the sentiment towards the area).",
    "metadata": "The submitted file's extra columns for this row (JSON, redacted), e.g. kön or samtalstid.",
    "external_id": "The municipality's own id of the comment (ärendenummer), when given.",
    "batch_id": "Batch (received file) the row came from: <municipality>-<first 16 hex of the file's SHA-256>.",
    "row_number": "1-based data row in the batch's file.",
    "model_version": "Classifier version the figures come from (the current model).",
    "topic": "Area code ('all' = every comment, else an area; names in topic_labels).",
    "n": "Number of comments (for an area: comments about that area).",
    "net_score": "Net score: % positive minus % negative, in percentage points (-100 to 100).",
    "net_score_lo": "Lower 95 % bound of the net score (bootstrap over comments and over the correction's fitting "
                    "data; without a fitted correction the normal approximation, which may fall below -100).",
    "net_score_hi": "Upper 95 % bound of the net score (as net_score_lo).",
    "net_score_se": "Standard error of the net score from its interval: (net_score_hi - net_score_lo) / 3.92 "
                    "(percentage points); the change tests use it.",
    "cc_net_score": "Classify-and-count net score (predicted labels counted, uncorrected), percentage points.",
    "small_sample": "True when fewer than 30 comments: shown with a warning, never ranked.",
    "n_corrected": "Comments whose answer a reviewer corrected (counted as labelled, not estimated).",
    "method": "How the shares are corrected: em (the EM prior adjustment on the probabilities recalibrated on "
              "held-out labelled comments, computed from binned log-ratios), acc (adjusted classify-and-count), "
              "pacc (probabilistic ACC) or cc (classify-and-count: no fitted correction for the model). An area's "
              "em or pacc uses the per-area probabilities (topic_sentiment_p); a group with predictions stored "
              "without them is corrected from the labels (acc, or cc).",
    "corrected": "True when a reviewer's correction overrides the model for this comment.",
    "model_sentiment": "The model's own sentiment (before any reviewer's correction).",
    "reviewer": "Who reviewed the comment (as written in the review file).",
    "imported_at": "When the review file was imported (UTC).",
    "sample_kind": "Why the comment was in the review file: uncertain (least certain) or random (random sample).",
    "source_checksum": "SHA-256 of the imported review file.",
    "n_reviewed": "Comments of the random review sample.",
    "accuracy": "Share of the random review sample where the model's sentiment equals the reviewer's.",
    "accuracy_lo": "Lower Wilson 95 % bound of accuracy.",
    "accuracy_hi": "Upper Wilson 95 % bound of accuracy.",
    "previous_year": "The year before (the comparison year).",
    "n_previous": "Number of comments in the previous year.",
    "net_score_previous": "Net score in the previous year, percentage points.",
    "change": "Change in net score since the previous year (this year minus last year), percentage points.",
    "change_se": "Standard error of the change: sqrt(se_previous^2 + se_this_year^2) from the two years' "
                 "net_score_se (which come from the bootstrap intervals), percentage points; z = change / "
                 "change_se.",
    "z": "z statistic: the difference in net score divided by its standard error (NULL when not tested).",
    "p_value": "Two-sided p-value of the z-test, the test the reports use; NULL when either sample has fewer "
               "than 10 comments.",
    "significant": "True when p_value < 0.05 (two-sided, 5 % level); false when not significant or not tested.",
    "n_rest": "Number of comments in the rest of the country (all other municipalities in the warehouse).",
    "net_score_rest": "Net score of the rest of the country (all other municipalities pooled), percentage points.",
    "net_score_national": "Net score of the whole country (this municipality included), percentage points.",
    "difference": "The municipality's net score minus the rest of the country's, percentage points "
                  "(negative = below the country).",
    "difference_se": "Standard error of the difference: both standard errors combined, sqrt(se1^2 + se2^2) "
                     "(from the intervals), percentage points; z = difference / difference_se.",
    "origin": "How the file arrived: inbox, http, api, cli or demo.",
    "original_name": "The submitter's file name (metadata only, never used as a path).",
    "status": "ingested or failed (ingesting while a run is storing it; an interrupted batch resumes).",
    "rows_received": "Data rows in the file (rows_received = rows_accepted + rows_quarantined).",
    "rows_accepted": "Rows stored as comments.",
    "rows_quarantined": "Rows kept in quarantine with a reason.",
    "error": "Why a batch failed: stage, rows and error type, never cell values (NULL for ingested batches).",
    "received_at": "When the file was received (UTC).",
    "processed_at": "When the batch was ingested or failed (UTC).",
    "raw_purged_at": "When the raw copy was deleted under the retention rule (NULL while kept).",
    "reason_code": "Why rows were quarantined: " + reason_codes_text() + " (labels: synpunkt/quarantine_reasons.py).",
    "rows": "Number of quarantined rows with this reason in this batch.",
    "alert_id": "Id of the alert: 'al-' + 16 hex of a hash of comment and category (acknowledge it with "
                "`synpunkt alerts --ack ID` or the API).",
    "category": "Urgent category: threat, self_harm or violence_close_relationship (data/urgent/GUIDE.md).",
    "probability": "The detector's probability that the comment is urgent (1 - p(none); at least 0.9 when a rule "
                   "for an unmistakable phrase fired).",
    "created_at": "When the alert was raised (UTC), during the ingest of its batch.",
    "notified_at": "When the notifier delivered the alert (UTC); NULL until delivered (retried at every run).",
    "acknowledged_at": "When someone at the municipality or an operator acknowledged the alert (UTC); NULL while "
                       "open.",
    "acknowledged_by": "Who acknowledged the alert (a name given to the CLI, or the municipality's API token).",
    "n_repeat_contact": "Number of comments that describe a repeat contact (the citizen had to contact the "
                        "municipality again about the same matter; data/repeat_contact/GUIDE.md).",
    "share_repeat_contact": "Share of comments describing a repeat contact, 0 to 1 (n_repeat_contact / n).",
    "share_repeat_contact_lo": "Lower Wilson 95 % bound of share_repeat_contact.",
    "share_repeat_contact_hi": "Upper Wilson 95 % bound of share_repeat_contact.",
    "model_topics": "For a corrected comment, the model's own areas (NULL otherwise: topics are the model's).",
    "repeat_contact": "True when the comment describes a repeat contact (comment_signals; NULL without a signal).",
    "inputs": "Row counts and latest write times of the tables the mart was built from (comment_mart_inputs()).",
    "built_at": "When the mart was built (UTC).",
    "name_sv": "Swedish name of the area.",
    "name_en": "English name of the area.",
    "sort_order": "Order in which the reports list the areas ('all' first).",
}
for _s in SENTIMENTS:
    _w = _SENTIMENT_WORD.get(_s, _s)
    COLUMN_DOCS[f"p_{_s}"] = f"The model's probability that the comment is {_w}."
    COLUMN_DOCS[f"n_{_s}"] = f"Number of {_w} comments (for an area: {_w} towards that area)."
    COLUMN_DOCS[f"share_{_s}"] = (f"Share of {_w} comments, 0 to 1, corrected for the classifier's errors "
                                  f"(see method; cc_share_{_s} is the uncorrected n_{_s} / n).")
    COLUMN_DOCS[f"share_{_s}_lo"] = (f"Lower 95 % bound of share_{_s} (bootstrap over comments and the correction's "
                                     "fitting data; Wilson without a fitted correction).")
    COLUMN_DOCS[f"share_{_s}_hi"] = f"Upper 95 % bound of share_{_s} (as share_{_s}_lo)."
    COLUMN_DOCS[f"cc_share_{_s}"] = f"Classify-and-count share of {_w} comments (n_{_s} / n, uncorrected)."

VIEW_DOCS: dict[str, tuple[str, dict[str, str]]] = {
    "current_model": ("The classifier version every view uses (one row).", {}),
    "comments_classified": ("One row per stored comment with its current prediction and municipality "
                            "(redacted text only).", {}),
    "comment_topics": ("One row per comment and predicted area with the sentiment towards that area: the "
                       "comments behind a number in yearly_shares.",
                       {"topic": "Area code the comment is about (names in topic_labels).",
                        "topic_sentiment": "Sentiment towards this area (the overall sentiment when the model "
                                           "gave none for the area): positive, skeptical or negative."}),
    "yearly_shares": ("One row per municipality, year and area ('all' = every comment): counts, shares corrected "
                      "for the classifier's errors with 95 % bootstrap intervals (Wilson without a fitted "
                      "correction), the net score with its interval, and the classify-and-count figures.", {}),
    "national_shares": ("One row per year and area for the whole country (all municipalities in the warehouse "
                        "pooled): counts, shares and net score as in yearly_shares.", {}),
    "latest_corrections": ("The reviewers' answer in effect per comment: the latest import (the corrections "
                           "table keeps every earlier one).", {"sentiment": "The reviewer's sentiment.",
                                                               "topics": "The reviewer's areas.",
                                                               "model_version": "The model whose answer was reviewed."}),
    "review_accuracy": ("Accuracy of the model per municipality from the reviewers' random sample.",
                        {"model_version": "The model whose answers were reviewed."}),
    "yearly_changes": ("One row per municipality, area and year that has a previous year: the change in the "
                       "corrected net score since the year before with its z-test (standard errors from the "
                       "intervals; the test the reports use).",
                       {"n": "Number of comments this year.", "net_score": "Net score this year, percentage points.",
                        "small_sample": "True when either year has fewer than 30 comments.",
                        "year": "This year (the year compared with previous_year)."}),
    "national_gaps": ("One row per municipality, year and area: the municipality's corrected net score against "
                      "the rest of the country's with the z-test the reports' benchmark uses (standard errors from "
                      "the intervals); the classify-and-count difference beside it.",
                      {"n": "Number of comments in the municipality.",
                       "net_score": "The municipality's corrected net score, percentage points.",
                       "net_score_rest": "The rest of the country's corrected net score: the national estimate "
                                         "without the municipality's comments, percentage points.",
                       "net_score_rest_se": "Its standard error: the national one scaled to the rest's size.",
                       "difference": "net_score - net_score_rest, percentage points.",
                       "difference_se": "Standard error of the difference (both standard errors combined).",
                       "cc_difference": "The same difference from classify-and-count shares (uncorrected)."}),
    "batch_overview": ("One row per received batch (file) with its accounting: rows_received = rows_accepted + "
                       "rows_quarantined for every ingested batch.", {}),
    "quarantine_reasons": ("Quarantined rows counted per batch and reason.", {}),
    "urgent_comments": ("One row per alert: comments flagged as urgent (threat, self-harm, violence in a close "
                        "relationship) during ingest, with the redacted text, kept until acknowledged.",
                        {"text": "The comment, redacted (NULL while its batch is failed and waiting for a retry).",
                         "received_at": "When the comment's file was received (UTC)."}),
    "repeat_contact_shares": ("One row per municipality, year and area ('all' = every comment): the share of "
                              "comments describing a repeat contact, with Wilson 95 % intervals.",
                              {"n": "Number of comments (for an area: comments about that area) with a repeat-"
                                    "contact signal."}),
}
TABLE_DOCS: dict[str, tuple[str, dict[str, str]]] = {
    "topic_labels": ("Area codes with their Swedish and English names (from synpunkt/labels.py).",
                     {"topic": "Area code as in yearly_shares.topic ('all' = every comment)."}),
    "comment_mart": ("Every stored comment with the prediction of one model, its correction and signals, sorted by "
                     "year and municipality (rows updated since the last full build follow, sorted among "
                     "themselves); brought up to date at every trends refresh. Query comments_classified, which "
                     "reads this table while it is fresh.",
                     {"model_version": "The model whose prediction the row carries (NULL: none from that model).",
                      "sentiment": "Sentiment of the comment (a reviewer's correction overrides the model's)."}),
    "comment_mart_repeat": ("repeat_contact_shares' counts per municipality, year and area, from comment_mart.",
                            {"n": "Comments with a repeat-contact signal (for an area: about that area)."}),
    "comment_mart_state": ("What comment_mart was built from (one row); the views use the mart while "
                           "comment_mart_fresh() is true.",
                           {"model_version": "The model the mart was built for.",
                            "watermarks": "JSON: per large input table the row count, latest write time and a hash "
                                          "sum of its rows when the mart was last updated (what the next refresh "
                                          "compares to find the changed comments), and the rows appended since "
                                          "the last full build (synpunkt/comment_mart.py)."}),
}


def topic_label_rows() -> list[tuple[str, str, str, int]]:
    """(topic, Swedish name, English name, sort order) for 'all' and every area in labels.TOPICS."""
    rows = [(ALL_TOPICS, ALL_TOPICS_LABEL_SV, ALL_TOPICS_LABEL_EN, 0)]
    return rows + [(t, TOPIC_LABELS_SV[t], TOPIC_LABELS_EN[t], i + 1) for i, t in enumerate(TOPICS)]


def comment_statements(con, tables: dict[str, tuple[str, dict[str, str]]] | None = None) -> list[str]:
    """COMMENT ON statements for every documented view and table (or only `tables`) and each of its columns that
    has a description."""
    statements = []
    for kind, docs in ((("VIEW", VIEW_DOCS), ("TABLE", TABLE_DOCS)) if tables is None else (("TABLE", tables),)):
        for name, (doc, overrides) in docs.items():
            statements.append(f"COMMENT ON {kind} {name} IS {sql_string(doc)}")
            columns = [r[0] for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND database_name = current_database() "
                "AND schema_name = 'main' ORDER BY column_index", [name]).fetchall()]
            for column in columns:
                text = overrides.get(column) or COLUMN_DOCS.get(column)
                if text:  # a column without a description stays uncommented (tests/test_analyst_sql.py catches it)
                    statements.append(f"COMMENT ON COLUMN {name}.{column} IS {sql_string(text)}")
    return statements


def build_comment_mart(con, model_version: str, full: bool = False) -> int:
    """Bring comment_mart (sql/comment_mart.sql) with comment_mart_repeat and comment_mart_state up to date for
    model_version: kept when no input table changed since it was built, updated for the changed comments when it
    was built for model_version, else (or with full) rebuilt sorted by year and municipality
    (synpunkt.comment_mart.update_comment_mart); returns the mart's row count. The views use it while
    model_version is the current model and no input table has changed since (comment_mart_fresh())."""
    from synpunkt.comment_mart import update_comment_mart

    return update_comment_mart(con, model_version, full).rows


def create_marts(con) -> None:
    """Create the mart tables, views and macros of marts.sql, fill topic_labels and document every view and column."""
    con.execute((resources.files("synpunkt") / "sql" / "marts.sql").read_text(encoding="utf-8"))
    rows = topic_label_rows()
    con.executemany("INSERT OR REPLACE INTO topic_labels VALUES (?, ?, ?, ?)", rows)
    con.execute(f"DELETE FROM topic_labels WHERE topic NOT IN ({', '.join('?' * len(rows))})", [r[0] for r in rows])
    con.execute(";\n".join(comment_statements(con)))
