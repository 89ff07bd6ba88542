-- Synpunkt warehouse: staging tables written by the pipeline. Analysts use the views in marts.sql.
-- The topic probability columns of `predictions` are filled in from synpunkt/labels.py (one per topic).

CREATE TABLE IF NOT EXISTS municipalities (
    code         VARCHAR PRIMARY KEY,   -- four-digit SCB municipality code, e.g. 0180
    name         VARCHAR NOT NULL,
    county_code  VARCHAR NOT NULL,
    county       VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS batches (
    batch_id           VARCHAR PRIMARY KEY,  -- <municipality>-<first 16 hex of the file's SHA-256>
    municipality_code  VARCHAR NOT NULL,
    origin             VARCHAR NOT NULL,     -- inbox | http | api | cli | demo
    original_name      VARCHAR,              -- the submitter's file name (metadata only), redacted like cells
    file_format        VARCHAR,
    checksum_sha256    VARCHAR NOT NULL,
    size_bytes         BIGINT,
    received_at        TIMESTAMP NOT NULL,
    status             VARCHAR NOT NULL,     -- ingesting (resumes at the next run) | ingested | failed
    rows_received      INTEGER NOT NULL DEFAULT 0,
    rows_accepted      INTEGER NOT NULL DEFAULT 0,
    rows_quarantined   INTEGER NOT NULL DEFAULT 0,
    error              VARCHAR,              -- why a batch failed: stage, error type, rows; never cell values
    processed_at       TIMESTAMP NOT NULL,
    raw_purged_at      TIMESTAMP,            -- when the raw copy was deleted (retention)
    rows_done          INTEGER NOT NULL DEFAULT 0  -- last data row committed (an interrupted batch resumes after it)
);
-- warehouses created before streaming ingest
ALTER TABLE batches ADD COLUMN IF NOT EXISTS rows_done INTEGER DEFAULT 0;

CREATE TABLE IF NOT EXISTS comments (
    comment_id         VARCHAR PRIMARY KEY,  -- keyed hash (HMAC) of municipality, case id, date, raw text (synpunkt.dedupe)
    batch_id           VARCHAR NOT NULL,
    municipality_code  VARCHAR NOT NULL,
    row_number         INTEGER NOT NULL,     -- 1-based data row in the batch's file
    external_id        VARCHAR,
    contact_date       DATE NOT NULL,
    year               INTEGER NOT NULL,
    channel            VARCHAR,              -- telefon | e-post | chatt | besök | NULL
    text               VARCHAR NOT NULL,     -- redacted: personal data replaced by [NAMN], [TELEFON], ...
    redactions         JSON,                 -- number of replacements per type
    metadata           JSON,                 -- the batch's extra columns (redacted)
    ingested_at        TIMESTAMP NOT NULL
);

-- Signals detected during ingest on the full, unredacted text (held in memory only; synpunkt/signals): one row
-- per stored comment. urgent_category is NULL for a comment that is not urgent.
CREATE TABLE IF NOT EXISTS comment_signals (
    comment_id           VARCHAR PRIMARY KEY,
    signals_version      VARCHAR NOT NULL,     -- models/signals/heads.json version
    urgent_category      VARCHAR,              -- threat | self_harm | violence_close_relationship | NULL
    urgent_probability   DOUBLE NOT NULL,      -- 1 - p(none) of the urgent head (>= 0.9 when a rule fired)
    urgent_rule          BOOLEAN NOT NULL,     -- an unmistakable phrase decided it (synpunkt/signals/rules.py)
    repeat_p             DOUBLE NOT NULL,      -- probability that the comment describes a repeat contact
    repeat_contact       BOOLEAN NOT NULL,     -- repeat_p >= the head's tuned threshold
    detected_at          TIMESTAMP NOT NULL
);

-- Urgent comments routed to the municipality. One alert per comment and category (alert_id is derived from both,
-- so a re-run never alerts twice); kept until acknowledged, never deleted with a failed batch's rows.
CREATE TABLE IF NOT EXISTS alerts (
    alert_id           VARCHAR PRIMARY KEY,    -- 'al-' + 16 hex of SHA-256(comment_id, category)
    comment_id         VARCHAR NOT NULL,
    municipality_code  VARCHAR NOT NULL,
    batch_id           VARCHAR NOT NULL,
    row_number         INTEGER NOT NULL,
    external_id        VARCHAR,                -- the municipality's case id (ärendenummer), when given
    category           VARCHAR NOT NULL,       -- threat | self_harm | violence_close_relationship
    probability        DOUBLE NOT NULL,
    signals_version    VARCHAR NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    notified_at        TIMESTAMP,              -- when the notifier delivered it (NULL: retried at the next run)
    acknowledged_at    TIMESTAMP,
    acknowledged_by    VARCHAR,
    UNIQUE (comment_id, category)
);

CREATE TABLE IF NOT EXISTS quarantine (
    batch_id           VARCHAR NOT NULL,
    row_number         INTEGER NOT NULL,
    municipality_code  VARCHAR NOT NULL,
    reason_code        VARCHAR NOT NULL,     -- empty_text, invalid_date, duplicate_in_batch, duplicate_stored,
                                             -- possible_duplicate, ... (every code: synpunkt/quarantine_reasons.py)
    reason             VARCHAR NOT NULL,     -- names columns, rows and batches, never values
    row_redacted       JSON,                 -- the row's cells, redacted (duplicates: their normalised fields)
    quarantined_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (batch_id, row_number)
);

CREATE TABLE IF NOT EXISTS model_versions (
    model_version  VARCHAR PRIMARY KEY,
    first_used_at  TIMESTAMP NOT NULL,
    is_current     BOOLEAN NOT NULL
);

CREATE TABLE IF NOT EXISTS predictions (
    comment_id       VARCHAR NOT NULL,
    model_version    VARCHAR NOT NULL,
    sentiment        VARCHAR NOT NULL,       -- positive | skeptical | negative
    p_positive       DOUBLE NOT NULL,
    p_skeptical      DOUBLE NOT NULL,
    p_negative       DOUBLE NOT NULL,
    topics           VARCHAR[] NOT NULL,
    {topic_probability_columns},
    topic_sentiment  JSON,                   -- {"handler": "positive", ...} for the predicted topics
    classified_at    TIMESTAMP NOT NULL,
    topic_sentiment_p DOUBLE[][],            -- per predicted topic (aligned with topics): the per-topic head's
                                             -- [p_positive, p_skeptical, p_negative]; NULL: written before it was kept
    PRIMARY KEY (comment_id, model_version)
);
-- warehouses created before the per-topic probabilities were kept (their rows keep NULL; synpunkt/trends.py then
-- corrects those topics' shares from the labels)
ALTER TABLE predictions ADD COLUMN IF NOT EXISTS topic_sentiment_p DOUBLE[][];

CREATE TABLE IF NOT EXISTS yearly_trends (
    model_version      VARCHAR NOT NULL,
    scope              VARCHAR NOT NULL,     -- municipality | national
    municipality_code  VARCHAR,              -- NULL for national
    year               INTEGER NOT NULL,
    topic              VARCHAR NOT NULL,     -- 'all' or a topic
    n                  INTEGER NOT NULL,
    n_positive         INTEGER NOT NULL,
    n_skeptical        INTEGER NOT NULL,
    n_negative         INTEGER NOT NULL,
    share_positive     DOUBLE, share_positive_lo DOUBLE, share_positive_hi DOUBLE,
    share_skeptical    DOUBLE, share_skeptical_lo DOUBLE, share_skeptical_hi DOUBLE,
    share_negative     DOUBLE, share_negative_lo DOUBLE, share_negative_hi DOUBLE,
    net_score          DOUBLE,               -- % positive minus % negative, in percentage points
    net_score_lo       DOUBLE, net_score_hi DOUBLE,
    computed_at        TIMESTAMP NOT NULL
);
-- Corrected shares (synpunkt/trends.py): share_* and net_score above are prevalence-corrected with bootstrap
-- intervals; the classify-and-count figures stay beside them (warehouses created before the correction get them).
ALTER TABLE yearly_trends ADD COLUMN IF NOT EXISTS n_corrected INTEGER;   -- comments with a human correction
ALTER TABLE yearly_trends ADD COLUMN IF NOT EXISTS net_score_se DOUBLE;   -- (net_score_hi - net_score_lo) / 3.92
ALTER TABLE yearly_trends ADD COLUMN IF NOT EXISTS method VARCHAR;        -- cc | acc | pacc | em
ALTER TABLE yearly_trends ADD COLUMN IF NOT EXISTS cc_share_positive DOUBLE;
ALTER TABLE yearly_trends ADD COLUMN IF NOT EXISTS cc_share_skeptical DOUBLE;
ALTER TABLE yearly_trends ADD COLUMN IF NOT EXISTS cc_share_negative DOUBLE;
ALTER TABLE yearly_trends ADD COLUMN IF NOT EXISTS cc_net_score DOUBLE;
ALTER TABLE yearly_trends ADD COLUMN IF NOT EXISTS small_sample BOOLEAN;  -- n < 30: shown with a warning, not ranked

-- Reviewers' answers (synpunkt/review.py). One row per imported file row; a later import for the same comment
-- (another file) is a correction of the correction: history is kept, the latest wins (latest_corrections).
CREATE TABLE IF NOT EXISTS corrections (
    comment_id       VARCHAR NOT NULL,
    sentiment        VARCHAR NOT NULL,       -- positive | skeptical | negative (the reviewer's)
    topics           VARCHAR[] NOT NULL,     -- the reviewer's topics
    reviewer         VARCHAR NOT NULL,
    imported_at      TIMESTAMP NOT NULL,
    model_version    VARCHAR,                -- the model whose answer was reviewed
    model_sentiment  VARCHAR,                -- that model's sentiment (accuracy of the random sample)
    sample_kind      VARCHAR NOT NULL,       -- uncertain | random (random: unbiased accuracy estimate)
    source_checksum  VARCHAR NOT NULL,       -- SHA-256 of the imported file (re-import is idempotent)
    source_row       INTEGER NOT NULL,
    PRIMARY KEY (source_checksum, comment_id)
);

-- Batches an operator withdrew (`synpunkt batch withdraw`, synpunkt/withdraw.py): one row per withdrawal, kept so
-- that nothing leaves the warehouse without trace. The batch's own rows are gone; its landed folder was moved to
-- moved_to ($SYNPUNKT_HOME/withdrawn/), whose raw copy is purged after the retention period (raw_purged_at).
CREATE TABLE IF NOT EXISTS batch_withdrawals (
    batch_id           VARCHAR NOT NULL,
    municipality_code  VARCHAR NOT NULL,     -- the municipality it had landed for
    checksum_sha256    VARCHAR NOT NULL,     -- freed: the same file may be submitted again
    status             VARCHAR NOT NULL,     -- the batch's status then: ingested | failed | ingesting | landed
    reason             VARCHAR NOT NULL,     -- the operator's --reason
    withdrawn_by       VARCHAR,              -- the operating-system user who ran the command
    withdrawn_at       TIMESTAMP NOT NULL,
    years              INTEGER[],            -- contact years of its comments (trends and reports affected)
    removed            JSON NOT NULL,        -- rows removed per table, {"comments": 120, ...}
    moved_to           VARCHAR,              -- where its landed folder went (NULL: there was none)
    raw_purged_at      TIMESTAMP,            -- when the moved raw copy was deleted (retention)
    PRIMARY KEY (batch_id, withdrawn_at)
);

CREATE TABLE IF NOT EXISTS warehouse_settings (
    name   VARCHAR PRIMARY KEY,              -- e.g. comment_id_key_fingerprint (synpunkt.keys)
    value  VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS source_state (
    url                VARCHAR PRIMARY KEY,
    municipality_code  VARCHAR NOT NULL,
    etag               VARCHAR,
    last_modified      VARCHAR,
    last_checksum      VARCHAR,
    last_checked_at    TIMESTAMP,
    last_result        VARCHAR               -- ok | unchanged | failed: reason
);

-- Wilson score interval for a proportion k/n at 95 % (z = 1.96).
CREATE OR REPLACE MACRO wilson_lo(k, n) AS CASE WHEN n = 0 THEN NULL ELSE
    ((k / n) + 1.96 * 1.96 / (2 * n) - 1.96 * sqrt((k / n) * (1 - k / n) / n + 1.96 * 1.96 / (4 * n * n)))
    / (1 + 1.96 * 1.96 / n) END;
CREATE OR REPLACE MACRO wilson_hi(k, n) AS CASE WHEN n = 0 THEN NULL ELSE
    ((k / n) + 1.96 * 1.96 / (2 * n) + 1.96 * sqrt((k / n) * (1 - k / n) / n + 1.96 * 1.96 / (4 * n * n)))
    / (1 + 1.96 * 1.96 / n) END;
-- Net score (percentage points) and its normal-approximation 95 % half-width from the multinomial variance.
CREATE OR REPLACE MACRO net_score(pos, neg, n) AS CASE WHEN n = 0 THEN NULL ELSE 100.0 * (pos - neg) / n END;
CREATE OR REPLACE MACRO net_score_halfwidth(pos, neg, n) AS CASE WHEN n = 0 THEN NULL ELSE
    100.0 * 1.96 * sqrt(greatest((pos + neg) / n - ((pos - neg) / n) ^ 2, 0) / n) END;
