//! PostgreSQL's type names: the aliases people write and the names the server prints.

/// Maps PostgreSQL's internal and alias type names to the names `format_type` prints, so
/// a snapshot written by hand or by another tool compares equal to an inspected one.
pub fn pg_type(t: &str) -> String {
    let trimmed = t.trim();
    let (base, array) = match trimmed.strip_suffix("[]") {
        Some(b) => (b.trim_end(), "[]"),
        None => (trimmed, ""),
    };
    let (name, mods) = match base.find('(') {
        Some(p) => (base[..p].trim(), &base[p..]),
        None => (base, ""),
    };
    let lower = name.to_ascii_lowercase();
    let canon = match lower.as_str() {
        "int" | "int4" | "integer" => "integer",
        "int2" | "smallint" => "smallint",
        "int8" | "bigint" => "bigint",
        "float4" | "real" => "real",
        "float8" | "double precision" | "float" => "double precision",
        "bool" | "boolean" => "boolean",
        "varchar" | "character varying" => "character varying",
        "char" | "character" | "bpchar" => "character",
        "decimal" | "numeric" => "numeric",
        "timestamptz" | "timestamp with time zone" => "timestamp with time zone",
        "timestamp" | "timestamp without time zone" => "timestamp without time zone",
        "timetz" | "time with time zone" => "time with time zone",
        "time" | "time without time zone" => "time without time zone",
        "varbit" | "bit varying" => "bit varying",
        "serial" | "serial4" => "integer",
        "bigserial" | "serial8" => "bigint",
        "smallserial" | "serial2" => "smallint",
        _ => return trimmed.to_string(),
    };
    // format_type puts the modifier before "with time zone": timestamp(3) with time zone.
    if !mods.is_empty() && canon.contains(" with") {
        let (head, tail) = canon.split_once(" with").unwrap();
        return format!("{head}{} with{tail}{array}", mods.replace(' ', ""));
    }
    format!("{canon}{}{array}", mods.replace(' ', ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_aliases() {
        assert_eq!(pg_type("int4"), "integer");
        assert_eq!(pg_type("varchar(20)"), "character varying(20)");
        assert_eq!(pg_type("timestamptz(3)"), "timestamp(3) with time zone");
        assert_eq!(pg_type("int8[]"), "bigint[]");
        assert_eq!(pg_type("my_enum"), "my_enum");
    }
}
