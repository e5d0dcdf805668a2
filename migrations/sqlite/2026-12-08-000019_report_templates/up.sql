-- Report templates an administrator uploads: the first worksheet's cells (JSON rows of
-- text), the row line found in it, and the area it was uploaded for (it serves that area,
-- the areas below it and those above it).
CREATE TABLE report_templates (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  area_path TEXT NOT NULL,
  cells TEXT NOT NULL,
  row_line INTEGER NOT NULL,
  -- The workbook as uploaded: reports are filled into it in place.
  file BLOB NOT NULL,
  created_by TEXT NOT NULL REFERENCES users (id),
  created_at TIMESTAMP NOT NULL
);
CREATE INDEX report_templates_by_scope ON report_templates (area_path, id);
