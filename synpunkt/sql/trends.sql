-- Per-group statistics for the yearly trends of one model version ($model_version), per municipality, year and
-- topic, and the same nationally (GROUPING SETS). synpunkt/trends.py turns them into corrected shares with
-- bootstrap intervals (synpunkt/quantification.py) and writes yearly_trends. Topic 'all' uses each comment's
-- overall sentiment and probabilities; a topic uses the sentiment the model found towards that topic (falling back
-- to the overall sentiment) and the per-topic head's probabilities (topic_sentiment_p, aligned with topics; NULL
-- for predictions stored before they were kept: n_unscored counts such model-classified rows, and
-- synpunkt/trends.py corrects a group that has any from the labels). A human correction (latest_corrections)
-- replaces the model's answer and is counted as known (its areas' sentiments: comment_mart.topic_sentiment, set by
-- corrected_topic_sentiment in marts.sql).
-- Read from comment_mart, which synpunkt.trends.refresh builds for $model_version just before (comments joined
-- with that model's predictions and the corrections in effect): no join, each comment's topic_sentiment
-- parsed once ($topics: the model's topics in labels.py order, $paths: their JSON paths '$.<topic>').
WITH mart AS (
    SELECT municipality_code, year, p_positive, p_skeptical, p_negative, sentiment, corrected AS human, topics,
           topic_sentiment, topic_sentiment_p
    FROM comment_mart
    WHERE model_version = $model_version
), labelled AS (  -- a row for 'all' per comment, then a row per topic of each comment (topics and their
                  -- probabilities unnested side by side: missing probabilities are NULL); two scans of the mart's
                  -- columns, cheaper than building and unnesting one list per comment
    SELECT municipality_code, year, 'all' AS topic, sentiment, human,
           CASE WHEN NOT human THEN p_positive END AS p0, CASE WHEN NOT human THEN p_skeptical END AS p1,
           CASE WHEN NOT human THEN p_negative END AS p2
    FROM mart
    UNION ALL
    SELECT municipality_code, year, topic,
           coalesce(said_by_topic[list_position($topics, topic)], sentiment),
           human, p[1], p[2], p[3]
    FROM (SELECT municipality_code, year, sentiment, human, said_by_topic, unnest(topics) AS topic,
                 unnest(CASE WHEN human THEN [] ELSE topic_sentiment_p END) AS p
          FROM (SELECT *, json_extract_string(topic_sentiment, $paths) AS said_by_topic
                FROM mart))
)
SELECT CASE WHEN grouping(municipality_code) = 0 THEN 'municipality' ELSE 'national' END AS scope,
       municipality_code, year, topic, count(*) AS n,
       count(*) FILTER (sentiment = 'positive') AS n_positive,
       count(*) FILTER (sentiment = 'skeptical') AS n_skeptical,
       count(*) FILTER (sentiment = 'negative') AS n_negative,
       count(*) FILTER (human) AS n_corrected,
       count(*) FILTER (NOT human AND p0 IS NULL) AS n_unscored,
       count(*) FILTER (human AND sentiment = 'positive') AS h_positive,
       count(*) FILTER (human AND sentiment = 'skeptical') AS h_skeptical,
       count(*) FILTER (human AND sentiment = 'negative') AS h_negative,
       -- sums of probabilities in fixed point (multiples of 2^-40, exact integer sums): a double sum's last bits
       -- depend on the order DuckDB's parallel aggregate adds the rows in, and the intervals must not
       coalesce(sum(round(p0 * 2^40)::BIGINT), 0) / 2^40 AS s0,
       coalesce(sum(round(p1 * 2^40)::BIGINT), 0) / 2^40 AS s1,
       coalesce(sum(round(p2 * 2^40)::BIGINT), 0) / 2^40 AS s2,
       coalesce(sum(round(p0 * p0 * 2^40)::BIGINT), 0) / 2^40 AS s00,
       coalesce(sum(round(p0 * p1 * 2^40)::BIGINT), 0) / 2^40 AS s01,
       coalesce(sum(round(p0 * p2 * 2^40)::BIGINT), 0) / 2^40 AS s02,
       coalesce(sum(round(p1 * p1 * 2^40)::BIGINT), 0) / 2^40 AS s11,
       coalesce(sum(round(p1 * p2 * 2^40)::BIGINT), 0) / 2^40 AS s12,
       coalesce(sum(round(p2 * p2 * 2^40)::BIGINT), 0) / 2^40 AS s22
FROM labelled
GROUP BY GROUPING SETS ((municipality_code, year, topic), (year, topic))
ORDER BY scope, municipality_code NULLS FIRST, year, topic  -- a fixed order (synpunkt/trends.py sorts again)
