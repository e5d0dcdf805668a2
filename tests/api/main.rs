//! Integration tests: the real application over real HTTP, on a fresh database per test
//! (SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set).

mod adoption;
mod adoption_properties;
mod areas;
mod audit;
mod auth;
mod browser;
mod calendar;
mod cli;
mod contract;
mod dashboard;
mod digest;
mod duplicates;
mod errors;
mod faults;
mod helpers;
mod households;
mod idempotency;
mod imports;
mod invitations;
mod mail;
mod migrations;
mod mobile_spec;
mod ops;
mod password_reset;
mod phone;
mod residents;
mod sessions;
mod smtp;
mod sync;
mod sync_properties;
mod targets;
mod throttling;
mod users;
mod visits;
mod volunteers;
