-- The rows of comment_mart (marts.sql) for model $model_version: every stored comment with that model's prediction
-- (NULL columns when it has none), the reviewers' correction in effect (latest_corrections) and its repeat-contact
-- signal. The columns up to model_version are comments_classified's but for the municipality's name and county
-- (the view joins them from municipalities, 290 rows), computed as that view's live branch computes them;
-- model_topics keeps the model's own topics of a corrected comment (repeat_contact_shares counts the model's
-- areas); a corrected comment's topic_sentiment is corrected_topic_sentiment's (marts.sql: an area keeps the
-- model's own sentiment towards it, the others follow the reviewer's overall sentiment), computed on the
-- corrections joined with their prediction (a few thousand rows, not every comment); topic_sentiment_p (last:
-- appended to marts built before it) is NULL for a corrected comment. synpunkt/comment_mart.py fills in {only}, a
-- condition on comment_id applied to every input table: true for a full build (whose rows it sorts by year and
-- municipality), the changed comments for an update.
SELECT c.comment_id, c.municipality_code, c.year, c.contact_date, c.channel,
       c.text, coalesce(r.sentiment, p.sentiment) AS sentiment, p.p_positive, p.p_skeptical, p.p_negative,
       coalesce(r.topics, p.topics) AS topics,
       CASE WHEN r.comment_id IS NULL THEN p.topic_sentiment ELSE r.topic_sentiment END AS topic_sentiment,
       r.comment_id IS NOT NULL AS corrected, p.sentiment AS model_sentiment,
       c.metadata, c.external_id, c.batch_id, c.row_number, p.model_version,
       CASE WHEN r.comment_id IS NOT NULL THEN p.topics END AS model_topics, s.repeat_contact,
       CASE WHEN r.comment_id IS NULL THEN p.topic_sentiment_p END AS topic_sentiment_p
FROM (SELECT * FROM comments WHERE {only}) c
LEFT JOIN (SELECT * FROM predictions WHERE model_version = $model_version AND {only}) p ON p.comment_id = c.comment_id
LEFT JOIN (SELECT r.comment_id, r.sentiment, r.topics,
                  corrected_topic_sentiment(r.topics, r.sentiment, p.topic_sentiment, p.sentiment) AS topic_sentiment
           FROM (SELECT * FROM latest_corrections WHERE {only}) r
           LEFT JOIN (SELECT comment_id, topic_sentiment, sentiment FROM predictions
                      WHERE model_version = $model_version AND {only}) p ON p.comment_id = r.comment_id
          ) r ON r.comment_id = c.comment_id
LEFT JOIN (SELECT * FROM comment_signals WHERE {only}) s ON s.comment_id = c.comment_id
