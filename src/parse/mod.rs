//! One module per input format. Each turns bytes into facts of the model.

pub mod crdb_log;
pub mod crdb_table;
pub mod jsonlog;
pub mod legacy;
pub mod pdctl;
pub mod scan;
pub mod time;
pub mod unified;
