-- Analysts' entry points (views over the staging tables in schema.sql). Every view uses the current model.

CREATE OR REPLACE VIEW current_model AS
SELECT model_version FROM model_versions WHERE is_current;

-- One row per stored comment with its current prediction and municipality.
CREATE OR REPLACE VIEW comments_classified AS
SELECT c.comment_id, c.municipality_code, m.name AS municipality, m.county, c.year, c.contact_date, c.channel,
       c.text, p.sentiment, p.p_positive, p.p_skeptical, p.p_negative, p.topics, p.topic_sentiment,
       c.metadata, c.external_id, c.batch_id, c.row_number, p.model_version
FROM comments c
JOIN predictions p ON p.comment_id = c.comment_id AND p.model_version = (SELECT model_version FROM current_model)
JOIN municipalities m ON m.code = c.municipality_code;

-- One row per comment and predicted topic, with the sentiment towards that topic: "the comments behind a number".
CREATE OR REPLACE VIEW comment_topics AS
SELECT comment_id, municipality_code, municipality, year, contact_date, channel, topic,
       coalesce(json_extract_string(topic_sentiment, '$.' || topic), sentiment) AS topic_sentiment,
       sentiment AS overall_sentiment, text
FROM (SELECT *, unnest(topics) AS topic FROM comments_classified);

-- Yearly shares per municipality and topic ('all' = every comment), with Wilson 95 % intervals.
CREATE OR REPLACE VIEW yearly_shares AS
SELECT t.municipality_code, m.name AS municipality, m.county, t.year, t.topic, t.n,
       t.share_positive, t.share_positive_lo, t.share_positive_hi,
       t.share_skeptical, t.share_skeptical_lo, t.share_skeptical_hi,
       t.share_negative, t.share_negative_lo, t.share_negative_hi,
       t.net_score, t.net_score_lo, t.net_score_hi, t.model_version
FROM yearly_trends t JOIN municipalities m ON m.code = t.municipality_code
WHERE t.scope = 'municipality' AND t.model_version = (SELECT model_version FROM current_model);

-- The same, for the whole country (all municipalities in the warehouse pooled).
CREATE OR REPLACE VIEW national_shares AS
SELECT year, topic, n, share_positive, share_positive_lo, share_positive_hi,
       share_skeptical, share_skeptical_lo, share_skeptical_hi,
       share_negative, share_negative_lo, share_negative_hi, net_score, net_score_lo, net_score_hi, model_version
FROM yearly_trends
WHERE scope = 'national' AND model_version = (SELECT model_version FROM current_model);

-- Batches with their accounting: rows_received = rows_accepted + rows_quarantined for every ingested batch.
CREATE OR REPLACE VIEW batch_overview AS
SELECT b.batch_id, b.municipality_code, m.name AS municipality, b.origin, b.original_name, b.status,
       b.rows_received, b.rows_accepted, b.rows_quarantined, b.error, b.received_at, b.processed_at,
       b.raw_purged_at
FROM batches b LEFT JOIN municipalities m ON m.code = b.municipality_code;

CREATE OR REPLACE VIEW quarantine_reasons AS
SELECT q.municipality_code, q.batch_id, q.reason_code, count(*) AS rows
FROM quarantine q GROUP BY ALL;
