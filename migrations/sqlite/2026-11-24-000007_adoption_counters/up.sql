-- Adoption counters, kept in the transaction that changes the raw rows, so that the
-- figure of any area on any day is a roll-up instead of a scan of residents.
--
-- adoption_spans: for every resident and household, the days on which it counts towards
-- each measure (adults, eid, signature, households, fibre), as half-open ranges
-- [starts_on, ends_on); ends_on NULL means "still counts". Replaced whenever the subject or
-- its events change.
CREATE TABLE adoption_spans (
    subject_id TEXT NOT NULL,
    measure TEXT NOT NULL CHECK (measure IN ('adults', 'eid', 'signature', 'households', 'fibre')),
    area_path TEXT NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE,
    PRIMARY KEY (subject_id, measure, starts_on)
);
CREATE INDEX adoption_spans_area_path ON adoption_spans (area_path);

-- adoption_deltas: per neighbourhood and measure, how much the count changes on a day
-- (+1 where a span starts, -1 where it ends), kept at three grains so that "as of D" sums
-- whole years before D's year, whole months before D's month and days up to D.
CREATE TABLE adoption_deltas (
    area_path TEXT NOT NULL,
    grain TEXT NOT NULL CHECK (grain IN ('day', 'month', 'year')),
    period_start DATE NOT NULL,
    measure TEXT NOT NULL CHECK (measure IN ('adults', 'eid', 'signature', 'households', 'fibre')),
    delta BIGINT NOT NULL,
    PRIMARY KEY (area_path, grain, period_start, measure)
);

-- A household's own events (broadband: no resident) by one index lookup; without it the
-- planner may walk every NULL resident_id.
CREATE INDEX status_events_household_resident ON status_events (household_id, resident_id);
