-- Fold what is pending back into the buckets of every level, then drop the log.
INSERT INTO adoption_deltas (area_path, grain, period_start, measure, delta)
SELECT a.path, g.grain,
       CASE g.grain WHEN 'day' THEN l.day
                    WHEN 'month' THEN date_trunc('month', l.day)::date
                    ELSE date_trunc('year', l.day)::date END,
       l.measure, SUM(l.delta)
  FROM adoption_delta_log l
  JOIN areas a ON l.area_path LIKE a.path || '%'
  CROSS JOIN (VALUES ('day'), ('month'), ('year')) AS g (grain)
 GROUP BY 1, 2, 3, 4
ON CONFLICT (area_path, grain, period_start, measure)
DO UPDATE SET delta = adoption_deltas.delta + excluded.delta;
DROP TABLE adoption_fold_state;
DROP TABLE adoption_delta_log;
UPDATE sync_clock SET value = (SELECT last_value FROM sync_stamps) WHERE id = 1;
DROP SEQUENCE sync_stamps;
CREATE OR REPLACE FUNCTION sync_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    stamp BIGINT;
BEGIN
    stamp := NULLIF(current_setting('eid.sync_seq', true), '')::BIGINT;
    IF stamp IS NULL THEN
        UPDATE sync_clock SET value = value + 1 WHERE id = 1 RETURNING value INTO stamp;
        PERFORM set_config('eid.sync_seq', stamp::TEXT, true);
    END IF;
    NEW.sync_seq := stamp;
    RETURN NEW;
END
$$;
