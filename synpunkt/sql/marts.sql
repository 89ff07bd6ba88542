-- Analysts' entry points (views over the staging tables in schema.sql). Every view uses the current model.
-- Each view and column is documented inside the database (COMMENT ON, from synpunkt/marts.py); the published copy
-- is read by DuckDB 1.x and 2.x, so keep to SQL that DuckDB 1.0 understands, and guard every division (x / 0 is
-- NULL in 1.x but inf in 2.x).

CREATE OR REPLACE VIEW current_model AS
SELECT model_version FROM model_versions WHERE is_current;

-- Topic codes with their Swedish and English names (filled from synpunkt/labels.py by synpunkt/marts.py).
CREATE TABLE IF NOT EXISTS topic_labels (
    topic       VARCHAR PRIMARY KEY,
    name_sv     VARCHAR NOT NULL,
    name_en     VARCHAR NOT NULL,
    sort_order  INTEGER NOT NULL
);

-- The z-test for the difference between two independent net scores, as net_change_test in
-- synpunkt/report/statistics.py computes it for the reports (tests/test_analyst_sql.py checks that both give the
-- same p-values). Sample 1 is the reference (last year,
-- the rest of the country), sample 2 the one compared with it. Percentage points.
CREATE OR REPLACE MACRO net_diff(pos1, neg1, n1, pos2, neg2, n2) AS
    CASE WHEN n1 > 0 AND n2 > 0 THEN 100.0 * ((pos2 - neg2) / n2 - (pos1 - neg1) / n1) END;
-- Its standard error under the null hypothesis (both samples share p+ and p-, estimated from the pooled counts):
-- sqrt(((p+ + p-) - (p+ - p-)^2) (1/n1 + 1/n2)), in percentage points. z = net_diff / net_diff_se.
CREATE OR REPLACE MACRO net_diff_se(pos1, neg1, n1, pos2, neg2, n2) AS
    CASE WHEN n1 > 0 AND n2 > 0 THEN 100.0 * sqrt(greatest(
        (pos1 + pos2 + neg1 + neg2) / (n1 + n2) - ((pos1 + pos2 - neg1 - neg2) / (n1 + n2)) ^ 2, 0)
        * (1.0 / n1 + 1.0 / n2)) END;
-- erfc(x) for x >= 0 (Numerical Recipes' erfcc; relative error below 1.2e-7); t = 1 / (1 + x / 2).
CREATE OR REPLACE MACRO erfc_nonneg(x, t) AS
    t * exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
      + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
-- Two-sided p-value of a standard normal z (at most 1: the approximation gives 1 + 3e-8 at z = 0).
CREATE OR REPLACE MACRO normal_p_two_sided(z) AS
    least(erfc_nonneg(abs(z) / sqrt(2), 1.0 / (1.0 + 0.5 * abs(z) / sqrt(2))), 1.0);
-- z and p of the test: NULL when either sample has fewer than 10 comments (MIN_TEST_N in synpunkt/report/statistics.py);
-- z = 0 and p = 1 when every comment in both samples has the same sentiment.
CREATE OR REPLACE MACRO net_diff_z(pos1, neg1, n1, pos2, neg2, n2) AS
    CASE WHEN least(n1, n2) < 10 THEN NULL
         WHEN net_diff_se(pos1, neg1, n1, pos2, neg2, n2) = 0 THEN 0.0
         ELSE net_diff(pos1, neg1, n1, pos2, neg2, n2) / net_diff_se(pos1, neg1, n1, pos2, neg2, n2) END;
CREATE OR REPLACE MACRO net_diff_p(pos1, neg1, n1, pos2, neg2, n2) AS
    CASE WHEN least(n1, n2) < 10 THEN NULL
         WHEN net_diff_se(pos1, neg1, n1, pos2, neg2, n2) = 0 THEN 1.0
         ELSE normal_p_two_sided(net_diff_z(pos1, neg1, n1, pos2, neg2, n2)) END;

-- Test of a change between two estimates from their standard errors (the corrected net scores' net_score_se,
-- from their bootstrap intervals), as estimate_change_test in synpunkt/report/statistics.py: z = diff /
-- sqrt(se1^2 + se2^2); NULL when either sample has fewer than 10 comments; z = 0, p = 1 when both se are 0.
CREATE OR REPLACE MACRO est_diff_se(se1, se2) AS sqrt(se1 * se1 + se2 * se2);
-- The rest of the country from the national estimate and one municipality's (both corrected): its net score and
-- standard error (sampling-dominated: scaled by sqrt(n_national / n_rest)). NULL when nothing is left.
CREATE OR REPLACE MACRO rest_net(nat_net, nat_n, own_net, own_n) AS
    CASE WHEN nat_n > own_n THEN (nat_net * nat_n - own_net * own_n) / (nat_n - own_n) END;
CREATE OR REPLACE MACRO rest_se(nat_se, nat_n, own_n) AS
    CASE WHEN nat_n > own_n THEN nat_se * sqrt(nat_n / (nat_n - own_n)) END;
CREATE OR REPLACE MACRO est_diff_z(diff, se1, n1, se2, n2) AS
    CASE WHEN least(n1, n2) < 10 OR diff IS NULL THEN NULL WHEN est_diff_se(se1, se2) = 0 THEN 0.0
         ELSE diff / est_diff_se(se1, se2) END;
CREATE OR REPLACE MACRO est_diff_p(diff, se1, n1, se2, n2) AS
    CASE WHEN least(n1, n2) < 10 OR diff IS NULL THEN NULL WHEN est_diff_se(se1, se2) = 0 THEN 1.0
         ELSE normal_p_two_sided(est_diff_z(diff, se1, n1, se2, n2)) END;

-- Wilson bounds (schema.sql) that are exactly 0 at k = 0 and exactly 1 at k = n: the formula leaves rounding
-- residue there (6e-18 instead of 0).
CREATE OR REPLACE MACRO wilson_lo_exact(k, n) AS CASE WHEN n > 0 AND k = 0 THEN 0.0 ELSE wilson_lo(k, n) END;
CREATE OR REPLACE MACRO wilson_hi_exact(k, n) AS CASE WHEN n > 0 AND k = n THEN 1.0 ELSE wilson_hi(k, n) END;

-- The reviewers' answer in effect per comment: the latest import (history stays in the corrections table).
CREATE OR REPLACE VIEW latest_corrections AS
SELECT comment_id, sentiment, topics, reviewer, imported_at, model_version, model_sentiment, sample_kind,
       source_checksum
FROM (SELECT *, row_number() OVER (PARTITION BY comment_id ORDER BY imported_at DESC, source_row DESC) AS rn
      FROM corrections)
WHERE rn = 1;

-- The comment-level mart: the comments classified by one model (comments_classified's columns, plus what
-- repeat_contact_shares needs), brought up to date with the yearly trends (synpunkt/comment_mart.py, at every
-- trends refresh: the changed comments' rows updated, or all rebuilt), sorted by year and municipality so that a
-- query for a year or a municipality reads only their row groups (rows updated since the last full build follow,
-- sorted among themselves). sql/comment_mart.sql fills it; these are its columns.
CREATE TABLE IF NOT EXISTS comment_mart (
    comment_id VARCHAR, municipality_code VARCHAR, year INTEGER, contact_date DATE, channel VARCHAR, text VARCHAR,
    sentiment VARCHAR, p_positive DOUBLE, p_skeptical DOUBLE, p_negative DOUBLE, topics VARCHAR[],
    topic_sentiment JSON, corrected BOOLEAN, model_sentiment VARCHAR, metadata JSON, external_id VARCHAR,
    batch_id VARCHAR, row_number INTEGER, model_version VARCHAR, model_topics VARCHAR[], repeat_contact BOOLEAN,
    topic_sentiment_p DOUBLE[][]
);
-- marts built before the per-topic probabilities were kept (their rows' predictions have none: NULL is right)
ALTER TABLE comment_mart ADD COLUMN IF NOT EXISTS topic_sentiment_p DOUBLE[][];
-- repeat_contact_shares' counts, aggregated from comment_mart when it is built.
CREATE TABLE IF NOT EXISTS comment_mart_repeat (
    municipality_code VARCHAR, year INTEGER, topic VARCHAR, n BIGINT, n_repeat_contact BIGINT
);
-- What comment_mart was built from: its model and comment_mart_inputs() at that moment (one row, or none), and the
-- watermarks the next refresh compares to update only the changed comments' rows (synpunkt/comment_mart.py).
CREATE TABLE IF NOT EXISTS comment_mart_state (
    model_version VARCHAR NOT NULL,
    inputs        VARCHAR NOT NULL,
    built_at      TIMESTAMP NOT NULL,
    watermarks    VARCHAR
);
-- warehouses created before incremental updates (their mart is rebuilt once)
ALTER TABLE comment_mart_state ADD COLUMN IF NOT EXISTS watermarks VARCHAR;
-- A fingerprint of the tables comment_mart is built from, as seen with model `mv` current: row counts and the
-- latest write time of each (answered from DuckDB's table statistics, in well under a millisecond). Any insert or
-- delete through the pipeline changes it.
CREATE OR REPLACE MACRO comment_mart_inputs(mv) AS (
    SELECT concat_ws('|', coalesce(mv, ''),
        (SELECT count(*) || '/' || coalesce(CAST(max(ingested_at) AS VARCHAR), '') FROM comments),
        (SELECT count(*) || '/' || coalesce(CAST(max(classified_at) AS VARCHAR), '') FROM predictions),
        (SELECT count(*) || '/' || coalesce(CAST(max(imported_at) AS VARCHAR), '') FROM corrections),
        (SELECT count(*) || '/' || coalesce(CAST(max(detected_at) AS VARCHAR), '') FROM comment_signals),
        (SELECT count(*) FROM municipalities)));
-- True when comment_mart holds exactly what the live tables give for the current model. The comment-level views
-- below read the mart when it is fresh and join the live tables otherwise (between an ingest and the next trends
-- refresh in the pipeline's own warehouse): the same rows either way. Each live input is joined to a small gate
-- that is empty when the mart is fresh, inside a subquery that ends in OFFSET 0: DuckDB plans it on its own
-- (no join reordering across it; a MATERIALIZED CTE would do it too, but the published copy's format drops that
-- keyword), hashes the gate and never scans the large table behind an empty one.
CREATE OR REPLACE MACRO comment_mart_fresh() AS coalesce(
    (SELECT inputs FROM comment_mart_state) = comment_mart_inputs((SELECT model_version FROM current_model)), false);

-- A reviewer's correction as per-area sentiment (the review sheet's instructions say the same, synpunkt/review.py):
-- the review sheet asks for the overall sentiment and the areas, not a sentiment per area, so each of the
-- reviewer's areas keeps the model's sentiment towards it when the model gave the area a sentiment of its own
-- (one that differs from the model's overall sentiment); an area the model gave its overall sentiment, or one the
-- model did not find, gets the reviewer's overall sentiment. So a reviewer who only agrees changes no area's
-- sentiment, and a corrected overall sentiment moves the areas that followed the model's overall sentiment.
-- model_ts / model_sentiment: the model's topic_sentiment and sentiment (NULL without a prediction: every area
-- gets the reviewer's sentiment). A correlated subquery: call it on the corrections only (a few thousand rows),
-- never on every comment (comments_classified's live branch and sql/comment_mart.sql join them first).
CREATE OR REPLACE MACRO corrected_topic_sentiment(topics, sentiment, model_ts, model_sentiment) AS (
    SELECT CAST('{' || coalesce(string_agg('"' || u.topic || '":"' || CASE
               WHEN json_extract_string(model_ts, '$.' || u.topic) IS NULL
                    OR json_extract_string(model_ts, '$.' || u.topic) = model_sentiment THEN sentiment
               ELSE json_extract_string(model_ts, '$.' || u.topic) END || '"', ',' ORDER BY u.i), '') || '}' AS JSON)
    FROM (SELECT unnest(topics) AS topic, generate_subscripts(topics, 1) AS i) u);

-- One row per stored comment with its current prediction and municipality; a reviewer's correction overrides the
-- model (the sentiment towards each area: corrected_topic_sentiment).
CREATE OR REPLACE VIEW comments_classified AS
SELECT mart.comment_id, mart.municipality_code, m.name AS municipality, m.county, mart.year, mart.contact_date,
       mart.channel, mart.text, mart.sentiment, mart.p_positive, mart.p_skeptical, mart.p_negative, mart.topics,
       mart.topic_sentiment, mart.corrected, mart.model_sentiment, mart.metadata, mart.external_id, mart.batch_id,
       mart.row_number, mart.model_version
FROM comment_mart mart
JOIN (SELECT model_version FROM comment_mart_state WHERE comment_mart_fresh()) fresh
  ON fresh.model_version = mart.model_version
JOIN municipalities m ON m.code = mart.municipality_code
UNION ALL
SELECT c.comment_id, c.municipality_code, c.name AS municipality, c.county, c.year, c.contact_date, c.channel,
       c.text, coalesce(r.sentiment, p.sentiment) AS sentiment, p.p_positive, p.p_skeptical, p.p_negative,
       coalesce(r.topics, p.topics) AS topics,
       CASE WHEN r.comment_id IS NULL THEN p.topic_sentiment ELSE r.topic_sentiment END AS topic_sentiment,
       r.comment_id IS NOT NULL AS corrected, p.sentiment AS model_sentiment,
       c.metadata, c.external_id, c.batch_id, c.row_number, p.model_version
FROM (SELECT c.*, m.name, m.county FROM comments c
      JOIN (SELECT * FROM municipalities WHERE NOT comment_mart_fresh()) m ON m.code = c.municipality_code
      OFFSET 0) c
JOIN (SELECT p.* FROM predictions p
      JOIN (SELECT model_version FROM current_model WHERE NOT comment_mart_fresh()) live
        ON live.model_version = p.model_version
      OFFSET 0) p ON p.comment_id = c.comment_id
LEFT JOIN (SELECT r.comment_id, r.sentiment, r.topics,  -- the corrections (small) with their per-area sentiments
                  corrected_topic_sentiment(r.topics, r.sentiment, p.topic_sentiment, p.sentiment) AS topic_sentiment
           FROM latest_corrections r
           JOIN (SELECT p.comment_id, p.topic_sentiment, p.sentiment FROM predictions p
                 JOIN (SELECT model_version FROM current_model WHERE NOT comment_mart_fresh()) live
                   ON live.model_version = p.model_version
                 OFFSET 0) p ON p.comment_id = r.comment_id) r ON r.comment_id = c.comment_id;

-- Accuracy of the current model per municipality, from the reviewers' random sample (unbiased; the least
-- certain comments are left out), with a Wilson 95 % interval.
CREATE OR REPLACE VIEW review_accuracy AS
SELECT c.municipality_code, m.name AS municipality, r.model_version, count(*) AS n_reviewed,
       avg(CASE WHEN r.sentiment = r.model_sentiment THEN 1.0 ELSE 0.0 END) AS accuracy,
       wilson_lo_exact(sum(CASE WHEN r.sentiment = r.model_sentiment THEN 1 ELSE 0 END), count(*)) AS accuracy_lo,
       wilson_hi_exact(sum(CASE WHEN r.sentiment = r.model_sentiment THEN 1 ELSE 0 END), count(*)) AS accuracy_hi
FROM latest_corrections r JOIN comments c USING (comment_id) JOIN municipalities m ON m.code = c.municipality_code
WHERE r.sample_kind = 'random' GROUP BY ALL;

-- One row per comment and predicted topic, with the sentiment towards that topic: "the comments behind a number".
CREATE OR REPLACE VIEW comment_topics AS
SELECT comment_id, municipality_code, municipality, year, contact_date, channel, topic,
       coalesce(json_extract_string(topic_sentiment, '$.' || topic), sentiment) AS topic_sentiment,
       sentiment AS overall_sentiment, corrected, text
FROM (SELECT *, unnest(topics) AS topic FROM comments_classified);

-- Yearly counts and corrected shares per municipality and topic ('all' = every comment), with 95 % bootstrap
-- intervals (synpunkt/trends.py), and the classify-and-count figures beside them.
CREATE OR REPLACE VIEW yearly_shares AS
SELECT t.municipality_code, m.name AS municipality, m.county, t.year, t.topic, t.n,
       t.n_positive, t.n_skeptical, t.n_negative,
       t.share_positive, t.share_positive_lo, t.share_positive_hi,
       t.share_skeptical, t.share_skeptical_lo, t.share_skeptical_hi,
       t.share_negative, t.share_negative_lo, t.share_negative_hi,
       t.net_score, t.net_score_lo, t.net_score_hi, t.net_score_se,
       t.cc_share_positive, t.cc_share_skeptical, t.cc_share_negative, t.cc_net_score,
       t.small_sample, t.n_corrected, t.method, t.model_version
FROM yearly_trends t JOIN municipalities m ON m.code = t.municipality_code
WHERE t.scope = 'municipality' AND t.model_version = (SELECT model_version FROM current_model);

-- The same, for the whole country (all municipalities in the warehouse pooled).
CREATE OR REPLACE VIEW national_shares AS
SELECT year, topic, n, n_positive, n_skeptical, n_negative, share_positive, share_positive_lo, share_positive_hi,
       share_skeptical, share_skeptical_lo, share_skeptical_hi,
       share_negative, share_negative_lo, share_negative_hi, net_score, net_score_lo, net_score_hi, net_score_se,
       cc_share_positive, cc_share_skeptical, cc_share_negative, cc_net_score, small_sample, n_corrected, method,
       model_version
FROM yearly_trends
WHERE scope = 'national' AND model_version = (SELECT model_version FROM current_model);

-- Per municipality, topic and year: the change in the corrected net score since the year before, with the
-- reports' test (estimate_change_test: the standard errors come from the bootstrap intervals).
CREATE OR REPLACE VIEW yearly_changes AS
SELECT cur.municipality_code, cur.municipality, cur.county, cur.topic, cur.year, prev.year AS previous_year,
       cur.n, prev.n AS n_previous, cur.net_score, prev.net_score AS net_score_previous,
       cur.net_score - prev.net_score AS change,
       est_diff_se(prev.net_score_se, cur.net_score_se) AS change_se,
       est_diff_z(cur.net_score - prev.net_score, prev.net_score_se, prev.n, cur.net_score_se, cur.n) AS z,
       est_diff_p(cur.net_score - prev.net_score, prev.net_score_se, prev.n, cur.net_score_se, cur.n) AS p_value,
       coalesce(est_diff_p(cur.net_score - prev.net_score, prev.net_score_se, prev.n, cur.net_score_se, cur.n)
                < 0.05, false) AS significant,
       cur.small_sample OR prev.small_sample AS small_sample,
       cur.model_version
FROM yearly_shares cur
JOIN yearly_shares prev ON prev.municipality_code = cur.municipality_code AND prev.topic = cur.topic
                       AND prev.year = cur.year - 1;

-- Per municipality, topic and year: the municipality against the rest of the country, on the corrected net scores
-- with the reports' test (estimate_vs_rest in synpunkt/report/statistics.py). The rest's net score is the national
-- estimate without the municipality's share of it, its standard error the national one scaled to the rest's size;
-- the correction's own uncertainty, shared by both, is counted in both standard errors (conservative).
-- The classify-and-count difference stays beside it (cc_difference).
CREATE OR REPLACE VIEW national_gaps AS
WITH g AS (
    SELECT m.*, nat.n - m.n AS n_rest, nat.net_score AS net_score_national,
           rest_net(nat.net_score, nat.n, m.net_score, m.n) AS net_score_rest,
           rest_se(nat.net_score_se, nat.n, m.n) AS net_score_rest_se,
           net_diff(nat.n_positive - m.n_positive, nat.n_negative - m.n_negative, nat.n - m.n,
                    m.n_positive, m.n_negative, m.n) AS cc_difference
    FROM yearly_shares m JOIN national_shares nat ON nat.year = m.year AND nat.topic = m.topic
)
SELECT municipality_code, municipality, county, topic, year, n, net_score, net_score_se, n_rest, net_score_rest,
       net_score_rest_se, net_score_national, net_score - net_score_rest AS difference,
       est_diff_se(net_score_rest_se, net_score_se) AS difference_se,
       est_diff_z(net_score - net_score_rest, net_score_rest_se, n_rest, net_score_se, n) AS z,
       est_diff_p(net_score - net_score_rest, net_score_rest_se, n_rest, net_score_se, n) AS p_value,
       coalesce(est_diff_p(net_score - net_score_rest, net_score_rest_se, n_rest, net_score_se, n) < 0.05,
                false) AS significant,
       cc_net_score, cc_difference, small_sample, model_version
FROM g;

-- Batches with their accounting: rows_received = rows_accepted + rows_quarantined for every ingested batch.
CREATE OR REPLACE VIEW batch_overview AS
SELECT b.batch_id, b.municipality_code, m.name AS municipality, b.origin, b.original_name, b.status,
       b.rows_received, b.rows_accepted, b.rows_quarantined, b.error, b.received_at, b.processed_at,
       b.raw_purged_at
FROM batches b LEFT JOIN municipalities m ON m.code = b.municipality_code;

CREATE OR REPLACE VIEW quarantine_reasons AS
SELECT q.municipality_code, q.batch_id, q.reason_code, count(*) AS rows
FROM quarantine q GROUP BY ALL;

-- Urgent comments for the analysts and the municipality: every alert with its redacted text (NULL while the
-- comment's batch is failed and waiting for a retry), newest first by received_at.
CREATE OR REPLACE VIEW urgent_comments AS
SELECT a.alert_id, a.municipality_code, m.name AS municipality, a.batch_id, a.row_number, a.external_id,
       a.category, a.probability, c.text, b.received_at, a.created_at, a.notified_at, a.acknowledged_at,
       a.acknowledged_by
FROM alerts a
LEFT JOIN comments c ON c.comment_id = a.comment_id
LEFT JOIN batches b ON b.batch_id = a.batch_id
LEFT JOIN municipalities m ON m.code = a.municipality_code;

-- Share of comments that describe a repeat contact, per municipality, year and area ('all' = every comment), with
-- Wilson 95 % intervals. Areas come from the current model's predictions (not the reviewers' corrections). The
-- counts come from comment_mart_repeat when the mart is fresh, else from the live tables (as comments_classified).
CREATE OR REPLACE VIEW repeat_contact_shares AS
WITH per_comment AS (
    SELECT c.municipality_code, c.year, s.repeat_contact, p.topics
    FROM (SELECT c.* FROM comments c
          JOIN (SELECT code FROM municipalities WHERE NOT comment_mart_fresh()) live ON live.code = c.municipality_code
          OFFSET 0) c
    JOIN (SELECT s.* FROM comment_signals s  -- a gate on both values of repeat_contact: every row when stale
          JOIN (SELECT * FROM (VALUES (false), (true)) v(repeat_contact) WHERE NOT comment_mart_fresh()) live
            ON live.repeat_contact = s.repeat_contact
          OFFSET 0) s ON s.comment_id = c.comment_id
    LEFT JOIN (SELECT p.* FROM predictions p
               JOIN (SELECT model_version FROM current_model WHERE NOT comment_mart_fresh()) live
                 ON live.model_version = p.model_version
               OFFSET 0) p ON p.comment_id = c.comment_id
), per_topic AS (
    SELECT municipality_code, year, 'all' AS topic, repeat_contact FROM per_comment
    UNION ALL
    SELECT municipality_code, year, unnest(topics) AS topic, repeat_contact FROM per_comment
    WHERE topics IS NOT NULL
), counts AS (
    SELECT r.municipality_code, r.year, r.topic, r.n, r.n_repeat_contact
    FROM comment_mart_repeat r JOIN (SELECT model_version FROM comment_mart_state WHERE comment_mart_fresh()) fresh
      ON true
    UNION ALL
    SELECT municipality_code, year, topic, count(*) AS n, count(*) FILTER (WHERE repeat_contact) AS n_repeat_contact
    FROM per_topic GROUP BY ALL
)
SELECT t.municipality_code, m.name AS municipality, t.year, t.topic, t.n, t.n_repeat_contact,
       t.n_repeat_contact / t.n AS share_repeat_contact,
       wilson_lo_exact(t.n_repeat_contact, t.n) AS share_repeat_contact_lo,
       wilson_hi_exact(t.n_repeat_contact, t.n) AS share_repeat_contact_hi
FROM counts t JOIN municipalities m ON m.code = t.municipality_code;
