DROP TABLE data_breaches;
DROP TABLE data_requests;
