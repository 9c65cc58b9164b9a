-- Altaviz serving database, T-SQL dialect (Azure SQL Database).
-- Mirrors sql/postgres/001_schema.sql table for table and column for column; a test holds them equal.
-- Idempotent: 05_publish runs this file before every publish. Batches are separated by GO lines
-- (CREATE OR ALTER VIEW must open its batch); the publisher splits on them.
-- Type mapping: VARCHAR -> NVARCHAR, DOUBLE PRECISION -> FLOAT, TIMESTAMPTZ -> DATETIMEOFFSET(6),
-- BOOLEAN -> BIT, now() -> SYSDATETIMEOFFSET(), GENERATED ALWAYS AS IDENTITY -> IDENTITY(1, 1).
-- Pipeline-owned columns are overwritten by each publish; operator-owned columns
-- (alerts.status, acknowledged_*, resolved_*, operator_note) are written only by people.

IF OBJECT_ID(N'dbo.stations', N'U') IS NULL
    CREATE TABLE dbo.stations (
        station_id      NVARCHAR(32)      NOT NULL CONSTRAINT pk_stations PRIMARY KEY,
        station_name    NVARCHAR(128)     NOT NULL,
        basin           NVARCHAR(64)      NOT NULL,
        city            NVARCHAR(64)      NOT NULL,
        latitude        FLOAT             NOT NULL,
        longitude       FLOAT             NOT NULL,
        updated_at      DATETIMEOFFSET(6) NOT NULL CONSTRAINT df_stations_updated_at DEFAULT SYSDATETIMEOFFSET()
    );

IF OBJECT_ID(N'dbo.compressors', N'U') IS NULL
    CREATE TABLE dbo.compressors (
        compressor_id    NVARCHAR(32)      NOT NULL CONSTRAINT pk_compressors PRIMARY KEY,
        station_id       NVARCHAR(32)      NOT NULL CONSTRAINT fk_compressors_station REFERENCES dbo.stations (station_id),
        model            NVARCHAR(64)      NOT NULL,
        rated_horsepower INT               NOT NULL,
        install_date     DATE              NOT NULL,
        updated_at       DATETIMEOFFSET(6) NOT NULL CONSTRAINT df_compressors_updated_at DEFAULT SYSDATETIMEOFFSET()
    );

-- The limits the pipeline alarmed on, so dashboards draw the same bands.
IF OBJECT_ID(N'dbo.sensor_thresholds', N'U') IS NULL
    CREATE TABLE dbo.sensor_thresholds (
        sensor      NVARCHAR(32)      NOT NULL CONSTRAINT pk_sensor_thresholds PRIMARY KEY,
        direction   NVARCHAR(8)       NOT NULL CONSTRAINT ck_sensor_thresholds_direction CHECK (direction IN ('high', 'low')),
        warning     FLOAT             NOT NULL,
        critical    FLOAT             NOT NULL,
        unit        NVARCHAR(16)      NOT NULL,
        updated_at  DATETIMEOFFSET(6) NOT NULL CONSTRAINT df_sensor_thresholds_updated_at DEFAULT SYSDATETIMEOFFSET()
    );

IF OBJECT_ID(N'dbo.hourly_readings', N'U') IS NULL
    CREATE TABLE dbo.hourly_readings (
        compressor_id               NVARCHAR(32)      NOT NULL CONSTRAINT fk_hourly_readings_compressor REFERENCES dbo.compressors (compressor_id),
        hour_start                  DATETIMEOFFSET(6) NOT NULL,
        reading_count               INT               NOT NULL,
        vibration_mean              FLOAT             NULL,
        vibration_max               FLOAT             NULL,
        discharge_temp_mean         FLOAT             NULL,
        discharge_temp_max          FLOAT             NULL,
        suction_pressure_mean       FLOAT             NULL,
        suction_pressure_min        FLOAT             NULL,
        discharge_pressure_mean     FLOAT             NULL,
        discharge_pressure_max      FLOAT             NULL,
        pressure_differential_mean  FLOAT             NULL,
        horsepower_mean             FLOAT             NULL,
        gas_flow_mean               FLOAT             NULL,
        vibration_status            NVARCHAR(8)       NOT NULL,
        temp_status                 NVARCHAR(8)       NOT NULL,
        pressure_status             NVARCHAR(8)       NOT NULL,
        health_status               NVARCHAR(8)       NOT NULL,
        updated_at                  DATETIMEOFFSET(6) NOT NULL CONSTRAINT df_hourly_readings_updated_at DEFAULT SYSDATETIMEOFFSET(),
        CONSTRAINT pk_hourly_readings PRIMARY KEY (compressor_id, hour_start)
    );

IF NOT EXISTS (
    SELECT 1 FROM sys.indexes WHERE name = N'ix_hourly_readings_hour' AND object_id = OBJECT_ID(N'dbo.hourly_readings')
)
    CREATE INDEX ix_hourly_readings_hour ON dbo.hourly_readings (hour_start);

-- Newest hour per compressor, refreshed by 05_publish from hourly_readings (see the PostgreSQL twin).
IF OBJECT_ID(N'dbo.latest_readings', N'U') IS NULL
    CREATE TABLE dbo.latest_readings (
        compressor_id               NVARCHAR(32)      NOT NULL CONSTRAINT fk_latest_readings_compressor REFERENCES dbo.compressors (compressor_id),
        hour_start                  DATETIMEOFFSET(6) NOT NULL,
        reading_count               INT               NOT NULL,
        vibration_mean              FLOAT             NULL,
        vibration_max               FLOAT             NULL,
        discharge_temp_mean         FLOAT             NULL,
        discharge_temp_max          FLOAT             NULL,
        suction_pressure_mean       FLOAT             NULL,
        suction_pressure_min        FLOAT             NULL,
        discharge_pressure_mean     FLOAT             NULL,
        discharge_pressure_max      FLOAT             NULL,
        pressure_differential_mean  FLOAT             NULL,
        horsepower_mean             FLOAT             NULL,
        gas_flow_mean               FLOAT             NULL,
        vibration_status            NVARCHAR(8)       NOT NULL,
        temp_status                 NVARCHAR(8)       NOT NULL,
        pressure_status             NVARCHAR(8)       NOT NULL,
        health_status               NVARCHAR(8)       NOT NULL,
        updated_at                  DATETIMEOFFSET(6) NOT NULL,
        CONSTRAINT pk_latest_readings PRIMARY KEY (compressor_id)
    );

-- The failure model's hourly output (see the PostgreSQL twin).
IF OBJECT_ID(N'dbo.predictions', N'U') IS NULL
    CREATE TABLE dbo.predictions (
        compressor_id            NVARCHAR(32)      NOT NULL CONSTRAINT fk_predictions_compressor REFERENCES dbo.compressors (compressor_id),
        hour_start               DATETIMEOFFSET(6) NOT NULL,
        failure_probability_72h  FLOAT             NOT NULL,
        rul_hours                FLOAT             NOT NULL,
        model_name               NVARCHAR(128)     NOT NULL,
        model_version            NVARCHAR(32)      NOT NULL,
        scored_at                DATETIMEOFFSET(6) NOT NULL,
        updated_at               DATETIMEOFFSET(6) NOT NULL CONSTRAINT df_predictions_updated_at DEFAULT SYSDATETIMEOFFSET(),
        CONSTRAINT pk_predictions PRIMARY KEY (compressor_id, hour_start)
    );

IF OBJECT_ID(N'dbo.alerts', N'U') IS NULL
    CREATE TABLE dbo.alerts (
        alert_id          NVARCHAR(64)      NOT NULL CONSTRAINT pk_alerts PRIMARY KEY,
        compressor_id     NVARCHAR(32)      NOT NULL CONSTRAINT fk_alerts_compressor REFERENCES dbo.compressors (compressor_id),
        sensor            NVARCHAR(32)      NOT NULL,
        source            NVARCHAR(16)      NOT NULL CONSTRAINT df_alerts_source DEFAULT 'threshold'
            CONSTRAINT ck_alerts_source CHECK (source IN ('threshold', 'model')),
        severity          NVARCHAR(8)       NOT NULL CONSTRAINT ck_alerts_severity CHECK (severity IN ('warning', 'critical')),
        current_severity  NVARCHAR(8)       NOT NULL
            CONSTRAINT ck_alerts_current_severity CHECK (current_severity IN ('normal', 'warning', 'critical')),
        is_active         BIT               NOT NULL,
        opened_at         DATETIMEOFFSET(6) NOT NULL,
        escalated_at      DATETIMEOFFSET(6) NULL,
        cleared_at        DATETIMEOFFSET(6) NULL,
        last_reading_at   DATETIMEOFFSET(6) NOT NULL,
        threshold_value   FLOAT             NOT NULL,
        peak_value        FLOAT             NOT NULL,
        last_value        FLOAT             NOT NULL,
        reading_count     INT               NOT NULL,
        -- operator-owned from here on
        status            NVARCHAR(16)      NOT NULL CONSTRAINT df_alerts_status DEFAULT 'open'
            CONSTRAINT ck_alerts_status CHECK (status IN ('open', 'acknowledged', 'resolved')),
        acknowledged_at   DATETIMEOFFSET(6) NULL,
        acknowledged_by   NVARCHAR(128)     NULL,
        resolved_at       DATETIMEOFFSET(6) NULL,
        resolved_by       NVARCHAR(128)     NULL,
        operator_note     NVARCHAR(2000)    NULL,
        created_at        DATETIMEOFFSET(6) NOT NULL CONSTRAINT df_alerts_created_at DEFAULT SYSDATETIMEOFFSET(),
        updated_at        DATETIMEOFFSET(6) NOT NULL CONSTRAINT df_alerts_updated_at DEFAULT SYSDATETIMEOFFSET()
    );

-- A database published before model alerts existed.
IF COL_LENGTH(N'dbo.alerts', N'source') IS NULL
    ALTER TABLE dbo.alerts ADD source NVARCHAR(16) NOT NULL CONSTRAINT df_alerts_source DEFAULT 'threshold'
        CONSTRAINT ck_alerts_source CHECK (source IN ('threshold', 'model'));

IF NOT EXISTS (
    SELECT 1 FROM sys.indexes WHERE name = N'ix_alerts_compressor' AND object_id = OBJECT_ID(N'dbo.alerts')
)
    CREATE INDEX ix_alerts_compressor ON dbo.alerts (compressor_id, opened_at);

IF NOT EXISTS (
    SELECT 1 FROM sys.indexes WHERE name = N'ix_alerts_open' AND object_id = OBJECT_ID(N'dbo.alerts')
)
    CREATE INDEX ix_alerts_open ON dbo.alerts (status, is_active, severity);

-- Audit trail of operator actions on alerts.
IF OBJECT_ID(N'dbo.alert_events', N'U') IS NULL
    CREATE TABLE dbo.alert_events (
        event_id     BIGINT IDENTITY (1, 1) NOT NULL CONSTRAINT pk_alert_events PRIMARY KEY,
        alert_id     NVARCHAR(64)      NOT NULL CONSTRAINT fk_alert_events_alert REFERENCES dbo.alerts (alert_id),
        action       NVARCHAR(16)      NOT NULL
            CONSTRAINT ck_alert_events_action CHECK (action IN ('acknowledge', 'resolve', 'reopen', 'note')),
        actor        NVARCHAR(128)     NOT NULL,
        note         NVARCHAR(2000)    NULL,
        created_at   DATETIMEOFFSET(6) NOT NULL CONSTRAINT df_alert_events_created_at DEFAULT SYSDATETIMEOFFSET()
    );

IF NOT EXISTS (
    SELECT 1 FROM sys.indexes WHERE name = N'ix_alert_events_alert' AND object_id = OBJECT_ID(N'dbo.alert_events')
)
    CREATE INDEX ix_alert_events_alert ON dbo.alert_events (alert_id, created_at);

-- Dashboard sign-in (see sql/postgres for the password hash format). In Azure people sign in with
-- Microsoft Entra ID, so accounts holds provider 'entra' rows (no password) keyed by tenant and object id.
IF OBJECT_ID(N'dbo.accounts', N'U') IS NULL
    CREATE TABLE dbo.accounts (
        account_id       BIGINT IDENTITY (1, 1) NOT NULL CONSTRAINT pk_accounts PRIMARY KEY,
        account_name     NVARCHAR(128)     NOT NULL CONSTRAINT uq_accounts_account_name UNIQUE,
        role             NVARCHAR(16)      NOT NULL CONSTRAINT ck_accounts_role CHECK (role IN ('viewer', 'operator')),
        provider         NVARCHAR(16)      NOT NULL CONSTRAINT df_accounts_provider DEFAULT 'local'
            CONSTRAINT ck_accounts_provider CHECK (provider IN ('local', 'entra')),
        external_id      NVARCHAR(128)     NULL,
        password_hash    NVARCHAR(256)     NULL,
        created_at       DATETIMEOFFSET(6) NOT NULL CONSTRAINT df_accounts_created_at DEFAULT SYSDATETIMEOFFSET(),
        updated_at       DATETIMEOFFSET(6) NOT NULL CONSTRAINT df_accounts_updated_at DEFAULT SYSDATETIMEOFFSET(),
        last_sign_in_at  DATETIMEOFFSET(6) NULL
    );

IF OBJECT_ID(N'dbo.auth_sessions', N'U') IS NULL
    CREATE TABLE dbo.auth_sessions (
        session_hash   NVARCHAR(64)      NOT NULL CONSTRAINT pk_auth_sessions PRIMARY KEY,
        account_id     BIGINT            NOT NULL
            CONSTRAINT fk_auth_sessions_account REFERENCES dbo.accounts (account_id) ON DELETE CASCADE,
        csrf_token     NVARCHAR(64)      NOT NULL,
        created_at     DATETIMEOFFSET(6) NOT NULL CONSTRAINT df_auth_sessions_created_at DEFAULT SYSDATETIMEOFFSET(),
        expires_at     DATETIMEOFFSET(6) NOT NULL
    );

IF NOT EXISTS (
    SELECT 1 FROM sys.indexes WHERE name = N'ix_auth_sessions_account' AND object_id = OBJECT_ID(N'dbo.auth_sessions')
)
    CREATE INDEX ix_auth_sessions_account ON dbo.auth_sessions (account_id);

IF OBJECT_ID(N'dbo.auth_failed_sign_ins', N'U') IS NULL
    CREATE TABLE dbo.auth_failed_sign_ins (
        attempt_id     BIGINT IDENTITY (1, 1) NOT NULL CONSTRAINT pk_auth_failed_sign_ins PRIMARY KEY,
        account_name   NVARCHAR(128)     NOT NULL,
        client_ip      NVARCHAR(64)      NOT NULL,
        failed_at      DATETIMEOFFSET(6) NOT NULL CONSTRAINT df_auth_failed_sign_ins_failed_at DEFAULT SYSDATETIMEOFFSET()
    );

IF NOT EXISTS (
    SELECT 1 FROM sys.indexes
    WHERE name = N'ix_auth_failed_sign_ins_key' AND object_id = OBJECT_ID(N'dbo.auth_failed_sign_ins')
)
    CREATE INDEX ix_auth_failed_sign_ins_key ON dbo.auth_failed_sign_ins (account_name, failed_at);

IF OBJECT_ID(N'dbo.pipeline_runs', N'U') IS NULL
    CREATE TABLE dbo.pipeline_runs (
        run_id        NVARCHAR(64)      NOT NULL CONSTRAINT pk_pipeline_runs PRIMARY KEY,
        status        NVARCHAR(16)      NOT NULL,
        started_at    DATETIMEOFFSET(6) NOT NULL,
        finished_at   DATETIMEOFFSET(6) NULL,
        duration_s    FLOAT             NULL,
        updated_at    DATETIMEOFFSET(6) NOT NULL CONSTRAINT df_pipeline_runs_updated_at DEFAULT SYSDATETIMEOFFSET()
    );

IF OBJECT_ID(N'dbo.pipeline_run_steps', N'U') IS NULL
    CREATE TABLE dbo.pipeline_run_steps (
        run_id        NVARCHAR(64)      NOT NULL CONSTRAINT fk_pipeline_run_steps_run REFERENCES dbo.pipeline_runs (run_id),
        step          NVARCHAR(32)      NOT NULL,
        status        NVARCHAR(16)      NOT NULL,
        started_at    DATETIMEOFFSET(6) NOT NULL,
        finished_at   DATETIMEOFFSET(6) NOT NULL,
        duration_s    FLOAT             NOT NULL,
        rows_in       BIGINT            NOT NULL,
        rows_out      BIGINT            NOT NULL,
        detail        NVARCHAR(4000)    NULL,
        CONSTRAINT pk_pipeline_run_steps PRIMARY KEY (run_id, step)
    );

IF OBJECT_ID(N'dbo.data_quality_metrics', N'U') IS NULL
    CREATE TABLE dbo.data_quality_metrics (
        run_id        NVARCHAR(64)      NOT NULL,
        table_name    NVARCHAR(64)      NOT NULL,
        metric        NVARCHAR(32)      NOT NULL CONSTRAINT ck_data_quality_metrics_metric
            CHECK (metric IN ('freshness_minutes', 'completeness_pct', 'consistency_pct', 'accuracy_pct')),
        metric_value  FLOAT             NOT NULL,
        measured_at   DATETIMEOFFSET(6) NOT NULL,
        CONSTRAINT pk_data_quality_metrics PRIMARY KEY (run_id, table_name, metric)
    );

IF NOT EXISTS (
    SELECT 1 FROM sys.indexes
    WHERE name = N'ix_data_quality_measured' AND object_id = OBJECT_ID(N'dbo.data_quality_metrics')
)
    CREATE INDEX ix_data_quality_measured ON dbo.data_quality_metrics (measured_at);

IF OBJECT_ID(N'dbo.quarantine_rule_counts', N'U') IS NULL
    CREATE TABLE dbo.quarantine_rule_counts (
        run_id        NVARCHAR(64)      NOT NULL,
        [rule]        NVARCHAR(32)      NOT NULL,
        failed_rows   BIGINT            NOT NULL,
        measured_at   DATETIMEOFFSET(6) NOT NULL,
        CONSTRAINT pk_quarantine_rule_counts PRIMARY KEY (run_id, [rule])
    );

-- Per lakehouse source table: the Delta table (its id) and version this database last published.
-- Written in the same transaction as the rows, so a publish is sent whole or not at all.
IF OBJECT_ID(N'dbo.publish_watermarks', N'U') IS NULL
    CREATE TABLE dbo.publish_watermarks (
        source_table   NVARCHAR(64)      NOT NULL,
        table_id       NVARCHAR(64)      NOT NULL,
        delta_version  BIGINT            NOT NULL,
        published_at   DATETIMEOFFSET(6) NOT NULL CONSTRAINT df_publish_watermarks_published_at DEFAULT SYSDATETIMEOFFSET(),
        CONSTRAINT pk_publish_watermarks PRIMARY KEY (source_table)
    );
GO

-- Newest hour per compressor with its station.
CREATE OR ALTER VIEW dbo.v_latest_readings AS
SELECT h.*, c.station_id, c.model, s.station_name, s.basin
FROM dbo.compressors AS c
INNER JOIN dbo.stations AS s ON s.station_id = c.station_id
CROSS APPLY (
    SELECT TOP 1 r.*
    FROM dbo.hourly_readings AS r
    WHERE r.compressor_id = c.compressor_id
    ORDER BY r.hour_start DESC
) AS h;
GO

-- Alerts an operator still has to act on: the condition is present, or nobody resolved it.
CREATE OR ALTER VIEW dbo.v_active_alerts AS
SELECT a.*, c.station_id
FROM dbo.alerts AS a
INNER JOIN dbo.compressors AS c ON c.compressor_id = a.compressor_id
WHERE a.status <> 'resolved' AND a.is_active = 1;
GO

-- One row per compressor: current health, open alert counts, last reading time.
CREATE OR ALTER VIEW dbo.v_fleet_health AS
SELECT
    c.compressor_id,
    c.station_id,
    c.model,
    s.station_name,
    s.basin,
    s.latitude,
    s.longitude,
    COALESCE(l.health_status, 'unknown') AS health_status,
    l.hour_start AS last_reading_hour,
    COALESCE(a.active_alerts, 0) AS active_alerts,
    COALESCE(a.critical_alerts, 0) AS critical_alerts
FROM dbo.compressors AS c
INNER JOIN dbo.stations AS s ON s.station_id = c.station_id
LEFT JOIN dbo.v_latest_readings AS l ON l.compressor_id = c.compressor_id
LEFT JOIN (
    SELECT
        compressor_id,
        COUNT(*) AS active_alerts,
        SUM(CASE WHEN current_severity = 'critical' THEN 1 ELSE 0 END) AS critical_alerts
    FROM dbo.v_active_alerts
    GROUP BY compressor_id
) AS a ON a.compressor_id = c.compressor_id;
GO
