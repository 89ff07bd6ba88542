-- Per-group statistics for the yearly trends of one model version ($model_version), per municipality, year and
-- topic, and the same nationally (GROUPING SETS). synpunkt/trends.py turns them into corrected shares with
-- bootstrap intervals (synpunkt/quantification.py) and writes yearly_trends. Topic 'all' uses each comment's
-- overall sentiment and probabilities; a topic uses the sentiment the model found towards that topic (falling back
-- to the overall sentiment; labels only, no probabilities). A human correction (latest_corrections) replaces the
-- model's answer and is counted as known (its topics' sentiment is the corrected overall sentiment).
WITH scored AS (
    SELECT c.municipality_code, c.year, p.p_positive, p.p_skeptical, p.p_negative,
           coalesce(r.sentiment, p.sentiment) AS sentiment, r.comment_id IS NOT NULL AS human,
           coalesce(r.topics, p.topics) AS topics, p.topic_sentiment
    FROM comments c JOIN predictions p USING (comment_id)
    LEFT JOIN latest_corrections r ON r.comment_id = c.comment_id
    WHERE p.model_version = $model_version
), per_topic AS (
    SELECT municipality_code, year, 'all' AS topic, sentiment, human, p_positive, p_skeptical, p_negative
    FROM scored
    UNION ALL
    SELECT municipality_code, year, topic,
           CASE WHEN human THEN sentiment
                ELSE coalesce(json_extract_string(topic_sentiment, '$.' || topic), sentiment) END,
           human, NULL, NULL, NULL
    FROM (SELECT *, unnest(topics) AS topic FROM scored)
)
SELECT CASE WHEN grouping(municipality_code) = 0 THEN 'municipality' ELSE 'national' END AS scope,
       municipality_code, year, topic, count(*) AS n,
       count(*) FILTER (sentiment = 'positive') AS n_positive,
       count(*) FILTER (sentiment = 'skeptical') AS n_skeptical,
       count(*) FILTER (sentiment = 'negative') AS n_negative,
       count(*) FILTER (human) AS n_corrected,
       count(*) FILTER (human AND sentiment = 'positive') AS h_positive,
       count(*) FILTER (human AND sentiment = 'skeptical') AS h_skeptical,
       count(*) FILTER (human AND sentiment = 'negative') AS h_negative,
       coalesce(sum(p_positive) FILTER (NOT human), 0) AS s0, coalesce(sum(p_skeptical) FILTER (NOT human), 0) AS s1,
       coalesce(sum(p_negative) FILTER (NOT human), 0) AS s2,
       coalesce(sum(p_positive * p_positive) FILTER (NOT human), 0) AS s00,
       coalesce(sum(p_positive * p_skeptical) FILTER (NOT human), 0) AS s01,
       coalesce(sum(p_positive * p_negative) FILTER (NOT human), 0) AS s02,
       coalesce(sum(p_skeptical * p_skeptical) FILTER (NOT human), 0) AS s11,
       coalesce(sum(p_skeptical * p_negative) FILTER (NOT human), 0) AS s12,
       coalesce(sum(p_negative * p_negative) FILTER (NOT human), 0) AS s22
FROM per_topic
GROUP BY GROUPING SETS ((municipality_code, year, topic), (year, topic))
