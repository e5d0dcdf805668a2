-- The values removed by up.sql are gone for good; nothing to restore.
SELECT 1;
