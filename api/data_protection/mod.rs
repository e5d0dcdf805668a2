//! Duties under the personal-data law in force (Law 91/2025/QH15 and Decree 356/2025/NĐ-CP,
//! since 1 January 2026): the register of data subjects' requests with their deadlines,
//! the record of breaches, and the record of processing. The legal figures live in `law`.

pub mod breaches;
pub mod law;
pub mod processing;
pub mod requests;
