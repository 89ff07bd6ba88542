-- Binned sufficient statistics for the EM prevalence correction (synpunkt/quantification_em.py), per group of
-- sql/trends.sql and per cell. The groups are those of sql/trends.sql (municipality x year x topic, and nationally
-- year x topic; 'all' from each comment's p_positive/p_skeptical/p_negative, a topic from the per-topic head's
-- topic_sentiment_p, aligned with topics) that synpunkt/trends.py corrects with EM: it passes them as the relation
-- trend_groups (scope, municipality_code, year, topic, group_index). A group's rows are its model-classified
-- comments with probabilities (human corrections are known counts, counted by sql/trends.sql; rows without
-- probabilities are left out: their groups are corrected from the labels and are not asked for). Each row's
-- log-ratios r_j = ln max(p_j, $p_floor) - ln max(p_0, $p_floor), j = 1, 2 (p_0 = positive), as
-- quantification_em.log_ratios computes them; its cell is floor(r_j / $width) per coordinate; a cell row carries
-- its group_index, count and mean log-ratio vector (r1, r2). Each comment row is aggregated once: the
-- municipalities' cells are summed from the rows, and the nation's cells are the sums of theirs (the same cell
-- ids). The rows come from two scans of comment_mart's columns ('all', then the topics), which is about four
-- times faster than building and unnesting one list per comment as sql/trends.sql once did.
WITH probs AS (  -- a row for 'all' and one per topic of each comment (lists unnested side by side)
    SELECT municipality_code, year, 'all' AS topic, p_positive AS p0, p_skeptical AS p1, p_negative AS p2
    FROM comment_mart
    WHERE model_version = $model_version AND NOT corrected
    UNION ALL
    SELECT municipality_code, year, topic, p[1], p[2], p[3]
    FROM (SELECT municipality_code, year, unnest(topics) AS topic, unnest(topic_sentiment_p) AS p
          FROM comment_mart
          WHERE model_version = $model_version AND NOT corrected AND topic_sentiment_p IS NOT NULL)
), logs AS (
    SELECT municipality_code, year, topic, ln(greatest(p0, $p_floor)) AS l0, ln(greatest(p1, $p_floor)) AS l1,
           ln(greatest(p2, $p_floor)) AS l2
    FROM probs
    WHERE p0 IS NOT NULL
), municipal AS (
    SELECT municipality_code, year, topic, floor(r1 / $width)::INTEGER AS c1, floor(r2 / $width)::INTEGER AS c2,
           count(*) AS n, sum(round(r1 * 2^32)::BIGINT) AS s1, sum(round(r2 * 2^32)::BIGINT) AS s2  -- fixed point:
           -- exact integer sums (multiples of 2^-32), the same whatever order the parallel aggregate adds in
    FROM (SELECT municipality_code, year, topic, l1 - l0 AS r1, l2 - l0 AS r2 FROM logs)
    GROUP BY ALL
), cells AS (
    SELECT 'municipality' AS scope, * FROM municipal
    UNION ALL
    SELECT 'national', NULL, year, topic, c1, c2, sum(n)::BIGINT, sum(s1), sum(s2)
    FROM municipal
    GROUP BY year, topic, c1, c2
)
SELECT g.group_index, c.n, c.s1::DOUBLE / 2^32 / c.n AS r1, c.s2::DOUBLE / 2^32 / c.n AS r2
FROM cells c
JOIN trend_groups g ON g.scope = c.scope AND g.year = c.year AND g.topic = c.topic
                   AND g.municipality_code IS NOT DISTINCT FROM c.municipality_code
ORDER BY g.group_index, c.c1, c.c2  -- a fixed order: the groups' sums then add up the same way every time
