-- Adoption targets. A row with no area is a national default (from PRODUCT.md); an area
-- may set its own per indicator, and an area without its own inherits the nearest
-- ancestor's. Thresholds are in basis points (8000 = 80 %) so comparisons stay exact.
CREATE TABLE targets (
    id TEXT PRIMARY KEY NOT NULL,
    area_id TEXT REFERENCES areas (id),
    indicator TEXT NOT NULL CHECK (indicator IN ('eid', 'signature', 'broadband')),
    comparison TEXT NOT NULL CHECK (comparison IN ('at_least', 'more_than')),
    threshold_basis_points INTEGER NOT NULL CHECK (threshold_basis_points BETWEEN 0 AND 10000),
    deadline DATE NOT NULL,
    updated_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX targets_area_id ON targets (area_id);

INSERT INTO targets (id, area_id, indicator, comparison, threshold_basis_points, deadline, updated_at) VALUES
    ('00000000-0000-7000-8000-000000000001', NULL, 'eid', 'at_least', 8000, '2025-12-31', '2026-11-24 00:00:00'),
    ('00000000-0000-7000-8000-000000000002', NULL, 'signature', 'more_than', 5000, '2025-12-31', '2026-11-24 00:00:00'),
    ('00000000-0000-7000-8000-000000000003', NULL, 'signature', 'more_than', 7000, '2030-12-31', '2026-11-24 00:00:00'),
    ('00000000-0000-7000-8000-000000000004', NULL, 'broadband', 'at_least', 9500, '2025-12-31', '2026-11-24 00:00:00');
