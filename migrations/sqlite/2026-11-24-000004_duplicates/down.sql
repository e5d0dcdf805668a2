DROP TABLE duplicate_pairs;
