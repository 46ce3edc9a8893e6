//! Conditions of writes as data: what DynamoDB's condition expressions say,
//! as a value the memory table evaluates ([`Condition::holds`]) and the
//! DynamoDB table renders ([`Condition::render`]). Each rule of the store
//! builds its condition in one function (`crate::store::conditions`), so both
//! tables decide from the same value.

use super::{AttributeValue, Item};
use std::cmp::Ordering;
use std::collections::HashMap;

/// An attribute, or a path into map attributes (`entry.state`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path(Vec<String>);

impl Path {
    pub fn attribute(name: &str) -> Self {
        Self(vec![name.to_string()])
    }

    /// `names[0].names[1]...`: an attribute of a map attribute.
    pub fn nested(names: &[&str]) -> Self {
        Self(names.iter().map(|n| n.to_string()).collect())
    }

    pub fn names(&self) -> &[String] {
        &self.0
    }

    /// The value at this path in `item`, if there is one.
    pub fn resolve<'a>(&self, item: &'a Item) -> Option<&'a AttributeValue> {
        let (first, rest) = self.0.split_first()?;
        let mut value = item.get(first)?;
        for name in rest {
            match value {
                AttributeValue::M(map) => value = map.get(name)?,
                _ => return None,
            }
        }
        Some(value)
    }
}

impl From<&str> for Path {
    fn from(name: &str) -> Self {
        Self::attribute(name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Equals,
    AtMost,
    AtLeast,
}

impl Comparison {
    fn operator(self) -> &'static str {
        match self {
            Comparison::Equals => "=",
            Comparison::AtMost => "<=",
            Comparison::AtLeast => ">=",
        }
    }
}

/// What must hold of the stored item (or its absence) for a write to go
/// through. A path that does not exist satisfies no comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `attribute_exists(path)`; on the partition key: the item exists.
    Exists(Path),
    /// `attribute_not_exists(path)`; on the partition key: no item yet.
    NotExists(Path),
    /// `path = value`, `path <= value`, `path >= value`.
    Compare(Path, Comparison, AttributeValue),
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
}

impl Condition {
    pub fn exists(path: impl Into<Path>) -> Self {
        Self::Exists(path.into())
    }

    pub fn not_exists(path: impl Into<Path>) -> Self {
        Self::NotExists(path.into())
    }

    pub fn equals(path: impl Into<Path>, value: AttributeValue) -> Self {
        Self::Compare(path.into(), Comparison::Equals, value)
    }

    pub fn at_most(path: impl Into<Path>, value: AttributeValue) -> Self {
        Self::Compare(path.into(), Comparison::AtMost, value)
    }

    pub fn at_least(path: impl Into<Path>, value: AttributeValue) -> Self {
        Self::Compare(path.into(), Comparison::AtLeast, value)
    }

    pub fn and(self, other: Condition) -> Self {
        Self::And(Box::new(self), Box::new(other))
    }

    pub fn or(self, other: Condition) -> Self {
        Self::Or(Box::new(self), Box::new(other))
    }

    /// Whether the condition holds for `item` (`None`: nothing stored under
    /// the key), as DynamoDB evaluates its expression.
    pub fn holds(&self, item: Option<&Item>) -> bool {
        let at = |path: &Path| item.and_then(|i| path.resolve(i));
        match self {
            Condition::Exists(path) => at(path).is_some(),
            Condition::NotExists(path) => at(path).is_none(),
            Condition::Compare(path, comparison, value) => {
                at(path).is_some_and(|stored| compare(stored, *comparison, value))
            }
            Condition::And(a, b) => a.holds(item) && b.holds(item),
            Condition::Or(a, b) => a.holds(item) || b.holds(item),
        }
    }

    /// The condition expression, its names and values put in `placeholders`
    /// (every name goes through one: `state`, `ttl` and others are reserved
    /// words of DynamoDB). Every operand of AND and OR is parenthesised, so
    /// the expression means what the value says whatever the precedence.
    pub fn render(&self, placeholders: &mut Placeholders) -> String {
        match self {
            Condition::Exists(path) => format!("attribute_exists({})", placeholders.path(path)),
            Condition::NotExists(path) => {
                format!("attribute_not_exists({})", placeholders.path(path))
            }
            Condition::Compare(path, comparison, value) => format!(
                "{} {} {}",
                placeholders.path(path),
                comparison.operator(),
                placeholders.value(value.clone())
            ),
            Condition::And(a, b) => {
                format!(
                    "({}) AND ({})",
                    a.render(placeholders),
                    b.render(placeholders)
                )
            }
            Condition::Or(a, b) => {
                format!(
                    "({}) OR ({})",
                    a.render(placeholders),
                    b.render(placeholders)
                )
            }
        }
    }
}

/// DynamoDB's comparison: numbers as numbers, strings and binaries by their
/// bytes; values of different types are never equal nor ordered.
fn compare(stored: &AttributeValue, comparison: Comparison, value: &AttributeValue) -> bool {
    let order = match (stored, value) {
        (AttributeValue::S(a), AttributeValue::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (AttributeValue::N(a), AttributeValue::N(b)) => numeric_order(a, b),
        (AttributeValue::B(a), AttributeValue::B(b)) => Some(a.cmp(b)),
        _ => None,
    };
    match (comparison, order) {
        (Comparison::Equals, Some(order)) => order == Ordering::Equal,
        (Comparison::Equals, None) => stored == value,
        (Comparison::AtMost, Some(order)) => order != Ordering::Greater,
        (Comparison::AtLeast, Some(order)) => order != Ordering::Less,
        (_, None) => false,
    }
}

/// Numbers of the codec are integers (versions, revisions, epoch
/// milliseconds); anything else is compared as a float.
fn numeric_order(a: &str, b: &str) -> Option<Ordering> {
    match (a.trim().parse::<i128>(), b.trim().parse::<i128>()) {
        (Ok(a), Ok(b)) => Some(a.cmp(&b)),
        _ => a
            .trim()
            .parse::<f64>()
            .ok()?
            .partial_cmp(&b.trim().parse::<f64>().ok()?),
    }
}

/// The `ExpressionAttributeNames` and `ExpressionAttributeValues` of one
/// request, shared by its condition and its update.
#[derive(Debug, Default, Clone)]
pub struct Placeholders {
    /// `#n0` -> attribute name.
    pub names: HashMap<String, String>,
    /// `:v0` -> value.
    pub values: HashMap<String, AttributeValue>,
    by_name: HashMap<String, String>,
}

impl Placeholders {
    /// The placeholder of an attribute name (one per name).
    pub fn name(&mut self, attribute: &str) -> String {
        if let Some(placeholder) = self.by_name.get(attribute) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.by_name.len());
        self.by_name
            .insert(attribute.to_string(), placeholder.clone());
        self.names
            .insert(placeholder.clone(), attribute.to_string());
        placeholder
    }

    pub fn path(&mut self, path: &Path) -> String {
        path.names()
            .iter()
            .map(|n| self.name(n))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// A new placeholder for `value`.
    pub fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }
    fn n(v: i64) -> AttributeValue {
        AttributeValue::N(v.to_string())
    }
    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        Item::from(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<HashMap<_, _>>(),
        )
    }

    /// A second reading of a rendered expression, written from DynamoDB's
    /// grammar (NOT-free subset: comparisons, the two attribute functions,
    /// AND binding tighter than OR, parentheses), resolving the
    /// placeholders: it checks that the text says what the value says.
    mod expression {
        use super::*;

        #[derive(Debug, Clone, PartialEq)]
        enum Token {
            Open,
            Close,
            Word(String),
            Operator(String),
        }

        fn tokens(text: &str) -> Vec<Token> {
            let mut out = Vec::new();
            let chars: Vec<char> = text.chars().collect();
            let mut i = 0;
            while i < chars.len() {
                match chars[i] {
                    ' ' => i += 1,
                    '(' => {
                        out.push(Token::Open);
                        i += 1
                    }
                    ')' => {
                        out.push(Token::Close);
                        i += 1
                    }
                    '=' => {
                        out.push(Token::Operator("=".into()));
                        i += 1
                    }
                    '<' | '>' => {
                        assert_eq!(chars.get(i + 1), Some(&'='), "in {text}");
                        out.push(Token::Operator(format!("{}=", chars[i])));
                        i += 2
                    }
                    _ => {
                        let start = i;
                        while i < chars.len() && !" ()=<>".contains(chars[i]) {
                            i += 1;
                        }
                        out.push(Token::Word(chars[start..i].iter().collect()));
                    }
                }
            }
            out
        }

        struct Reader<'a> {
            tokens: Vec<Token>,
            at: usize,
            names: &'a HashMap<String, String>,
            values: &'a HashMap<String, AttributeValue>,
            item: Option<&'a Item>,
        }

        impl Reader<'_> {
            fn next(&mut self) -> Token {
                self.at += 1;
                self.tokens[self.at - 1].clone()
            }
            fn peek(&self) -> Option<&Token> {
                self.tokens.get(self.at)
            }
            fn or(&mut self) -> bool {
                let mut value = self.and();
                while self.peek() == Some(&Token::Word("OR".into())) {
                    self.next();
                    let right = self.and();
                    value = value || right;
                }
                value
            }
            fn and(&mut self) -> bool {
                let mut value = self.primary();
                while self.peek() == Some(&Token::Word("AND".into())) {
                    self.next();
                    let right = self.primary();
                    value = value && right;
                }
                value
            }
            fn path(&mut self) -> Option<AttributeValue> {
                let Token::Word(path) = self.next() else {
                    panic!("a path expected")
                };
                let names: Vec<&str> = path.split('.').map(|p| self.names[p].as_str()).collect();
                self.item
                    .and_then(|i| Path::nested(&names).resolve(i))
                    .cloned()
            }
            fn primary(&mut self) -> bool {
                match self.peek().cloned() {
                    Some(Token::Open) => {
                        self.next();
                        let value = self.or();
                        assert_eq!(self.next(), Token::Close);
                        value
                    }
                    Some(Token::Word(word)) if word.starts_with("attribute_") => {
                        self.next();
                        assert_eq!(self.next(), Token::Open);
                        let found = self.path().is_some();
                        assert_eq!(self.next(), Token::Close);
                        match word.as_str() {
                            "attribute_exists" => found,
                            "attribute_not_exists" => !found,
                            other => panic!("unknown function {other}"),
                        }
                    }
                    Some(Token::Word(_)) => {
                        let stored = self.path();
                        let Token::Operator(operator) = self.next() else {
                            panic!("an operator expected")
                        };
                        let Token::Word(placeholder) = self.next() else {
                            panic!("a value expected")
                        };
                        let value = self.values[&placeholder].clone();
                        let comparison = match operator.as_str() {
                            "=" => Comparison::Equals,
                            "<=" => Comparison::AtMost,
                            ">=" => Comparison::AtLeast,
                            other => panic!("unknown operator {other}"),
                        };
                        stored.is_some_and(|s| compare(&s, comparison, &value))
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
        }

        /// Evaluates `text` against `item`, as DynamoDB would read it.
        pub fn evaluate(text: &str, placeholders: &Placeholders, item: Option<&Item>) -> bool {
            let mut reader = Reader {
                tokens: tokens(text),
                at: 0,
                names: &placeholders.names,
                values: &placeholders.values,
                item,
            };
            let value = reader.or();
            assert_eq!(reader.at, reader.tokens.len(), "trailing tokens in {text}");
            value
        }
    }

    #[test]
    fn a_claim_condition_renders_with_placeholders_for_every_name_and_value() {
        let condition =
            Condition::not_exists("pk").or(Condition::equals("message_state", s("held"))
                .or(Condition::equals("message_state", s("claimed"))
                    .and(Condition::at_most("claimed_at", n(5)))));
        let mut placeholders = Placeholders::default();
        let text = condition.render(&mut placeholders);
        assert_eq!(
            text,
            "(attribute_not_exists(#n0)) OR ((#n1 = :v0) OR ((#n1 = :v1) AND (#n2 <= :v2)))"
        );
        assert_eq!(placeholders.names["#n1"], "message_state");
        assert_eq!(placeholders.values[":v2"], n(5));
    }

    #[test]
    fn a_nested_path_reads_into_a_map_and_renders_as_a_dotted_path() {
        let entry = AttributeValue::M(HashMap::from([("state".to_string(), s("sent"))]));
        let stored = item(&[("pk", s("APPT#1")), ("entry", entry)]);
        let condition = Condition::equals(Path::nested(&["entry", "state"]), s("sent"));
        assert!(condition.holds(Some(&stored)));
        assert!(
            !Condition::equals(Path::nested(&["entry", "state"]), s("delivered"))
                .holds(Some(&stored))
        );
        let mut placeholders = Placeholders::default();
        assert_eq!(condition.render(&mut placeholders), "#n0.#n1 = :v0");
    }

    #[test]
    fn numbers_compare_as_numbers_and_values_of_other_types_never_match() {
        let stored = item(&[("pk", s("x")), ("revision", n(9)), ("name", s("9"))]);
        assert!(Condition::at_most("revision", n(10)).holds(Some(&stored)));
        assert!(
            !Condition::at_most("revision", AttributeValue::N("8.5".into())).holds(Some(&stored))
        );
        assert!(
            Condition::equals("revision", AttributeValue::N("9.0".into())).holds(Some(&stored))
        );
        assert!(!Condition::equals("name", n(9)).holds(Some(&stored)));
        assert!(!Condition::at_least("name", n(0)).holds(Some(&stored)));
        // "10" sorts before "9" as text
        assert!(Condition::at_most("name", s("90")).holds(Some(&stored)));
        assert!(!Condition::at_most("name", s("10")).holds(Some(&stored)));
    }

    #[test]
    fn no_stored_item_satisfies_only_absence() {
        assert!(Condition::not_exists("pk").holds(None));
        assert!(!Condition::exists("pk").holds(None));
        assert!(!Condition::equals("pk", s("x")).holds(None));
    }

    fn value() -> impl Strategy<Value = AttributeValue> {
        prop_oneof![
            prop::sample::select(vec!["", "a", "b", "held", "claimed", "é", "B", "ab"])
                .prop_map(|v| AttributeValue::S(v.to_string())),
            (-3i64..4).prop_map(n),
            any::<bool>().prop_map(AttributeValue::Bool),
        ]
    }

    const NAMES: [&str; 4] = ["pk", "a", "b", "state"];

    fn stored_item() -> impl Strategy<Value = Option<Item>> {
        let attributes =
            prop::collection::hash_map(prop::sample::select(NAMES.to_vec()), value(), 0..4);
        let entry = prop::option::of(prop::collection::hash_map(
            prop::sample::select(NAMES.to_vec()),
            value(),
            0..3,
        ));
        prop::option::of((attributes, entry).prop_map(|(attributes, entry)| {
            let mut item: HashMap<String, AttributeValue> = attributes
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            if let Some(entry) = entry {
                let map = entry.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                item.insert("entry".into(), AttributeValue::M(map));
            }
            Item::from(item)
        }))
    }

    fn path() -> impl Strategy<Value = Path> {
        prop_oneof![
            prop::sample::select(NAMES.to_vec()).prop_map(Path::attribute),
            prop::sample::select(NAMES.to_vec()).prop_map(|n| Path::nested(&["entry", n])),
        ]
    }

    pub(crate) fn condition() -> impl Strategy<Value = Condition> {
        let leaf = prop_oneof![
            path().prop_map(Condition::Exists),
            path().prop_map(Condition::NotExists),
            (
                path(),
                prop::sample::select(vec![
                    Comparison::Equals,
                    Comparison::AtMost,
                    Comparison::AtLeast
                ]),
                value()
            )
                .prop_map(|(p, c, v)| Condition::Compare(p, c, v)),
        ];
        leaf.prop_recursive(3, 12, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| a.and(b)),
                (inner.clone(), inner).prop_map(|(a, b)| a.or(b)),
            ]
        })
    }

    proptest! {
        /// What the DynamoDB table sends is what the memory table evaluates.
        #[test]
        fn the_rendered_expression_means_what_the_condition_evaluates(
            condition in condition(),
            stored in stored_item(),
        ) {
            let mut placeholders = Placeholders::default();
            let text = condition.render(&mut placeholders);
            prop_assert_eq!(
                expression::evaluate(&text, &placeholders, stored.as_ref()),
                condition.holds(stored.as_ref()),
                "{}", text
            );
        }
    }
}
