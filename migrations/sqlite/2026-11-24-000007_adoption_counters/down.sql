DROP INDEX status_events_household_resident;
DROP TABLE adoption_deltas;
DROP TABLE adoption_spans;
