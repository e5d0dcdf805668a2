//! eid-adoption: the REST API behind door-to-door e-ID and digital-signature adoption.
//! `startup::run` builds the HTTP server for both the binary and the integration tests.

pub mod adoption;
pub mod areas;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod duplicates;
pub mod etag;
pub mod households;
pub mod i18n;
pub mod idempotency;
pub mod imports;
pub mod invitations;
pub mod mail;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod pagination;
pub mod patch;
pub mod problem;
pub mod residents;
pub mod routes;
pub mod schema;
pub mod search;
pub mod sessions;
pub mod startup;
pub mod state;
pub mod status;
pub mod targets;
pub mod telemetry;
pub mod users;
pub mod visits;
pub mod volunteers;
