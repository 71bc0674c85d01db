//! Multi-row INSERTs with bound parameters, prepared once per shape.
//!
//! diesel's batch inserts are not available through the multi-backend connection, and
//! `sql_query` is never cached, so SQL literals made every statement a fresh parse (a quarter
//! of a SQLite load went to preparing them). Here each statement is `INSERT … VALUES (?, …),
//! …` with a fixed number of rows, bound value by value: every full statement of a table
//! has the same text, so diesel's statement cache prepares it once per connection and only
//! the last, shorter one of a load is prepared again.

use std::borrow::Cow;

use diesel::backend::Backend;
use diesel::connection::{Connection, SimpleConnection};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Binary, HasSqlType, Text};
use diesel::{QueryResult, RunQueryDsl};

use crate::conn::AnyConnection;
use crate::error::StoreError;

/// Bound values per statement: SQLite allows 32,766, PostgreSQL 65,535. Larger statements
/// bind no faster, and their programs grow.
const VALUES_PER_STATEMENT: usize = 2048;

/// One bound value.
#[derive(Debug, Clone)]
enum Value<'v> {
    Int(i64),
    Text(&'v str),
    /// A hash, kept inline: most blobs are one.
    Hash([u8; 32]),
    Blob(Cow<'v, [u8]>),
}

/// Accumulates rows of one INSERT and executes them a statement at a time.
pub(crate) struct Bulk<'c, 'v> {
    conn: &'c mut AnyConnection,
    head: &'static str,
    tail: &'static str,
    values: Vec<Value<'v>>,
    /// Values per row, known after the first row.
    columns: usize,
    affected: usize,
}

impl<'c, 'v> Bulk<'c, 'v> {
    /// `head` is `INSERT INTO t (a, b) VALUES`; `tail` an optional `ON CONFLICT …` clause.
    pub fn new(conn: &'c mut AnyConnection, head: &'static str, tail: &'static str) -> Self {
        Bulk {
            conn,
            head,
            tail,
            values: Vec::new(),
            columns: 0,
            affected: 0,
        }
    }

    /// Starts a row; write its values with the returned writer.
    pub fn row(&mut self) -> Result<Row<'_, 'c, 'v>, StoreError> {
        if self.columns > 0 && self.values.len() >= self.rows_per_statement() * self.columns {
            self.flush()?;
        }
        Ok(Row { bulk: self })
    }

    fn rows_per_statement(&self) -> usize {
        (VALUES_PER_STATEMENT / self.columns.max(1)).max(1)
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        if self.values.is_empty() {
            return Ok(());
        }
        let statement = Insert {
            head: self.head,
            tail: self.tail,
            columns: self.columns,
            values: &self.values,
        };
        self.affected += match self.conn {
            AnyConnection::Postgresql(c) => c.execute_returning_count(&statement)?,
            AnyConnection::Sqlite(c) => c.execute_returning_count(&statement)?,
        };
        self.values.clear();
        Ok(())
    }

    /// Executes what is left; returns the rows the database reports as inserted or updated.
    pub fn finish(mut self) -> Result<usize, StoreError> {
        self.flush()?;
        Ok(self.affected)
    }
}

/// The values of one row, written left to right.
pub(crate) struct Row<'b, 'c, 'v> {
    bulk: &'b mut Bulk<'c, 'v>,
}

impl<'v> Row<'_, '_, 'v> {
    /// An integer.
    pub fn int(self, value: i64) -> Self {
        self.bulk.values.push(Value::Int(value));
        self
    }

    /// A text.
    pub fn text(self, value: &'v str) -> Self {
        self.bulk.values.push(Value::Text(value));
        self
    }

    /// A blob.
    pub fn blob(self, bytes: &[u8]) -> Self {
        let value = match <[u8; 32]>::try_from(bytes) {
            Ok(hash) => Value::Hash(hash),
            Err(_) => Value::Blob(Cow::Owned(bytes.to_vec())),
        };
        self.bulk.values.push(value);
        self
    }

    /// A blob the caller gives away.
    pub fn blob_owned(self, bytes: Vec<u8>) -> Self {
        self.bulk.values.push(Value::Blob(Cow::Owned(bytes)));
        self
    }

    /// Closes the row; the first one fixes the number of values per row.
    pub fn end(self) {
        let bulk = self.bulk;
        if bulk.columns == 0 {
            bulk.columns = bulk.values.len();
            bulk.values
                .reserve(bulk.rows_per_statement() * bulk.columns);
        }
    }
}

/// `head (?, …), … tail` over `values`, `columns` to a row.
struct Insert<'q, 'v> {
    head: &'static str,
    tail: &'static str,
    columns: usize,
    values: &'q [Value<'v>],
}

impl QueryId for Insert<'_, '_> {
    type QueryId = ();
    // The text depends on the row count: the cache keys it by its SQL.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB> QueryFragment<DB> for Insert<'_, '_>
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Text> + HasSqlType<Binary>,
    i64: ToSql<BigInt, DB>,
    str: ToSql<Text, DB>,
    [u8]: ToSql<Binary, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(self.head);
        for (i, row) in self.values.chunks(self.columns).enumerate() {
            out.push_sql(if i == 0 { " (" } else { ", (" });
            for (j, value) in row.iter().enumerate() {
                if j > 0 {
                    out.push_sql(", ");
                }
                match value {
                    Value::Int(n) => out.push_bind_param::<BigInt, i64>(n)?,
                    Value::Text(s) => out.push_bind_param::<Text, str>(s)?,
                    Value::Hash(h) => out.push_bind_param::<Binary, [u8]>(&h[..])?,
                    Value::Blob(b) => out.push_bind_param::<Binary, [u8]>(b)?,
                }
            }
            out.push_sql(")");
        }
        if !self.tail.is_empty() {
            out.push_sql(" ");
            out.push_sql(self.tail);
        }
        Ok(())
    }
}

/// Rows a SQLite insert adds below which its table's indexes are never rebuilt: a few
/// statements of DDL cost more than inserting that many index rows.
pub(crate) const REBUILD_MIN_ROWS: usize = 50_000;

#[derive(diesel::QueryableByName)]
struct IndexSql {
    #[diesel(sql_type = Text)]
    sql: String,
}

/// Runs `insert`, which adds `adding` rows to a table holding about `stored`, with the
/// table's secondary `indexes` dropped before and recreated after, when it is SQLite and
/// the insert at least doubles the table (and adds [`REBUILD_MIN_ROWS`]). An index whose
/// rows arrive in random order (`entries_by_key`: key order, not entry order) is built by
/// sorting at a fraction of the cost of inserting them one by one into a B-tree larger than
/// the page cache. SQLite DDL is transactional: a failed load rolls the drop back, and
/// readers keep their snapshot (with the index) until the load commits. Not on PostgreSQL,
/// where `DROP INDEX` would lock the table against every reader until the commit.
/// The indexes are recreated from their own SQL in `sqlite_master`, so their definitions
/// stay in the migrations.
pub(crate) fn with_indexes_rebuilt<T>(
    conn: &mut AnyConnection,
    indexes: &[&str],
    adding: usize,
    stored: u64,
    insert: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let AnyConnection::Sqlite(c) = conn else {
        return insert(conn);
    };
    if adding < REBUILD_MIN_ROWS || (adding as u64) < stored {
        return insert(conn);
    }
    let mut definitions = Vec::with_capacity(indexes.len());
    for name in indexes {
        let found: IndexSql =
            diesel::sql_query("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?")
                .bind::<Text, _>(name)
                .get_result(c)?;
        c.batch_execute(&format!("DROP INDEX {name}"))?;
        definitions.push(found.sql);
    }
    let inserted = insert(conn)?;
    for sql in definitions {
        conn.batch_execute(&sql)?;
    }
    Ok(inserted)
}
