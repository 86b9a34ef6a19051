//! SQLite inspection.
//!
//! The table-valued pragmas expose columns, keys and indexes; everything else (constraint
//! names, CHECKs, collations, generated expressions, AUTOINCREMENT) lives only in the
//! stored CREATE text, which `lockstep_core::dialect::sqlite::text` reads. Each query joins
//! a pragma over every table at once, so the number of queries is fixed whatever the size
//! of the schema, and all of them run in one read transaction. Since all of it derives
//! from the stored text, a schema whose text a [`SchemaMemo`] has seen is not read again.

use crate::{DbError, DbUrl, SchemaMemo};
use lockstep_core::dialect::sqlite::text::{self, ConstraintSqlKind, TableSql};
use lockstep_core::model::*;
use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, Row};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const MAIN: &str = "main";

/// The user's tables in `main`: SQLite's internal tables (sqlite_sequence, sqlite_stat*)
/// and lockstep's own are left out.
macro_rules! user_tables {
    () => {
        "l.schema = 'main' AND l.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND l.name NOT LIKE 'lockstep\\_%' ESCAPE '\\'"
    };
}

const ENV_SQL: &str = "SELECT sqlite_version(), \
    (SELECT encoding FROM pragma_encoding), \
    (SELECT foreign_keys FROM pragma_foreign_keys), \
    (SELECT recursive_triggers FROM pragma_recursive_triggers), \
    (SELECT user_version FROM pragma_user_version), \
    (SELECT application_id FROM pragma_application_id), \
    (SELECT journal_mode FROM pragma_journal_mode), \
    (SELECT auto_vacuum FROM pragma_auto_vacuum)";

const TABLES_SQL: &str = concat!(
    "SELECT l.name, l.type, l.wr, l.strict, m.sql FROM pragma_table_list l \
     JOIN sqlite_schema m ON m.type = 'table' AND m.name = l.name WHERE ",
    user_tables!(),
    " AND l.type IN ('table', 'virtual') ORDER BY l.name"
);

const COLUMNS_SQL: &str = concat!(
    "SELECT l.name, p.cid, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk, p.hidden \
     FROM pragma_table_list l JOIN pragma_table_xinfo(l.name, 'main') p WHERE ",
    user_tables!(),
    " AND l.type = 'table' ORDER BY l.name, p.cid"
);

// Separate from COLUMNS_SQL: reading a virtual table's columns needs its module, and a
// missing module must not cost the rest of the inspection.
const VIRTUAL_COLUMNS_SQL: &str = concat!(
    "SELECT l.name, p.cid, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk, p.hidden \
     FROM pragma_table_list l JOIN pragma_table_xinfo(l.name, 'main') p WHERE ",
    user_tables!(),
    " AND l.type = 'virtual' AND p.hidden = 0 ORDER BY l.name, p.cid"
);

const FOREIGN_KEYS_SQL: &str = concat!(
    "SELECT l.name, f.id, f.seq, f.\"table\", f.\"from\", f.\"to\", f.on_update, f.on_delete, \
     f.\"match\" FROM pragma_table_list l JOIN pragma_foreign_key_list(l.name, 'main') f WHERE ",
    user_tables!(),
    " AND l.type = 'table' ORDER BY l.name, f.id, f.seq"
);

const INDEXES_SQL: &str = concat!(
    "SELECT l.name, i.name, i.\"unique\", i.origin, i.partial, m.sql \
     FROM pragma_table_list l JOIN pragma_index_list(l.name, 'main') i \
     LEFT JOIN sqlite_schema m ON m.type = 'index' AND m.name = i.name WHERE ",
    user_tables!(),
    " AND l.type = 'table' ORDER BY l.name, i.name"
);

const INDEX_COLUMNS_SQL: &str = concat!(
    "SELECT i.name, x.seqno, x.cid, x.name, x.\"desc\", x.coll \
     FROM pragma_table_list l JOIN pragma_index_list(l.name, 'main') i \
     JOIN pragma_index_xinfo(i.name, 'main') x WHERE ",
    user_tables!(),
    " AND l.type = 'table' AND x.key = 1 ORDER BY i.name, x.seqno"
);

const OBJECTS_SQL: &str = "SELECT type, name, tbl_name, sql FROM sqlite_schema \
    WHERE type IN ('view', 'trigger') AND sql IS NOT NULL \
    AND name NOT LIKE 'lockstep\\_%' ESCAPE '\\' AND tbl_name NOT LIKE 'lockstep\\_%' ESCAPE '\\' \
    ORDER BY type, name";

const VIEW_COLUMNS_SQL: &str = "SELECT m.name, p.name FROM sqlite_schema m \
    JOIN pragma_table_info(m.name, 'main') p WHERE m.type = 'view' \
    AND m.name NOT LIKE 'lockstep\\_%' ESCAPE '\\' ORDER BY m.name, p.cid";

const ONE_VIEW_COLUMNS_SQL: &str =
    "SELECT ?1, name FROM pragma_table_info(?1, 'main') ORDER BY cid";

/// Every object's stored CREATE text: what every pragma above derives from.
const SCHEMA_TEXT_SQL: &str = "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid";

pub async fn inspect(
    conn: &mut sqlx::SqliteConnection,
    url: &DbUrl,
    memo: Option<&SchemaMemo>,
) -> Result<Arc<Database>, DbError> {
    let err = |what: &str| {
        let what = format!("inspecting SQLite ({what})");
        move |e: sqlx::Error| DbError::query(what, url, e)
    };
    let mut tx = conn.begin().await.map_err(err("begin"))?;
    let env = sqlx::query(ENV_SQL)
        .fetch_one(&mut *tx)
        .await
        .map_err(err("settings"))?;
    let env: Vec<String> = (0..8)
        .map(|i| get_str(&env, i).unwrap_or_default())
        .collect();
    let key = match memo {
        Some(_) => {
            let rows = sqlx::query(SCHEMA_TEXT_SQL)
                .fetch_all(&mut *tx)
                .await
                .map_err(err("schema text"))?;
            memo_key(&env, &rows)
        }
        None => None,
    };
    if let Some(model) = memo.zip(key.as_deref()).and_then(|(m, k)| m.get(k)) {
        tx.commit().await.map_err(err("commit"))?;
        return Ok(model);
    }
    let tables = sqlx::query(TABLES_SQL)
        .fetch_all(&mut *tx)
        .await
        .map_err(err("tables"))?;
    let columns = sqlx::query(COLUMNS_SQL)
        .fetch_all(&mut *tx)
        .await
        .map_err(err("columns"))?;
    // A virtual table whose module is not loaded here keeps its USING text and no columns.
    let virtual_columns = sqlx::query(VIRTUAL_COLUMNS_SQL)
        .fetch_all(&mut *tx)
        .await
        .unwrap_or_default();
    let fks = sqlx::query(FOREIGN_KEYS_SQL)
        .fetch_all(&mut *tx)
        .await
        .map_err(err("foreign keys"))?;
    let indexes = sqlx::query(INDEXES_SQL)
        .fetch_all(&mut *tx)
        .await
        .map_err(err("indexes"))?;
    let index_columns = sqlx::query(INDEX_COLUMNS_SQL)
        .fetch_all(&mut *tx)
        .await
        .map_err(err("index columns"))?;
    let objects = sqlx::query(OBJECTS_SQL)
        .fetch_all(&mut *tx)
        .await
        .map_err(err("views and triggers"))?;
    let view_columns = match sqlx::query(VIEW_COLUMNS_SQL).fetch_all(&mut *tx).await {
        Ok(rows) => rows,
        // One broken view (naming a dropped table) fails the joined query; ask per view
        // then, so that only the broken one goes without columns.
        Err(_) => {
            let mut rows = vec![];
            for o in &objects {
                if get_str(o, 0).as_deref() == Some("view") {
                    let name = get_str(o, 1).unwrap_or_default();
                    if let Ok(r) = sqlx::query(ONE_VIEW_COLUMNS_SQL)
                        .bind(name)
                        .fetch_all(&mut *tx)
                        .await
                    {
                        rows.extend(r);
                    }
                }
            }
            rows
        }
    };
    tx.commit().await.map_err(err("commit"))?;

    let raw = Raw {
        env,
        tables: tables
            .iter()
            .map(|r| RawTable {
                name: get_str(r, 0).unwrap_or_default(),
                virtual_: get_str(r, 1).as_deref() == Some("virtual"),
                without_rowid: get_int(r, 2) != 0,
                strict: get_int(r, 3) != 0,
                sql: get_str(r, 4).unwrap_or_default(),
            })
            .collect(),
        columns: columns
            .iter()
            .chain(virtual_columns.iter())
            .map(raw_column)
            .collect(),
        fks: fks
            .iter()
            .map(|r| RawFk {
                table: get_str(r, 0).unwrap_or_default(),
                id: get_int(r, 1),
                ref_table: get_str(r, 3).unwrap_or_default(),
                from: get_str(r, 4).unwrap_or_default(),
                to: get_str(r, 5),
                on_update: get_str(r, 6).unwrap_or_default(),
                on_delete: get_str(r, 7).unwrap_or_default(),
                match_: get_str(r, 8).unwrap_or_default(),
            })
            .collect(),
        indexes: indexes
            .iter()
            .map(|r| RawIndex {
                table: get_str(r, 0).unwrap_or_default(),
                name: get_str(r, 1).unwrap_or_default(),
                unique: get_int(r, 2) != 0,
                origin: get_str(r, 3).unwrap_or_default(),
                sql: get_str(r, 5),
            })
            .collect(),
        index_columns: index_columns
            .iter()
            .map(|r| RawIndexColumn {
                index: get_str(r, 0).unwrap_or_default(),
                name: get_str(r, 3),
                desc: get_int(r, 4) != 0,
            })
            .collect(),
        objects: objects
            .iter()
            .map(|r| RawObject {
                kind: get_str(r, 0).unwrap_or_default(),
                name: get_str(r, 1).unwrap_or_default(),
                table: get_str(r, 2).unwrap_or_default(),
                sql: get_str(r, 3).unwrap_or_default(),
            })
            .collect(),
        view_columns: view_columns
            .iter()
            .map(|r| {
                (
                    get_str(r, 0).unwrap_or_default(),
                    get_str(r, 1).unwrap_or_default(),
                )
            })
            .collect(),
    };
    let model = Arc::new(assemble(raw));
    if let (Some(m), Some(k)) = (memo, key) {
        m.put(k, model.clone());
    }
    Ok(model)
}

/// What a schema's model is a function of, for [`SchemaMemo`]: the settings read and
/// each object's CREATE text (each field length-prefixed, so that no two schemas give the
/// same key). None when the schema has a virtual table, whose columns come from its
/// module and may depend on more than the text (a file it reads, say).
fn memo_key(env: &[String], rows: &[SqliteRow]) -> Option<String> {
    let mut key = String::new();
    let mut field = |s: &str| {
        key.push_str(&s.len().to_string());
        key.push(':');
        key.push_str(s);
    };
    env.iter().for_each(|s| field(s));
    for r in rows {
        let sql = get_str(r, 3).unwrap_or_default();
        let head = sql.get(..20).unwrap_or_default();
        if head.eq_ignore_ascii_case("CREATE VIRTUAL TABLE") {
            return None;
        }
        for i in 0..3 {
            field(&get_str(r, i).unwrap_or_default());
        }
        field(&sql);
    }
    Some(key)
}

// Pragma results carry no declared types, so values are read as whatever they hold.
fn get_str(r: &SqliteRow, i: usize) -> Option<String> {
    r.try_get_unchecked::<Option<String>, _>(i).ok().flatten()
}

fn get_int(r: &SqliteRow, i: usize) -> i64 {
    r.try_get_unchecked::<Option<i64>, _>(i)
        .ok()
        .flatten()
        .unwrap_or(0)
}

fn raw_column(r: &SqliteRow) -> RawColumn {
    RawColumn {
        table: get_str(r, 0).unwrap_or_default(),
        name: get_str(r, 2).unwrap_or_default(),
        type_: get_str(r, 3).unwrap_or_default(),
        not_null: get_int(r, 4) != 0,
        default: get_str(r, 5),
        pk: get_int(r, 6),
        hidden: get_int(r, 7),
    }
}

/// What the queries returned, before any interpretation.
struct Raw {
    env: Vec<String>,
    tables: Vec<RawTable>,
    columns: Vec<RawColumn>,
    fks: Vec<RawFk>,
    indexes: Vec<RawIndex>,
    index_columns: Vec<RawIndexColumn>,
    objects: Vec<RawObject>,
    view_columns: Vec<(String, String)>,
}

struct RawTable {
    name: String,
    virtual_: bool,
    without_rowid: bool,
    strict: bool,
    sql: String,
}

struct RawColumn {
    table: String,
    name: String,
    type_: String,
    not_null: bool,
    default: Option<String>,
    pk: i64,
    /// 0 plain, 1 hidden (virtual tables), 2 generated virtual, 3 generated stored.
    hidden: i64,
}

struct RawFk {
    table: String,
    id: i64,
    ref_table: String,
    from: String,
    /// NULL when the key references the parent's primary key implicitly.
    to: Option<String>,
    on_update: String,
    on_delete: String,
    match_: String,
}

struct RawIndex {
    table: String,
    name: String,
    unique: bool,
    /// `c` CREATE INDEX, `u` UNIQUE constraint, `pk` PRIMARY KEY.
    origin: String,
    sql: Option<String>,
}

struct RawIndexColumn {
    index: String,
    /// NULL for an expression.
    name: Option<String>,
    desc: bool,
}

struct RawObject {
    kind: String,
    name: String,
    table: String,
    sql: String,
}

/// Declared types as written, uppercased with whitespace collapsed: `varchar( 20 )` is
/// `VARCHAR(20)`. INT and INTEGER stay distinct, since only `INTEGER PRIMARY KEY` is a
/// rowid alias.
fn norm_type(t: &str) -> String {
    let up = text::squash_str(t).to_ascii_uppercase().replace(", ", ",");
    // Older SQLite versions reported a generated column's type with this suffix.
    match up.strip_suffix("GENERATED ALWAYS") {
        Some(s) => s.trim_end().to_string(),
        None => up,
    }
}

fn same_names(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// Order-free constraints get a fixed order so that snapshots are byte-stable.
fn constraint_order(c: &Constraint) -> (u8, String) {
    match &c.kind {
        ConstraintKind::PrimaryKey { columns, .. } => (0, columns.join(",")),
        ConstraintKind::Unique { columns, .. } => (1, columns.join(",")),
        ConstraintKind::ForeignKey {
            columns,
            references,
            ..
        } => (2, format!("{}>{}", columns.join(","), references.name)),
        ConstraintKind::Check { expression, .. } => (3, expression.clone()),
        ConstraintKind::Exclusion { definition } => (4, definition.clone()),
    }
}

fn assemble(raw: Raw) -> Database {
    let mut db = Database::empty(Dialect::Sqlite);
    db.env.engine = "sqlite".into();
    let mut env = raw.env.into_iter();
    db.env.version = env.next().unwrap_or_default();
    for key in [
        "encoding",
        "foreign_keys",
        "recursive_triggers",
        "user_version",
        "application_id",
        "journal_mode",
        "auto_vacuum",
    ] {
        db.env
            .settings
            .insert(key.into(), env.next().unwrap_or_default());
    }
    db.schemas.insert(
        MAIN.into(),
        Namespace {
            name: MAIN.into(),
            ..Default::default()
        },
    );

    let parsed: BTreeMap<&str, TableSql> = raw
        .tables
        .iter()
        .map(|t| {
            let p = text::parse_create_table(&t.sql).unwrap_or_default();
            (t.name.as_str(), p)
        })
        .collect();
    let mut columns: BTreeMap<&str, Vec<&RawColumn>> = BTreeMap::new();
    for c in &raw.columns {
        columns.entry(c.table.as_str()).or_default().push(c);
    }
    // Primary key columns per table, lowercased name → columns, to resolve foreign keys
    // that name only the parent table.
    let lower = |s: &str| s.to_lowercase();
    let mut pk_of: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    let mut columns_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in &raw.tables {
        let cols = columns.get(t.name.as_str()).cloned().unwrap_or_default();
        let mut pk: Vec<&RawColumn> = cols.iter().copied().filter(|c| c.pk > 0).collect();
        pk.sort_by_key(|c| c.pk);
        pk_of.insert(
            lower(&t.name),
            (t.name.clone(), pk.iter().map(|c| c.name.clone()).collect()),
        );
        columns_of.insert(
            lower(&t.name),
            cols.iter().map(|c| c.name.clone()).collect(),
        );
    }
    let mut index_cols: BTreeMap<&str, Vec<&RawIndexColumn>> = BTreeMap::new();
    for c in &raw.index_columns {
        index_cols.entry(c.index.as_str()).or_default().push(c);
    }

    for rt in &raw.tables {
        let ts = parsed.get(rt.name.as_str()).cloned().unwrap_or_default();
        let mut t = Table::new(QualName::new(MAIN, &rt.name));
        t.without_rowid = rt.without_rowid;
        t.strict = rt.strict;
        let cols = columns.get(rt.name.as_str()).cloned().unwrap_or_default();
        if rt.virtual_ {
            t.virtual_using = Some(
                ts.virtual_using
                    .clone()
                    .unwrap_or_else(|| text::squash_str(&rt.sql)),
            );
            t.columns = cols
                .iter()
                .map(|c| Column::new(&c.name, norm_type(&c.type_)))
                .collect();
            db.tables.insert(t.name.clone(), t);
            continue;
        }
        for c in cols.iter().filter(|c| c.hidden != 1) {
            let mut col = Column::new(&c.name, norm_type(&c.type_));
            col.not_null = c.not_null;
            let pc = ts.column(&c.name);
            if c.hidden == 2 || c.hidden == 3 {
                col.generated = Some(Generated {
                    expression: pc
                        .and_then(|p| p.generated.as_ref())
                        .map(|g| g.0.clone())
                        .unwrap_or_default(),
                    stored: c.hidden == 3,
                });
            } else {
                col.default = c.default.clone();
            }
            col.collation = pc.and_then(|p| p.collation.clone());
            col.auto_increment = pc.is_some_and(|p| p.autoincrement);
            t.columns.push(col);
        }

        let mut used = vec![false; ts.constraints.len()];
        // The parsed constraint of this shape not yet matched to a pragma row.
        let mut take = |pred: &dyn Fn(&ConstraintSqlKind) -> bool| {
            let i = ts
                .constraints
                .iter()
                .enumerate()
                .position(|(i, c)| !used[i] && pred(&c.kind))?;
            used[i] = true;
            Some(ts.constraints[i].clone())
        };

        let pk = pk_of
            .get(&lower(&rt.name))
            .map(|p| p.1.clone())
            .unwrap_or_default();
        if !pk.is_empty() {
            let parsed = take(&|k| matches!(k, ConstraintSqlKind::PrimaryKey(_)));
            t.constraints.push(Constraint::new(
                parsed.as_ref().and_then(|p| p.name.clone()),
                ConstraintKind::PrimaryKey {
                    columns: pk,
                    extra: parsed.and_then(|p| p.conflict),
                },
            ));
        }

        for ix in raw
            .indexes
            .iter()
            .filter(|i| i.table == rt.name && i.origin == "u")
        {
            let cols: Vec<String> = index_cols
                .get(ix.name.as_str())
                .map(|v| v.iter().filter_map(|c| c.name.clone()).collect())
                .unwrap_or_default();
            let parsed =
                take(&|k| matches!(k, ConstraintSqlKind::Unique(c) if same_names(c, &cols)));
            t.constraints.push(Constraint::new(
                parsed.as_ref().and_then(|p| p.name.clone()),
                ConstraintKind::Unique {
                    columns: cols,
                    nulls_not_distinct: false,
                    extra: parsed.and_then(|p| p.conflict),
                },
            ));
        }

        let mut fk_groups: BTreeMap<i64, Vec<&RawFk>> = BTreeMap::new();
        for f in raw.fks.iter().filter(|f| f.table == rt.name) {
            fk_groups.entry(f.id).or_default().push(f);
        }
        for rows in fk_groups.values() {
            let Some(first) = rows.first() else { continue };
            let from_cols: Vec<String> = rows.iter().map(|r| r.from.clone()).collect();
            // Name the parent as it is spelled in the catalog, not as the key wrote it.
            let (parent, parent_pk) = pk_of
                .get(&lower(&first.ref_table))
                .cloned()
                .unwrap_or_else(|| (first.ref_table.clone(), vec![]));
            let parent_cols = columns_of
                .get(&lower(&first.ref_table))
                .cloned()
                .unwrap_or_default();
            let ref_columns: Vec<String> = if rows.iter().all(|r| r.to.is_none()) {
                parent_pk
            } else {
                rows.iter()
                    .map(|r| {
                        let to = r.to.clone().unwrap_or_default();
                        parent_cols
                            .iter()
                            .find(|c| c.eq_ignore_ascii_case(&to))
                            .cloned()
                            .unwrap_or(to)
                    })
                    .collect()
            };
            let parsed = take(&|k| {
                matches!(k, ConstraintSqlKind::ForeignKey { columns, table }
                    if same_names(columns, &from_cols) && table.eq_ignore_ascii_case(&first.ref_table))
            });
            let match_ = if first.match_.eq_ignore_ascii_case("NONE") || first.match_.is_empty() {
                "SIMPLE".to_string()
            } else {
                first.match_.to_ascii_uppercase()
            };
            let mut c = Constraint::new(
                parsed.as_ref().and_then(|p| p.name.clone()),
                ConstraintKind::ForeignKey {
                    columns: from_cols,
                    references: QualName::new(MAIN, parent),
                    ref_columns,
                    on_delete: first.on_delete.clone(),
                    on_update: first.on_update.clone(),
                    match_,
                },
            );
            c.deferrable = parsed.as_ref().is_some_and(|p| p.deferrable);
            c.initially_deferred = parsed.as_ref().is_some_and(|p| p.initially_deferred);
            t.constraints.push(c);
        }

        for c in &ts.constraints {
            if let ConstraintSqlKind::Check(expr) = &c.kind {
                t.constraints.push(Constraint::new(
                    c.name.clone(),
                    ConstraintKind::Check {
                        expression: expr.clone(),
                        no_inherit: false,
                    },
                ));
            }
        }
        t.constraints.sort_by_key(constraint_order);
        db.tables.insert(t.name.clone(), t);
    }

    for ix in raw.indexes.iter().filter(|i| i.origin == "c") {
        let keys = index_cols
            .get(ix.name.as_str())
            .cloned()
            .unwrap_or_default();
        let parsed = ix.sql.as_deref().and_then(text::parse_create_index);
        let (definition, columns, predicate) = match parsed {
            Some(p) => (p.definition, p.items, p.predicate),
            None => {
                // Without readable text, the pragmas still give the plain columns.
                let items: Vec<String> = keys
                    .iter()
                    .map(|k| {
                        let name = k.name.clone().unwrap_or_default();
                        let q = lockstep_core::plan::ident(&name);
                        if k.desc {
                            format!("{q} DESC")
                        } else {
                            q
                        }
                    })
                    .collect();
                let names = keys.iter().filter_map(|k| k.name.clone()).collect();
                (format!("({})", items.join(", ")), names, None)
            }
        };
        let idx = Index {
            name: QualName::new(MAIN, &ix.name),
            table: QualName::new(MAIN, &ix.table),
            unique: ix.unique,
            definition,
            columns,
            predicate,
            comment: None,
            constraint: false,
        };
        db.indexes.insert(idx.name.clone(), idx);
    }

    // Names a view or trigger may read, lowercased → how the catalog spells them.
    let known: BTreeMap<String, String> = raw
        .tables
        .iter()
        .map(|t| &t.name)
        .chain(
            raw.objects
                .iter()
                .filter(|o| o.kind == "view")
                .map(|o| &o.name),
        )
        .map(|n| (lower(n), n.clone()))
        .collect();
    let depends = |sql: &str, except: &[&str]| -> Vec<String> {
        let mut d: BTreeSet<String> = BTreeSet::new();
        for n in text::names(sql) {
            if let Some(actual) = known.get(&n) {
                if !except.iter().any(|e| e.eq_ignore_ascii_case(actual)) {
                    d.insert(QualName::new(MAIN, actual).key());
                }
            }
        }
        d.into_iter().collect()
    };
    let mut view_cols: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (v, c) in &raw.view_columns {
        view_cols.entry(v.as_str()).or_default().push(c.clone());
    }
    for o in &raw.objects {
        if o.kind == "view" {
            let definition =
                text::parse_create_view(&o.sql).unwrap_or_else(|| text::squash_str(&o.sql));
            let v = View {
                columns: view_cols.get(o.name.as_str()).cloned().unwrap_or_default(),
                depends_on: depends(&o.sql, &[&o.name]),
                sql: Some(o.sql.clone()),
                ..View::new(QualName::new(MAIN, &o.name), definition)
            };
            db.views.insert(v.name.clone(), v);
        } else {
            let tr = Trigger {
                name: o.name.clone(),
                table: QualName::new(MAIN, &o.table),
                definition: o.sql.clone(),
                enabled: None,
                comment: None,
                depends_on: depends(&o.sql, &[&o.name, &o.table]),
            };
            db.triggers
                .insert(format!("{MAIN}.{}.{}", o.table, o.name), tr);
        }
    }
    db
}

/// The schema (SQLite has no time limits to apply).
pub async fn schema(
    c: &mut sqlx::SqliteConnection,
    read: crate::wait::OwnRead<'_>,
    memo: Option<&SchemaMemo>,
) -> Result<Arc<Database>, DbError> {
    inspect(c, read.url, memo).await
}
