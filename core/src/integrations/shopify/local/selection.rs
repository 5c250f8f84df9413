//! What a GraphQL document selects, so the local store answers with exactly the fields asked
//! for, as a GraphQL server does (a street address nobody asked for never leaves it).

use super::schema::{Token, tokenize};
use serde_json::{Map, Value};

/// One selected field: the key it answers under (alias or name), its name, and what it selects
/// inside.
#[derive(Debug, Clone)]
pub struct Selected {
    /// Alias or name.
    pub key: String,
    /// The field's name.
    pub name: String,
    /// Sub-selection, empty for a scalar.
    pub inner: Vec<Selected>,
}

/// Deepest nesting of selections served.
const MAX_DEPTH: usize = 12;

struct Reader {
    tokens: Vec<Token>,
    at: usize,
}

impl Reader {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn peek_is(&self, c: char) -> bool {
        self.tokens.get(self.at) == Some(&Token::Punct(c))
    }

    fn skip_group(&mut self, open: char, close: char) {
        let mut depth = 0;
        while let Some(t) = self.next() {
            match t {
                Token::Punct(c) if c == open => depth += 1,
                Token::Punct(c) if c == close => {
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
    }

    fn set(&mut self, depth: usize) -> Result<Vec<Selected>, String> {
        if depth > MAX_DEPTH {
            return Err(format!("selections nest deeper than {MAX_DEPTH}"));
        }
        if self.next() != Some(Token::Punct('{')) {
            return Err("expected a selection set".into());
        }
        let mut fields = Vec::new();
        loop {
            match self.next() {
                Some(Token::Punct('}')) => return Ok(fields),
                Some(Token::Spread) => {
                    self.next();
                    self.next();
                    fields.extend(self.set(depth + 1)?);
                }
                Some(Token::Name(first)) => {
                    let (key, name) = if self.peek_is(':') {
                        self.next();
                        match self.next() {
                            Some(Token::Name(real)) => (first, real),
                            other => return Err(format!("bad alias at {other:?}")),
                        }
                    } else {
                        (first.clone(), first)
                    };
                    if self.peek_is('(') {
                        self.skip_group('(', ')');
                    }
                    let inner = if self.peek_is('{') {
                        self.set(depth + 1)?
                    } else {
                        Vec::new()
                    };
                    fields.push(Selected { key, name, inner });
                }
                other => return Err(format!("unexpected {other:?}")),
            }
        }
    }
}

/// The root selection of a document (its operation's top-level fields).
pub fn root_selection(query: &str) -> Result<Vec<Selected>, String> {
    let mut reader = Reader {
        tokens: tokenize(query)?,
        at: 0,
    };
    while reader.at < reader.tokens.len() && !reader.peek_is('{') {
        if reader.peek_is('(') {
            reader.skip_group('(', ')');
        } else {
            reader.next();
        }
    }
    reader.set(0)
}

/// `value` cut down to `selection` (lists element by element).
pub fn project(value: &Value, selection: &[Selected]) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|v| project(v, selection)).collect()),
        // An object asked for without saying which of its fields: nothing of it is sent.
        Value::Object(_) if selection.is_empty() => Value::Null,
        Value::Object(object) => {
            let mut out = Map::new();
            for field in selection {
                let found = object.get(&field.name).cloned().unwrap_or(Value::Null);
                out.insert(field.key.clone(), project(&found, &field.inner));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_carry_only_the_selected_fields_under_their_aliases() {
        let selection =
            root_selection("query Q($q: String!) { orders(first: 1, query: $q) { nodes { name where: shippingAddress { city } } } }")
                .unwrap();
        let data = json!({"orders": {"nodes": [{"name": "#1", "secret": 1,
            "shippingAddress": {"address1": "14 Residency Road", "city": "Pune"}}]}});
        assert_eq!(
            project(&data, &selection),
            json!({"orders": {"nodes": [{"name": "#1", "where": {"city": "Pune"}}]}})
        );
    }
}
