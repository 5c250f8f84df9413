//! Checks GraphQL documents against Shopify's real Admin schema (an introspection result such
//! as `../shared/specs/shopify-admin-2025-01.json.gz`), so a field or argument Shopify lacks
//! is refused by the local store as Shopify would refuse it. A small parser for the query
//! subset Caly sends: operations with variables, aliases, arguments, nested selections, inline
//! fragments.

use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// A field of a schema type: its argument names and the named type it returns.
struct Field {
    args: Vec<String>,
    returns: String,
}

/// The schema: type name → field name → field.
pub struct Schema {
    types: HashMap<String, HashMap<String, Field>>,
    query_root: String,
    mutation_root: String,
}

fn named_type(mut ty: &Value) -> String {
    while ty.get("name").is_none_or(Value::is_null) {
        match ty.get("ofType") {
            Some(inner) if !inner.is_null() => ty = inner,
            _ => return String::new(),
        }
    }
    ty["name"].as_str().unwrap_or_default().to_string()
}

fn field_of(f: &Value) -> (String, Field) {
    let args = f["args"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["name"].as_str())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let name = f["name"].as_str().unwrap_or_default().to_string();
    let returns = named_type(&f["type"]);
    (name, Field { args, returns })
}

impl Schema {
    /// Reads an introspection result, plain JSON or gzipped (`.gz`, read with `gzip -dc`).
    pub fn load(path: &Path) -> Result<Schema, String> {
        let bytes = if path.extension().is_some_and(|e| e == "gz") {
            let output = std::process::Command::new("gzip")
                .arg("-dc")
                .arg(path)
                .output()
                .map_err(|e| format!("gzip: {e}"))?;
            if !output.status.success() {
                return Err(format!("cannot read {}", path.display()));
            }
            output.stdout
        } else {
            std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?
        };
        let doc: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        let root = &doc["data"]["__schema"];
        let listed = root["types"]
            .as_array()
            .ok_or("not an introspection result: no data.__schema.types")?;
        let types = listed
            .iter()
            .map(|ty| {
                let fields = ty["fields"]
                    .as_array()
                    .map(|fields| fields.iter().map(field_of).collect())
                    .unwrap_or_default();
                (ty["name"].as_str().unwrap_or_default().to_string(), fields)
            })
            .collect();
        let root_name =
            |key: &str, default: &str| root[key]["name"].as_str().unwrap_or(default).to_string();
        Ok(Schema {
            types,
            query_root: root_name("queryType", "QueryRoot"),
            mutation_root: root_name("mutationType", "Mutation"),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    /// A name.
    Name(String),
    Punct(char),
    Spread,
    Value,
}

pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() || c == ',' {
            i += 1;
        } else if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            tokens.push(Token::Value);
        } else if c == '.' && chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.') {
            tokens.push(Token::Spread);
            i += 3;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token::Name(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() || c == '-' {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "-.+".contains(chars[i]))
            {
                i += 1;
            }
            tokens.push(Token::Value);
        } else if "{}()[]:$!=@".contains(c) {
            tokens.push(Token::Punct(c));
            i += 1;
        } else {
            return Err(format!("unexpected character '{c}'"));
        }
    }
    Ok(tokens)
}

struct Checker<'a> {
    schema: &'a Schema,
    tokens: Vec<Token>,
    at: usize,
}

impl Checker<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        match self.next() {
            Some(Token::Punct(p)) if p == c => Ok(()),
            other => Err(format!("expected '{c}', found {other:?}")),
        }
    }

    /// Skips one balanced group opened by the current token.
    fn skip_group(&mut self, open: char, close: char) -> Result<(), String> {
        self.expect(open)?;
        let mut depth = 1;
        while depth > 0 {
            match self.next() {
                Some(Token::Punct(c)) if c == open => depth += 1,
                Some(Token::Punct(c)) if c == close => depth -= 1,
                Some(_) => {}
                None => return Err(format!("unclosed '{open}'")),
            }
        }
        Ok(())
    }

    /// `(name: value, ...)`: the argument names.
    fn arguments(&mut self) -> Result<Vec<String>, String> {
        self.expect('(')?;
        let mut names = Vec::new();
        loop {
            match self.next() {
                Some(Token::Punct(')')) => return Ok(names),
                Some(Token::Name(name)) => {
                    self.expect(':')?;
                    names.push(name);
                    self.value()?;
                }
                other => return Err(format!("bad argument list at {other:?}")),
            }
        }
    }

    fn value(&mut self) -> Result<(), String> {
        match self.peek() {
            Some(Token::Punct('$')) => {
                self.next();
                self.next();
                Ok(())
            }
            Some(Token::Punct('[')) => self.skip_group('[', ']'),
            Some(Token::Punct('{')) => self.skip_group('{', '}'),
            Some(_) => {
                self.next();
                Ok(())
            }
            None => Err("missing value".into()),
        }
    }

    fn selection_set(&mut self, on: &str) -> Result<(), String> {
        self.expect('{')?;
        let fields = self
            .schema
            .types
            .get(on)
            .ok_or_else(|| format!("type '{on}' does not exist"))?;
        loop {
            match self.next() {
                Some(Token::Punct('}')) => return Ok(()),
                Some(Token::Spread) => match (self.next(), self.next()) {
                    (Some(Token::Name(kw)), Some(Token::Name(ty))) if kw == "on" => {
                        self.selection_set(&ty)?;
                    }
                    other => return Err(format!("only inline fragments are supported: {other:?}")),
                },
                Some(Token::Name(first)) => {
                    let name = if self.peek() == Some(&Token::Punct(':')) {
                        self.next();
                        match self.next() {
                            Some(Token::Name(real)) => real,
                            other => return Err(format!("bad alias at {other:?}")),
                        }
                    } else {
                        first
                    };
                    if name == "__typename" {
                        continue;
                    }
                    let field = fields
                        .get(&name)
                        .ok_or_else(|| format!("Field '{name}' doesn't exist on type '{on}'"))?;
                    if self.peek() == Some(&Token::Punct('(')) {
                        for arg in self.arguments()? {
                            if !field.args.contains(&arg) {
                                return Err(format!(
                                    "Field '{name}' doesn't accept argument '{arg}'"
                                ));
                            }
                        }
                    }
                    if self.peek() == Some(&Token::Punct('{')) {
                        let returns = field.returns.clone();
                        self.selection_set(&returns)?;
                    }
                }
                other => return Err(format!("unexpected {other:?}")),
            }
        }
    }

    fn document(&mut self) -> Result<(), String> {
        let root = match self.peek() {
            Some(Token::Name(kw)) if kw == "mutation" => self.schema.mutation_root.clone(),
            _ => self.schema.query_root.clone(),
        };
        if matches!(self.peek(), Some(Token::Name(_))) {
            self.next();
            if matches!(self.peek(), Some(Token::Name(_))) {
                self.next();
            }
            if self.peek() == Some(&Token::Punct('(')) {
                self.skip_group('(', ')')?;
            }
        }
        self.selection_set(&root)?;
        match self.peek() {
            None => Ok(()),
            Some(t) => Err(format!("trailing {t:?}")),
        }
    }
}

impl Schema {
    /// Checks one document: every field and argument exists on Shopify.
    pub fn check(&self, query: &str) -> Result<(), String> {
        let mut checker = Checker {
            schema: self,
            tokens: tokenize(query)?,
            at: 0,
        };
        checker.document()
    }
}
