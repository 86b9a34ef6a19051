//! MySQL and MariaDB: the `server_audit` plugin's log, where it is enabled, can name who
//! ran a DDL statement; otherwise `lockstep watch` dates out-of-band changes.
