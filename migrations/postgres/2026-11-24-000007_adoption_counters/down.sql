DROP TABLE adoption_deltas;
DROP TABLE adoption_spans;
