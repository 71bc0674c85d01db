//! Multi-row INSERTs written as SQL literals.
//!
//! diesel's batch inserts are not available through the multi-backend connection (SQLite
//! cannot use them for every row shape), and binding thousands of parameters per statement
//! costs more than it saves. Every value here is either an integer, a hash written as a hex
//! blob literal, or text escaped by doubling single quotes, which is the complete escaping
//! rule of both backends' standard string literals; text never holds NUL (item JSON escapes
//! it, keys cannot contain it).

use std::fmt::Write as _;

use diesel::RunQueryDsl;

use crate::conn::AnyConnection;
use crate::error::StoreError;

/// Rows per statement.
const ROWS_PER_STATEMENT: usize = 1000;

/// Accumulates rows of one INSERT and executes them a statement at a time.
pub(crate) struct Bulk<'c> {
    conn: &'c mut AnyConnection,
    postgres: bool,
    head: String,
    tail: &'static str,
    sql: String,
    rows: usize,
    affected: usize,
}

impl<'c> Bulk<'c> {
    /// `head` is `INSERT INTO t (a, b) VALUES`; `tail` an optional `ON CONFLICT …` clause.
    pub fn new(conn: &'c mut AnyConnection, head: &str, tail: &'static str) -> Bulk<'c> {
        let postgres = matches!(conn, AnyConnection::Postgresql(_));
        Bulk {
            conn,
            postgres,
            head: head.to_string(),
            tail,
            sql: String::with_capacity(256 * 1024),
            rows: 0,
            affected: 0,
        }
    }

    /// Starts a row; write its values with the returned writer.
    pub fn row(&mut self) -> Result<Row<'_, 'c>, StoreError> {
        if self.rows == ROWS_PER_STATEMENT {
            self.flush()?;
        }
        if self.rows == 0 {
            self.sql.clear();
            self.sql.push_str(&self.head);
            self.sql.push_str(" (");
        } else {
            self.sql.push_str(", (");
        }
        self.rows += 1;
        Ok(Row {
            bulk: self,
            first: true,
        })
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        if self.rows == 0 {
            return Ok(());
        }
        self.sql.push(' ');
        self.sql.push_str(self.tail);
        let sql = std::mem::take(&mut self.sql);
        self.affected += match self.conn {
            AnyConnection::Postgresql(c) => diesel::sql_query(&sql).execute(c)?,
            AnyConnection::Sqlite(c) => diesel::sql_query(&sql).execute(c)?,
        };
        self.sql = sql;
        self.rows = 0;
        Ok(())
    }

    /// Executes what is left; returns the rows the database reports as inserted or updated.
    pub fn finish(mut self) -> Result<usize, StoreError> {
        self.flush()?;
        Ok(self.affected)
    }
}

/// The values of one row, written left to right.
pub(crate) struct Row<'b, 'c> {
    bulk: &'b mut Bulk<'c>,
    first: bool,
}

impl Row<'_, '_> {
    fn sep(&mut self) {
        if !self.first {
            self.bulk.sql.push_str(", ");
        }
        self.first = false;
    }

    /// An integer.
    pub fn int(mut self, value: i64) -> Self {
        self.sep();
        let _ = write!(self.bulk.sql, "{value}");
        self
    }

    /// A text literal.
    pub fn text(mut self, value: &str) -> Self {
        self.sep();
        self.bulk.sql.push('\'');
        for (i, part) in value.split('\'').enumerate() {
            if i > 0 {
                self.bulk.sql.push_str("''");
            }
            self.bulk.sql.push_str(part);
        }
        self.bulk.sql.push('\'');
        self
    }

    /// A blob literal.
    pub fn blob(mut self, bytes: &[u8]) -> Self {
        self.sep();
        let sql = &mut self.bulk.sql;
        sql.push_str(if self.bulk.postgres { "'\\x" } else { "X'" });
        for b in bytes {
            let _ = write!(sql, "{b:02x}");
        }
        sql.push('\'');
        self
    }

    /// Closes the row.
    pub fn end(self) {
        self.bulk.sql.push(')');
    }
}
