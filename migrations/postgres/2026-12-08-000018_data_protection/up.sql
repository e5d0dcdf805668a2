-- Duties under Law 91/2025/QH15 and Decree 356/2025/NĐ-CP: the register of data subjects'
-- requests with their deadlines, and the record of breaches.
CREATE TABLE data_requests (
  id TEXT PRIMARY KEY NOT NULL,
  area_id TEXT NOT NULL REFERENCES areas (id),
  area_path TEXT NOT NULL,
  resident_id TEXT REFERENCES residents (id),
  -- access | correction | provision | erasure | restriction | consent_withdrawal | objection
  kind TEXT NOT NULL,
  -- in_person | phone | written | electronic
  channel TEXT NOT NULL,
  details TEXT,
  received_on DATE NOT NULL,
  acknowledge_by DATE NOT NULL,
  acknowledged_on DATE,
  due_on DATE NOT NULL,
  extended_to DATE,
  extension_reason TEXT,
  -- open | completed | refused
  status TEXT NOT NULL,
  outcome TEXT,
  closed_on DATE,
  closed_by TEXT REFERENCES users (id),
  created_by TEXT NOT NULL REFERENCES users (id),
  created_at TIMESTAMP NOT NULL
);
CREATE INDEX data_requests_by_area ON data_requests (area_path, id);

CREATE TABLE data_breaches (
  id TEXT PRIMARY KEY NOT NULL,
  area_id TEXT NOT NULL REFERENCES areas (id),
  area_path TEXT NOT NULL,
  discovered_at TIMESTAMP NOT NULL,
  description TEXT NOT NULL,
  -- JSON list of data categories
  data_categories TEXT NOT NULL,
  subjects_affected INTEGER,
  measures TEXT,
  report_by TIMESTAMP NOT NULL,
  authority_notified_at TIMESTAMP,
  subjects_notified_at TIMESTAMP,
  recorded_by TEXT NOT NULL REFERENCES users (id),
  created_at TIMESTAMP NOT NULL
);
CREATE INDEX data_breaches_by_area ON data_breaches (area_path, id);
