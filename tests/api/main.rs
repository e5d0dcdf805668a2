//! Integration tests: the real application over real HTTP, on a fresh database per test
//! (SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set).

mod areas;
mod auth;
mod cli;
mod contract;
mod errors;
mod helpers;
mod migrations;
mod ops;
mod users;
