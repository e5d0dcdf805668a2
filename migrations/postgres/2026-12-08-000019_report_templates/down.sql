DROP TABLE report_templates;
