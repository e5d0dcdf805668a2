DROP TABLE status_events;
DROP TABLE visits;
DROP TABLE residents;
DROP TABLE households;
