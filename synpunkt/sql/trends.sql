-- Recompute yearly aggregates for one model version ($model_version): per municipality, year and topic,
-- and the same nationally. Topic 'all' uses each comment's overall sentiment; a topic uses the sentiment the
-- model found towards that topic (falling back to the overall sentiment).
DELETE FROM yearly_trends WHERE model_version = $model_version;

INSERT INTO yearly_trends
WITH scored AS (
    SELECT c.municipality_code, c.year, p.sentiment, p.topics, p.topic_sentiment
    FROM comments c JOIN predictions p USING (comment_id)
    WHERE p.model_version = $model_version
), per_topic AS (
    SELECT municipality_code, year, 'all' AS topic, sentiment FROM scored
    UNION ALL
    SELECT municipality_code, year, topic,
           coalesce(json_extract_string(topic_sentiment, '$.' || topic), sentiment) AS sentiment
    FROM (SELECT *, unnest(topics) AS topic FROM scored)
), counted AS (
    SELECT 'municipality' AS scope, municipality_code, year, topic, count(*) AS n,
           count(*) FILTER (sentiment = 'positive') AS n_positive,
           count(*) FILTER (sentiment = 'skeptical') AS n_skeptical,
           count(*) FILTER (sentiment = 'negative') AS n_negative
    FROM per_topic GROUP BY municipality_code, year, topic
    UNION ALL
    SELECT 'national', NULL, year, topic, count(*),
           count(*) FILTER (sentiment = 'positive'),
           count(*) FILTER (sentiment = 'skeptical'),
           count(*) FILTER (sentiment = 'negative')
    FROM per_topic GROUP BY year, topic
)
SELECT $model_version, scope, municipality_code, year, topic, n, n_positive, n_skeptical, n_negative,
       n_positive / n, wilson_lo(n_positive, n), wilson_hi(n_positive, n),
       n_skeptical / n, wilson_lo(n_skeptical, n), wilson_hi(n_skeptical, n),
       n_negative / n, wilson_lo(n_negative, n), wilson_hi(n_negative, n),
       net_score(n_positive, n_negative, n),
       net_score(n_positive, n_negative, n) - net_score_halfwidth(n_positive, n_negative, n),
       net_score(n_positive, n_negative, n) + net_score_halfwidth(n_positive, n_negative, n),
       now()
FROM counted;
