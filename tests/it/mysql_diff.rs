//! MySQL/MariaDB diff → SQL: for each before/after pair, the plan applied to "before"
//! gives "after".
