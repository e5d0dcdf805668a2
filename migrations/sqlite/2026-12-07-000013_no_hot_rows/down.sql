-- Fold what is pending back into the buckets of every level, then drop the log.
INSERT INTO adoption_deltas (area_path, grain, period_start, measure, delta)
SELECT a.path, g.grain,
       CASE g.grain WHEN 'day' THEN l.day
                    WHEN 'month' THEN strftime('%Y-%m-01', l.day)
                    ELSE strftime('%Y-01-01', l.day) END,
       l.measure, SUM(l.delta)
  FROM adoption_delta_log l
  JOIN areas a ON substr(l.area_path, 1, length(a.path)) = a.path
  CROSS JOIN (SELECT 'day' AS grain UNION ALL SELECT 'month' UNION ALL SELECT 'year') AS g
 WHERE 1
 GROUP BY 1, 2, 3, 4
ON CONFLICT (area_path, grain, period_start, measure)
DO UPDATE SET delta = adoption_deltas.delta + excluded.delta;
DROP TABLE adoption_fold_state;
DROP TABLE adoption_delta_log;
