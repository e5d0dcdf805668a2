DROP INDEX residents_search_text_birth_date;
DROP TABLE duplicate_pairs;
