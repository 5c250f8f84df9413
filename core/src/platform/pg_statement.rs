//! A PostgreSQL statement written as SQL text with numbered parameters, for the few writes that
//! must be one round trip (several data-modifying CTEs in one statement, atomic on their own).
//! Everything else goes through sea-orm's query builders.

use sea_orm::{DbBackend, IdenStatic, Iterable, Statement, Value};

/// `alias."column" AS "prefix_column"` for each of an entity's columns, so several rows can
/// share one result row (read back with `FromQueryResult::from_query_result(row, prefix)`).
pub(crate) fn columns_of<C: Iterable + IdenStatic>(alias: &str, prefix: &str) -> String {
    C::iter()
        .map(|c| format!("{alias}.\"{0}\" AS \"{prefix}{0}\"", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// SQL text and the values of its `$1…$n` parameters, assembled piece by piece.
#[derive(Debug, Default)]
pub struct PgStatement {
    sql: String,
    values: Vec<Value>,
}

impl PgStatement {
    /// An empty statement.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `value` as the next parameter and returns its placeholder (`$3`).
    pub fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        format!("${}", self.values.len())
    }

    /// Appends SQL text.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// The statement, ready to run.
    pub fn build(self) -> Statement {
        Statement::from_sql_and_values(DbBackend::Postgres, self.sql, self.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_in_the_order_they_are_bound() {
        let mut statement = PgStatement::new();
        let id = statement.bind(7i64);
        let name = statement.bind("seven");
        statement.push(&format!("UPDATE t SET name = {name} WHERE id = {id}"));
        let built = statement.build();
        assert_eq!(built.sql, "UPDATE t SET name = $2 WHERE id = $1");
        assert_eq!(built.values.map(|v| v.0.len()), Some(2));
    }
}
