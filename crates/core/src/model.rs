//! The dialect-neutral schema model.
//!
//! Every collection is a `BTreeMap` keyed by the object's identity, so object order in
//! the catalog never shows up as a difference and JSON snapshots are byte-stable.
//! Column order is the one ordered thing: it is part of a table.
//!
//! Dialect extras (MySQL engines and charsets, SQLite `STRICT`) are plain optional
//! fields rather than a separate extension mechanism: there are three dialects, and a
//! flat struct keeps the diff a field-by-field comparison.

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;
use std::collections::BTreeMap;
use std::fmt;

/// Snapshot format version, bumped when the JSON shape changes incompatibly.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Postgres,
    Sqlite,
    Mysql,
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Postgres => "postgres",
            Dialect::Sqlite => "sqlite",
            Dialect::Mysql => "mysql",
        })
    }
}

/// A schema-qualified name. SQLite uses the schema `main`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QualName {
    pub schema: String,
    pub name: String,
}

impl QualName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        QualName {
            schema: schema.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for QualName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

// Map keys in JSON must be strings; a qualified name is "schema.name" with the schema
// quoted only when it contains a dot, so the common case stays readable.
impl QualName {
    pub fn key(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

/// Declares a kind of object that has an owner, a comment and grants: the three fields
/// are appended, with the serde rules every such kind shares (left out when empty).
/// Across the model an absent `Option` is left out of the JSON (`skip_serializing_none`)
/// and reads back as `None`, so snapshots stay small and old ones still load.
/// `then m;` hands the struct to macro `m` for more fields.
macro_rules! owned {
    ($(#[$attr:meta])* pub struct $name:ident { $($field:tt)* }) => {
        owned! { then item; $(#[$attr])* pub struct $name { $($field)* } }
    };
    (then $then:ident; $(#[$attr:meta])* pub struct $name:ident { $($field:tt)* }) => {
        $then! {
            #[skip_serializing_none]
            $(#[$attr])*
            pub struct $name {
                $($field)*
                pub owner: Option<String>,
                pub comment: Option<String>,
                #[serde(default, skip_serializing_if = "Vec::is_empty")]
                pub grants: Vec<Grant>,
            }
        }
    };
}

/// The options of a sequence, which an identity column's own sequence has too: declared
/// once, appended to both, flat in the JSON as they always were (serde's `flatten` does
/// not work with `deny_unknown_fields`).
macro_rules! sequence_options {
    ($(#[$attr:meta])* pub struct $name:ident { $($field:tt)* }) => {
        $(#[$attr])*
        pub struct $name {
            $($field)*
            pub start: i64,
            pub increment: i64,
            pub min: i64,
            pub max: i64,
            pub cache: i64,
            pub cycle: bool,
        }
    };
}

macro_rules! item {
    ($item:item) => {
        $item
    };
}

/// The whole database as lockstep sees it.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub format: u32,
    pub dialect: Dialect,
    /// Facts about the server, not the schema. The diff ignores them; drift and parity
    /// compare them separately.
    #[serde(default)]
    pub env: EnvFacts,
    /// Set on a model built by replaying migrations: the role the replay ran as, so
    /// owners and grants can be mapped to the role that deploys the environment.
    pub replay_role: Option<String>,
    #[serde(default)]
    pub schemas: BTreeMap<String, Namespace>,
    #[serde(default)]
    pub extensions: BTreeMap<String, Extension>,
    #[serde(default)]
    pub roles: BTreeMap<String, Role>,
    #[serde(default, with = "qualmap")]
    pub types: BTreeMap<QualName, TypeDef>,
    #[serde(default, with = "qualmap")]
    pub sequences: BTreeMap<QualName, Sequence>,
    #[serde(default, with = "qualmap")]
    pub tables: BTreeMap<QualName, Table>,
    #[serde(default, with = "qualmap")]
    pub views: BTreeMap<QualName, View>,
    /// Indexes live at the top level because PostgreSQL index names are unique per
    /// schema and materialized views carry indexes too.
    #[serde(default, with = "qualmap")]
    pub indexes: BTreeMap<QualName, Index>,
    /// Keyed by `schema.name(identity args)`: overloads are distinct objects.
    #[serde(default)]
    pub functions: BTreeMap<String, Function>,
    /// Keyed by `schema.table.trigger`: trigger names are unique per table.
    #[serde(default)]
    pub triggers: BTreeMap<String, Trigger>,
    /// Every other kind of object, compared by its definition text: aggregates aside
    /// (they are functions), the PostgreSQL objects pg_dump knows that have no model of
    /// their own. Keyed by [`Other::key`]. See docs/diff.md.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub others: BTreeMap<String, Other>,
}

impl Database {
    pub fn empty(dialect: Dialect) -> Self {
        Database {
            format: FORMAT_VERSION,
            dialect,
            env: EnvFacts::default(),
            replay_role: None,
            schemas: BTreeMap::new(),
            extensions: BTreeMap::new(),
            roles: BTreeMap::new(),
            types: BTreeMap::new(),
            sequences: BTreeMap::new(),
            tables: BTreeMap::new(),
            views: BTreeMap::new(),
            indexes: BTreeMap::new(),
            functions: BTreeMap::new(),
            triggers: BTreeMap::new(),
            others: BTreeMap::new(),
        }
    }

    /// Counts of each object kind, for summaries.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        m.insert("schemas", self.schemas.len());
        m.insert("tables", self.tables.len());
        m.insert(
            "columns",
            self.tables.values().map(|t| t.columns.len()).sum(),
        );
        m.insert(
            "constraints",
            self.tables.values().map(|t| t.constraints.len()).sum(),
        );
        m.insert("indexes", self.indexes.len());
        m.insert("views", self.views.len());
        m.insert("sequences", self.sequences.len());
        m.insert("types", self.types.len());
        m.insert("functions", self.functions.len());
        m.insert("triggers", self.triggers.len());
        m.insert("extensions", self.extensions.len());
        m.insert("roles", self.roles.len());
        m.insert("others", self.others.len());
        m
    }
}

/// Server facts: engine, version, settings that change behaviour, and every role on the
/// server (roles are server-wide; the model's `roles` holds only those this database uses).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvFacts {
    #[serde(default)]
    pub engine: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// Every role on the server, sorted. The model's `roles` holds only those that own
    /// or hold privileges on an object of this database.
    #[serde(default)]
    pub server_roles: Vec<String>,
    /// What inspection could not read, or could read only in part (a catalog table this
    /// role may not see), for people. Never compared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A grant of one privilege to one grantee. `grantee` is `PUBLIC` for the public pseudo-role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub grantee: String,
    pub privilege: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub grantable: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

owned! {
    #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Namespace {
        pub name: String,
    }
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    pub name: String,
    pub schema: String,
    pub version: String,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub name: String,
    #[serde(default)]
    pub login: bool,
    #[serde(default)]
    pub superuser: bool,
    #[serde(default)]
    pub createdb: bool,
    #[serde(default)]
    pub createrole: bool,
    #[serde(default = "yes")]
    pub inherit: bool,
    #[serde(default)]
    pub replication: bool,
    #[serde(default)]
    pub bypassrls: bool,
    #[serde(default = "minus_one")]
    pub connection_limit: i32,
    /// Roles this role is a member of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub member_of: Vec<String>,
}

fn yes() -> bool {
    true
}

fn minus_one() -> i32 {
    -1
}

owned! {
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct TypeDef {
        pub name: QualName,
        pub kind: TypeKind,
        /// Not compared: used to order creation.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub depends_on: Vec<String>,
    }
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TypeKind {
    Enum {
        labels: Vec<String>,
    },
    Domain {
        base: String,
        #[serde(default)]
        not_null: bool,
        default: Option<String>,
        collation: Option<String>,
        /// Named CHECK constraints: name → `CHECK (...)`.
        #[serde(default)]
        checks: BTreeMap<String, String>,
    },
    Composite {
        attributes: Vec<Attribute>,
    },
    Range {
        subtype: String,
        subtype_opclass: Option<String>,
        collation: Option<String>,
        canonical: Option<String>,
        subtype_diff: Option<String>,
    },
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attribute {
    pub name: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub collation: Option<String>,
}

owned! {
    then sequence_options;
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Sequence {
        pub name: QualName,
        #[serde(rename = "type")]
        pub type_: String,
        /// `table.column` that owns the sequence (`OWNED BY`), as `schema.table.column`.
        pub owned_by: Option<ColumnRef>,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ColumnRef {
    pub table: QualName,
    pub column: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    #[default]
    Regular,
    /// PostgreSQL declarative partitioning parent.
    Partitioned,
    /// PostgreSQL foreign table (inspected for completeness, never created by plans).
    Foreign,
}

owned! {
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Table {
        pub name: QualName,
        #[serde(default)]
        pub kind: TableKind,
        /// `PARTITION BY` clause for partitioned tables, as the server prints it. On MySQL
        /// the whole partitioning clause, partition definitions included.
        pub partition_key: Option<String>,
        /// Set when this table is a partition: parent and bound (`FOR VALUES ...`).
        pub partition_of: Option<PartitionOf>,
        /// Inheritance parents (PostgreSQL `INHERITS`), in order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub inherits: Vec<QualName>,
        #[serde(default, skip_serializing_if = "is_false")]
        pub unlogged: bool,
        /// Ordered: column order is part of a table.
        pub columns: Vec<Column>,
        /// Order-insensitive; see [`Constraint::key`].
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub constraints: Vec<Constraint>,
        #[serde(default, skip_serializing_if = "is_false")]
        pub rls_enabled: bool,
        #[serde(default, skip_serializing_if = "is_false")]
        pub rls_forced: bool,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub policies: BTreeMap<String, Policy>,
        /// Storage parameters (`WITH (fillfactor=70)`), as `key=value`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub options: Vec<String>,
        /// SQLite `WITHOUT ROWID`.
        #[serde(default, skip_serializing_if = "is_false")]
        pub without_rowid: bool,
        /// SQLite `STRICT`.
        #[serde(default, skip_serializing_if = "is_false")]
        pub strict: bool,
        /// SQLite virtual table: the module and its arguments after `USING`, `fts4(a, b)`.
        pub virtual_using: Option<String>,
        /// MySQL storage engine.
        pub engine: Option<String>,
        /// MySQL default character set and collation.
        pub charset: Option<String>,
        pub collation: Option<String>,
        /// Set by MySQL inspection when this table, regenerated from the model, differs from
        /// the server's own `SHOW CREATE TABLE`: what differs. A diff always reports such a
        /// table and plans nothing for it, rather than act on a model that may be wrong.
        pub mismatch: Option<String>,
        /// PostgreSQL `REPLICA IDENTITY` when not the default: `FULL`, `NOTHING` or
        /// `USING INDEX name` (the name quoted as SQL).
        pub replica_identity: Option<String>,
        /// PostgreSQL foreign table: its server and options, `name [OPTIONS (...)]`, as SQL.
        pub foreign_server: Option<String>,
    }
}

impl Table {
    pub fn new(name: QualName) -> Self {
        Table {
            name,
            kind: TableKind::Regular,
            partition_key: None,
            partition_of: None,
            inherits: vec![],
            unlogged: false,
            columns: vec![],
            constraints: vec![],
            owner: None,
            comment: None,
            grants: vec![],
            rls_enabled: false,
            rls_forced: false,
            policies: BTreeMap::new(),
            options: vec![],
            without_rowid: false,
            strict: false,
            virtual_using: None,
            engine: None,
            charset: None,
            collation: None,
            mismatch: None,
            replica_identity: None,
            foreign_server: None,
        }
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionOf {
    pub parent: QualName,
    /// `FOR VALUES ...` or `DEFAULT`, as the server prints it.
    pub bound: String,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub name: String,
    /// The canonical type with modifiers: `character varying(20)`, `numeric(10,2)`,
    /// `integer[]`. On MySQL it carries `unsigned` (`int unsigned`).
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(default)]
    pub not_null: bool,
    /// Default expression as the server canonicalizes it.
    pub default: Option<String>,
    pub identity: Option<Identity>,
    pub generated: Option<Generated>,
    pub collation: Option<String>,
    /// MySQL column character set.
    pub charset: Option<String>,
    /// MySQL `ON UPDATE` expression.
    pub on_update: Option<String>,
    /// MySQL `AUTO_INCREMENT`; SQLite `AUTOINCREMENT` on an INTEGER PRIMARY KEY.
    #[serde(default, skip_serializing_if = "is_false")]
    pub auto_increment: bool,
    /// MySQL and MariaDB `INVISIBLE`: left out of `SELECT *`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub invisible: bool,
    pub comment: Option<String>,
    /// Column-level privileges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
    /// PostgreSQL physical settings, set only where they differ from the default.
    #[serde(default, skip_serializing_if = "ColumnStorage::is_default")]
    pub storage: ColumnStorage,
}

/// How PostgreSQL stores and samples a column: `SET STORAGE`, `SET COMPRESSION`,
/// `SET (n_distinct = ...)`, `SET STATISTICS`, and a foreign table column's `OPTIONS`.
/// Each is None (or empty) when it is the default.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnStorage {
    /// `PLAIN`, `EXTERNAL`, `EXTENDED` or `MAIN`, where it differs from the type's.
    pub storage: Option<String>,
    /// `pglz` or `lz4`.
    pub compression: Option<String>,
    /// Attribute options as `key=value`: `n_distinct=-1`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Statistics target.
    pub statistics: Option<i32>,
    /// A foreign table column's options, as SQL: `column_name 'x'`.
    pub fdw_options: Option<String>,
}

impl ColumnStorage {
    pub fn is_default(&self) -> bool {
        *self == ColumnStorage::default()
    }

    /// One line for people, empty for the default.
    pub fn text(&self) -> String {
        let mut parts = vec![];
        if let Some(s) = &self.storage {
            parts.push(format!("storage {}", s.to_lowercase()));
        }
        if let Some(c) = &self.compression {
            parts.push(format!("compression {c}"));
        }
        if !self.options.is_empty() {
            parts.push(format!("options ({})", self.options.join(", ")));
        }
        if let Some(n) = self.statistics {
            parts.push(format!("statistics {n}"));
        }
        if let Some(o) = &self.fdw_options {
            parts.push(format!("fdw options ({o})"));
        }
        parts.join(", ")
    }
}

impl Column {
    pub fn new(name: impl Into<String>, type_: impl Into<String>) -> Self {
        Column {
            name: name.into(),
            type_: type_.into(),
            not_null: false,
            default: None,
            identity: None,
            generated: None,
            collation: None,
            charset: None,
            on_update: None,
            auto_increment: false,
            invisible: false,
            comment: None,
            grants: vec![],
            storage: ColumnStorage::default(),
        }
    }
}

sequence_options! {
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Identity {
        /// `ALWAYS` or `BY DEFAULT`.
        pub always: bool,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generated {
    pub expression: String,
    /// STORED (PostgreSQL only supports stored); false means VIRTUAL.
    pub stored: bool,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constraint {
    /// None where the engine keeps no name (SQLite's unnamed constraints).
    pub name: Option<String>,
    pub kind: ConstraintKind,
    #[serde(default, skip_serializing_if = "is_false")]
    pub deferrable: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub initially_deferred: bool,
    /// `NOT VALID`: present but not checked against existing rows.
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_valid: bool,
    pub comment: Option<String>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ConstraintKind {
    PrimaryKey {
        columns: Vec<String>,
        /// PostgreSQL `INCLUDE (...)`, SQLite conflict clause, and the like.
        extra: Option<String>,
    },
    Unique {
        columns: Vec<String>,
        #[serde(default, skip_serializing_if = "is_false")]
        nulls_not_distinct: bool,
        extra: Option<String>,
    },
    ForeignKey {
        columns: Vec<String>,
        references: QualName,
        ref_columns: Vec<String>,
        /// `NO ACTION`, `RESTRICT`, `CASCADE`, `SET NULL`, `SET DEFAULT`.
        on_delete: String,
        on_update: String,
        /// `SIMPLE`, `FULL` or `PARTIAL`.
        #[serde(rename = "match")]
        match_: String,
    },
    Check {
        expression: String,
        #[serde(default, skip_serializing_if = "is_false")]
        no_inherit: bool,
    },
    Exclusion {
        /// `EXCLUDE USING gist (...)` as the server prints it.
        definition: String,
    },
}

impl Constraint {
    /// A constraint as one is created unless said otherwise: checked immediately,
    /// validated, without a comment.
    pub fn new(name: Option<String>, kind: ConstraintKind) -> Self {
        Constraint {
            name,
            kind,
            deferrable: false,
            initially_deferred: false,
            not_valid: false,
            comment: None,
        }
    }
}

impl ConstraintKind {
    pub fn label(&self) -> &'static str {
        match self {
            ConstraintKind::PrimaryKey { .. } => "primary key",
            ConstraintKind::Unique { .. } => "unique",
            ConstraintKind::ForeignKey { .. } => "foreign key",
            ConstraintKind::Check { .. } => "check",
            ConstraintKind::Exclusion { .. } => "exclusion",
        }
    }
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub name: String,
    pub permissive: bool,
    /// `ALL`, `SELECT`, `INSERT`, `UPDATE`, `DELETE`.
    pub command: String,
    pub roles: Vec<String>,
    pub using: Option<String>,
    pub with_check: Option<String>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    pub name: QualName,
    /// The table or materialized view it indexes.
    pub table: QualName,
    #[serde(default)]
    pub unique: bool,
    /// Everything after the table name, canonical: PostgreSQL
    /// `USING btree (a, lower(b) DESC) INCLUDE (c) WHERE (d > 0)`; SQLite `(a, b DESC) WHERE ...`;
    /// MySQL ``FULLTEXT (`a`, `b`(10)) WITH PARSER `ngram` ``. MySQL index names are unique
    /// per table only, so there `name.name` is `table.index`.
    pub definition: String,
    /// Key columns or expressions, for display and for impact analysis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    pub predicate: Option<String>,
    pub comment: Option<String>,
    /// Set when the index backs a constraint of the same name; such an index is
    /// created by its constraint and never on its own.
    #[serde(default, skip_serializing_if = "is_false")]
    pub constraint: bool,
}

impl Index {
    /// A plain index of `table` on `columns`: not unique, not partial, not a
    /// constraint's, without a comment.
    pub fn new(name: QualName, table: QualName, definition: String, columns: Vec<String>) -> Self {
        Index {
            name,
            table,
            unique: false,
            definition,
            columns,
            predicate: None,
            comment: None,
            constraint: false,
        }
    }
}

owned! {
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct View {
        pub name: QualName,
        #[serde(default, skip_serializing_if = "is_false")]
        pub materialized: bool,
        /// The query, canonical as the server prints it, whitespace-normalized.
        pub definition: String,
        /// Column names, in order, for display.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub columns: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub options: Vec<String>,
        /// `WITH CHECK OPTION` and similar, as text.
        pub check_option: Option<String>,
        /// Column comments, name → comment.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub column_comments: BTreeMap<String, String>,
        /// Not compared: the objects this view reads, for ordering.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub depends_on: Vec<String>,
        /// SQLite: the original CREATE VIEW text, needed to re-create it.
        pub sql: Option<String>,
    }
}

impl View {
    /// A plain view of `definition`, with nothing else set.
    pub fn new(name: QualName, definition: impl Into<String>) -> Self {
        View {
            name,
            materialized: false,
            definition: definition.into(),
            columns: vec![],
            options: vec![],
            check_option: None,
            owner: None,
            comment: None,
            grants: vec![],
            column_comments: BTreeMap::new(),
            depends_on: vec![],
            sql: None,
        }
    }
}

owned! {
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Function {
        pub name: QualName,
        /// `function`, `procedure`, `aggregate` or `window`.
        pub kind: String,
        /// Identity arguments: `integer, text`.
        pub arguments: String,
        /// Result type, as the server prints it; empty for procedures.
        #[serde(default)]
        pub returns: String,
        pub language: String,
        /// The complete `CREATE OR REPLACE FUNCTION` statement as the server prints it.
        /// The diff compares it with insignificant whitespace removed.
        pub definition: String,
        /// Not compared: types and tables its signature uses, for ordering.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub depends_on: Vec<String>,
    }
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    pub name: String,
    /// The table or view it fires on.
    pub table: QualName,
    /// The full `CREATE TRIGGER` statement as the server prints it (whitespace-normalized).
    pub definition: String,
    /// PostgreSQL `tgenabled`: `O` (origin, the default), `D`, `R`, `A`.
    pub enabled: Option<String>,
    pub comment: Option<String>,
    /// Not compared: the function it calls, for ordering.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

/// When an [`Other`] object is created relative to the modelled ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OtherPhase {
    /// Before types and functions: collations, which domains and columns use.
    BeforeTypes,
    /// After functions, before tables: what tables, views and indexes may use
    /// (operators, operator classes, casts, text search, foreign servers).
    BeforeTables,
    /// After tables, views and indexes: rules, statistics, publications, subscriptions.
    AfterTables,
    /// At the very end: event triggers (which would fire on the rest of a script) and
    /// default privileges (which would change the grants of what the script creates).
    Last,
}

/// An object lockstep compares by definition only: its kind, its name, the statements
/// that create it, as SQL built from the catalogs, and the one that drops it.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Other {
    /// `collation`, `rule`, `publication`, ..., as pg_dump names the kind.
    pub kind: String,
    /// Qualified where the kind lives in a schema: `public.german`; a rule or a
    /// statistics object of a table: `public.t.r`.
    pub name: String,
    pub phase: OtherPhase,
    /// The statements that create it. Empty for a kind lockstep only detects: its
    /// definition then is a description, and a plan cannot create it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub create: Vec<String>,
    /// What is compared: the create statements, or a description when there are none.
    pub definition: String,
    /// The statement that drops it; None when it cannot be undone by one statement.
    pub drop: Option<String>,
    /// Not compared: keys of other objects it needs, for ordering within its phase.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

impl Other {
    /// `kind name`: unique, since names are unique within a kind.
    pub fn key(&self) -> String {
        format!("{} {}", self.kind, self.name)
    }

    /// Whether lockstep can create it, or only reports it.
    pub fn modelled(&self) -> bool {
        !self.create.is_empty()
    }
}

/// serde helper: `BTreeMap<QualName, T>` as a JSON object keyed by `schema.name`.
/// The value carries its own `name`, so the key is only for readability and lookup.
mod qualmap {
    use super::QualName;
    use serde::de::DeserializeOwned;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub trait Named {
        fn qualname(&self) -> &QualName;
    }

    pub fn serialize<T: Serialize, S: Serializer>(
        m: &BTreeMap<QualName, T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(m.len()))?;
        for (k, v) in m {
            map.serialize_entry(&k.key(), v)?;
        }
        map.end()
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<BTreeMap<QualName, T>, D::Error>
    where
        T: DeserializeOwned + Named,
        D: Deserializer<'de>,
    {
        let raw: BTreeMap<String, T> = BTreeMap::deserialize(d)?;
        Ok(raw
            .into_values()
            .map(|v| (v.qualname().clone(), v))
            .collect())
    }

    macro_rules! named {
        ($($t:ty),*) => {$(
            impl Named for $t {
                fn qualname(&self) -> &QualName { &self.name }
            }
        )*};
    }
    named!(
        super::TypeDef,
        super::Sequence,
        super::Table,
        super::View,
        super::Index
    );
}
