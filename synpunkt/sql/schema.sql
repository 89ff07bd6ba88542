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

CREATE TABLE IF NOT EXISTS quarantine (
    batch_id           VARCHAR NOT NULL,
    row_number         INTEGER NOT NULL,
    municipality_code  VARCHAR NOT NULL,
    reason_code        VARCHAR NOT NULL,     -- empty_text, invalid_date, duplicate_in_batch, duplicate_stored,
                                             -- possible_duplicate, ... (synpunkt.validate, synpunkt.dedupe)
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
    PRIMARY KEY (comment_id, model_version)
);

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
