//! The crates' dependencies are the architecture (docs/architecture.md): the
//! domain knows nothing of AWS, Lambda or HTTP, and no Lambda links local mode
//! or test-only code. Read from `cargo metadata`, so a new dependency that
//! breaks a layer fails here, whoever adds it and however deep it sits.

use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::process::Command;

/// Crates the domain must not reach, directly or through another crate.
fn forbidden_in_domain(name: &str) -> bool {
    name.starts_with("aws-")
        || name.starts_with("aws_")
        || name.starts_with("lambda_")
        || matches!(name, "http" | "axum" | "hyper" | "reqwest")
}

struct Graph {
    /// package id -> name
    names: HashMap<String, String>,
    /// package id -> ids of its normal (non-dev, non-build) dependencies
    normal: HashMap<String, Vec<String>>,
}

fn metadata() -> Graph {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata is JSON");
    let names = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let normal = doc["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| {
            let deps = node["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| {
                    d["dep_kinds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|k| k["kind"].is_null())
                })
                .map(|d| d["pkg"].as_str().unwrap().to_string())
                .collect();
            (node["id"].as_str().unwrap().to_string(), deps)
        })
        .collect();
    Graph { names, normal }
}

impl Graph {
    fn id(&self, name: &str) -> String {
        self.names
            .iter()
            .find(|(_, n)| n.as_str() == name)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| panic!("no package {name} in the workspace"))
    }

    /// Every crate `name` links, with the chain that brings each one in.
    fn reached_from(&self, name: &str) -> HashMap<String, Vec<String>> {
        let start = self.id(name);
        let mut paths: HashMap<String, Vec<String>> = HashMap::new();
        let mut queue = vec![(start.clone(), vec![name.to_string()])];
        while let Some((id, path)) = queue.pop() {
            for dep in self.normal.get(&id).into_iter().flatten() {
                let dep_name = self.names[dep].clone();
                if paths.contains_key(&dep_name) {
                    continue;
                }
                let mut next = path.clone();
                next.push(dep_name.clone());
                paths.insert(dep_name, next.clone());
                queue.push((dep.clone(), next));
            }
        }
        paths
    }
}

#[test]
fn the_domain_depends_on_no_aws_lambda_or_http_crate() {
    let graph = metadata();
    let reached = graph.reached_from("domain");
    let offending: BTreeSet<String> = reached
        .iter()
        .filter(|(name, _)| forbidden_in_domain(name))
        .map(|(_, path)| path.join(" -> "))
        .collect();
    assert!(
        offending.is_empty(),
        "the domain crate reaches crates of another layer:\n{}",
        offending.into_iter().collect::<Vec<_>>().join("\n")
    );
    // The check sees something: the domain does link its own dependencies.
    assert!(reached.contains_key("chrono") && reached.contains_key("minijinja"));
}

#[test]
fn the_forbidden_list_catches_what_the_adapters_link() {
    // Guards the test above against a list that silently matches nothing.
    let reached = metadata().reached_from("aws-adapters");
    for name in ["aws-sdk-dynamodb", "aws_lambda_events", "http", "hyper"] {
        assert!(
            reached.contains_key(name),
            "aws-adapters no longer links {name}"
        );
        assert!(forbidden_in_domain(name));
    }
}

/// The function crates: one Lambda each.
const LAMBDAS: [&str; 6] = [
    "booking",
    "patient-links",
    "status-change",
    "notice-sender",
    "reminder-scheduler",
    "reminder-sweeper",
];

#[test]
fn no_lambda_links_local_mode_or_the_test_fixtures() {
    let graph = metadata();
    for function in LAMBDAS {
        let reached = graph.reached_from(function);
        for other_layer in ["local", "acceptance", "axum", "proptest", "reqwest"] {
            assert!(
                !reached.contains_key(other_layer),
                "{function} links {other_layer}: {}",
                reached[other_layer].join(" -> ")
            );
        }
    }
}

/// The crates a Lambda links when built alone, as `cargo lambda build` builds
/// it: `cargo tree` resolves features for the selected package only, unlike
/// `cargo metadata`, which unifies them across the workspace.
fn linked_alone(package: &str) -> BTreeSet<String> {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree", "--locked", "-p", package, "-e", "normal", "--prefix", "none",
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn no_lambda_links_the_openapi_generator() {
    // The booking function serves docs/openapi.json as text: the schemas'
    // derives (feature `openapi` of domain and edge) stay out of every Lambda.
    for function in LAMBDAS {
        let linked = linked_alone(function);
        assert!(
            linked.contains("domain"),
            "{function}: cargo tree read nothing"
        );
        for generator in ["utoipa", "api-description"] {
            assert!(!linked.contains(generator), "{function} links {generator}");
        }
    }
    // The check sees the generator where it is.
    assert!(linked_alone("api-description").contains("utoipa"));
}

// ---------------------------------------------------------------------------
// No circle between the domain's modules. The crates' graph cannot show a
// circle inside one crate: `messages` naming `service` while `service` names
// `messages` compiles fine, and is a sign that a value sits in the wrong room
// (docs/decisions.md, "Architecture"). The check reads the paths the source
// names (`crate::…`, `super::…`, `self::…`, in `use` lines and in code),
// production code only: `#[cfg(test)]` items and modules declared under a
// `cfg` that names `test` (the fixtures) may reach anywhere.
// ---------------------------------------------------------------------------

mod modules {
    use std::collections::{BTreeMap, BTreeSet, VecDeque};
    use std::path::Path;

    /// A module, as its path from the crate root: `["messages", "wording"]`.
    pub type ModulePath = Vec<String>;

    #[derive(Debug, Clone, PartialEq)]
    enum Token {
        Ident(String),
        /// `::`
        PathSep,
        Punct(char),
    }

    /// The tokens that matter for paths: comments, strings and character
    /// literals are dropped, so a path written in a doc comment or a message
    /// is no dependency.
    fn tokens(source: &str) -> Vec<Token> {
        let chars: Vec<char> = source.chars().collect();
        let at = |i: usize| chars.get(i).copied();
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(c) = at(i) {
            match c {
                '/' if at(i + 1) == Some('/') => {
                    while at(i).is_some_and(|c| c != '\n') {
                        i += 1;
                    }
                }
                '/' if at(i + 1) == Some('*') => {
                    let mut depth = 0;
                    while let Some(c) = at(i) {
                        if c == '/' && at(i + 1) == Some('*') {
                            depth += 1;
                            i += 2;
                        } else if c == '*' && at(i + 1) == Some('/') {
                            depth -= 1;
                            i += 2;
                            if depth == 0 {
                                break;
                            }
                        } else {
                            i += 1;
                        }
                    }
                }
                '"' => i = after_string(&chars, i + 1, 0),
                '\'' => {
                    if at(i + 1) == Some('\\') {
                        // An escaped character: up to the closing quote.
                        i += 2;
                        while at(i).is_some_and(|c| c != '\'') {
                            i += 1;
                        }
                        i += 1;
                    } else if at(i + 2) == Some('\'') {
                        i += 3;
                    } else {
                        // A lifetime: its name is read as an identifier.
                        i += 1;
                    }
                }
                ':' if at(i + 1) == Some(':') => {
                    out.push(Token::PathSep);
                    i += 2;
                }
                c if c.is_alphabetic() || c == '_' => {
                    let start = i;
                    while at(i).is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        i += 1;
                    }
                    let word: String = chars[start..i].iter().collect();
                    // Raw strings: r"…", r#"…"#, br"…".
                    if matches!(word.as_str(), "r" | "br") && matches!(at(i), Some('"' | '#')) {
                        let mut hashes = 0;
                        while at(i) == Some('#') {
                            hashes += 1;
                            i += 1;
                        }
                        if at(i) == Some('"') {
                            i = after_string(&chars, i + 1, hashes);
                            continue;
                        }
                    }
                    out.push(Token::Ident(word));
                }
                c if c.is_whitespace() => i += 1,
                other => {
                    out.push(Token::Punct(other));
                    i += 1;
                }
            }
        }
        out
    }

    /// The index after a string literal whose text starts at `i`; `hashes`
    /// for a raw string (which has no escapes).
    fn after_string(chars: &[char], mut i: usize, hashes: usize) -> usize {
        while i < chars.len() {
            match chars[i] {
                '\\' if hashes == 0 => i += 2,
                '"' if chars[i + 1..]
                    .iter()
                    .take(hashes)
                    .filter(|c| **c == '#')
                    .count()
                    == hashes =>
                {
                    return i + 1 + hashes;
                }
                _ => i += 1,
            }
        }
        i
    }

    /// One file's production code: the module paths it names, and its child
    /// modules declared for tests only.
    #[derive(Default)]
    struct FileUses {
        named: Vec<ModulePath>,
        test_children: Vec<String>,
    }

    fn read_file(module: &[String], source: &str) -> FileUses {
        let tokens = tokens(source);
        let mut uses = FileUses::default();
        let mut depth = 0usize;
        // Inline modules (`mod x { … }`) open at a brace depth.
        let mut inline: Vec<(String, usize)> = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                Token::Punct('#') => {
                    let (end, for_tests) = attributes(&tokens, i);
                    if for_tests {
                        i = skip_item(&tokens, end, &mut uses.test_children);
                    } else {
                        i = end;
                    }
                    continue;
                }
                Token::Punct('{') => depth += 1,
                Token::Punct('}') => {
                    depth = depth.saturating_sub(1);
                    if inline.last().is_some_and(|(_, d)| *d == depth) {
                        inline.pop();
                    }
                }
                Token::Ident(word) if word == "mod" => {
                    if let (Some(Token::Ident(name)), Some(Token::Punct('{'))) =
                        (tokens.get(i + 1), tokens.get(i + 2))
                    {
                        inline.push((name.clone(), depth));
                    }
                }
                Token::Ident(word)
                    if matches!(word.as_str(), "crate" | "super" | "self")
                        && tokens.get(i + 1) == Some(&Token::PathSep) =>
                {
                    let mut here: ModulePath = module.to_vec();
                    here.extend(inline.iter().map(|(name, _)| name.clone()));
                    let base = match word.as_str() {
                        "crate" => Vec::new(),
                        "super" => here[..here.len().saturating_sub(1)].to_vec(),
                        _ => here,
                    };
                    let (paths, end) = path_tree(&tokens, i + 1, base);
                    uses.named.extend(paths);
                    i = end;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        uses
    }

    /// Reads the attributes starting at `start` (`#[…]`, `#![…]`): the index
    /// after them, and whether one of them is a `cfg` that names `test`.
    fn attributes(tokens: &[Token], start: usize) -> (usize, bool) {
        let mut i = start;
        let mut for_tests = false;
        while tokens.get(i) == Some(&Token::Punct('#')) {
            i += 1;
            if tokens.get(i) == Some(&Token::Punct('!')) {
                i += 1;
            }
            if tokens.get(i) != Some(&Token::Punct('[')) {
                return (i, for_tests);
            }
            let mut depth = 0;
            let mut words = Vec::new();
            while let Some(token) = tokens.get(i) {
                i += 1;
                match token {
                    Token::Punct('[') => depth += 1,
                    Token::Punct(']') => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    Token::Ident(word) => words.push(word.as_str()),
                    _ => {}
                }
            }
            if words.first() == Some(&"cfg") && words.contains(&"test") {
                for_tests = true;
            }
        }
        (i, for_tests)
    }

    /// Skips the item starting at `start` (to its `;`, or to the brace that
    /// closes its body); a `mod x;` is noted as a test-only child.
    fn skip_item(tokens: &[Token], start: usize, test_children: &mut Vec<String>) -> usize {
        let mut j = start;
        if tokens.get(j) == Some(&Token::Ident("pub".into())) {
            j += 1;
            if tokens.get(j) == Some(&Token::Punct('(')) {
                while tokens.get(j).is_some_and(|t| *t != Token::Punct(')')) {
                    j += 1;
                }
                j += 1;
            }
        }
        if let (Some(Token::Ident(word)), Some(Token::Ident(name)), Some(Token::Punct(';'))) =
            (tokens.get(j), tokens.get(j + 1), tokens.get(j + 2))
        {
            if word == "mod" {
                test_children.push(name.clone());
            }
        }
        let mut i = start;
        let mut depth = 0;
        while let Some(token) = tokens.get(i) {
            i += 1;
            match token {
                Token::Punct(';') if depth == 0 => return i,
                Token::Punct('{') => depth += 1,
                Token::Punct('}') => {
                    depth -= 1;
                    if depth == 0 {
                        return i;
                    }
                }
                _ => {}
            }
        }
        i
    }

    /// The full paths of the path (or `use` tree) whose first `::` is at
    /// `start`, from `base`: `crate::a::{b, c::D}` → `a::b`, `a::c::D`.
    fn path_tree(tokens: &[Token], start: usize, base: ModulePath) -> (Vec<ModulePath>, usize) {
        let mut path = base;
        let mut i = start;
        while tokens.get(i) == Some(&Token::PathSep) {
            match tokens.get(i + 1) {
                Some(Token::Ident(word)) if word == "super" => {
                    path.pop();
                }
                Some(Token::Ident(word)) => path.push(word.clone()),
                Some(Token::Punct('{')) => {
                    let mut paths = Vec::new();
                    i += 2;
                    loop {
                        match tokens.get(i) {
                            None => return (paths, i),
                            Some(Token::Punct('}')) => return (paths, i + 1),
                            Some(Token::Punct(',')) => i += 1,
                            Some(Token::Ident(word)) if word == "self" => {
                                paths.push(path.clone());
                                i += 1;
                            }
                            Some(Token::Ident(word)) => {
                                let mut inner = path.clone();
                                inner.push(word.clone());
                                let (more, end) = path_tree(tokens, i + 1, inner);
                                paths.extend(more);
                                i = end;
                            }
                            Some(_) => i += 1,
                        }
                    }
                }
                // `*`, `<` (generic arguments): the path ends here.
                _ => break,
            }
            i += 2;
        }
        // `as x` and the like follow; the path is what was read.
        (vec![path], i)
    }

    /// The files of a crate's source directory, by module path.
    fn source_files(src: &Path) -> BTreeMap<ModulePath, String> {
        let mut files = BTreeMap::new();
        let mut pending = vec![src.to_path_buf()];
        while let Some(dir) = pending.pop() {
            let entries = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{} cannot be read: {e}", dir.display()));
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                    continue;
                }
                if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                    continue;
                }
                let relative = path.strip_prefix(src).expect("under src");
                let mut module: ModulePath = relative
                    .with_extension("")
                    .iter()
                    .map(|part| part.to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    module.last().map(String::as_str),
                    Some("lib" | "main" | "mod")
                ) {
                    module.pop();
                }
                let source = std::fs::read_to_string(&path).expect("a source file reads");
                files.insert(module, source);
            }
        }
        files
    }

    fn show(module: &[String]) -> String {
        if module.is_empty() {
            "crate".into()
        } else {
            module.join("::")
        }
    }

    /// Which module names which, lifted to siblings: `messages::wording`
    /// naming `service::feedback::ReportedOutcome` is `messages → service`
    /// in the crate root. A module naming its own parent or child is no edge
    /// (a parent holds what its children share).
    pub struct ModuleGraph {
        /// (parent, from, to) → one use that makes the edge, for the report.
        pub edges: BTreeMap<(ModulePath, String, String), String>,
    }

    impl ModuleGraph {
        pub fn read(src: &Path) -> Self {
            let files = source_files(src);
            let mut readings: BTreeMap<ModulePath, FileUses> = files
                .iter()
                .map(|(module, source)| (module.clone(), read_file(module, source)))
                .collect();
            // Modules declared for tests only, with everything under them.
            let test_only: BTreeSet<ModulePath> = readings
                .iter()
                .flat_map(|(module, uses)| {
                    uses.test_children.iter().map(move |child| {
                        let mut path = module.clone();
                        path.push(child.clone());
                        path
                    })
                })
                .collect();
            readings.retain(|module, _| !test_only.iter().any(|t| module.starts_with(t)));
            let known: BTreeSet<&ModulePath> = readings.keys().collect();
            let mut edges = BTreeMap::new();
            for (from, uses) in &readings {
                for named in &uses.named {
                    let Some(to) = (0..=named.len())
                        .rev()
                        .map(|n| named[..n].to_vec())
                        .find(|prefix| known.contains(prefix))
                    else {
                        continue;
                    };
                    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
                    if common == from.len() || common == to.len() {
                        continue;
                    }
                    edges
                        .entry((
                            from[..common].to_vec(),
                            from[common].clone(),
                            to[common].clone(),
                        ))
                        .or_insert_with(|| format!("{} names {}", show(from), show(named)));
                }
            }
            Self { edges }
        }

        /// Every circle, one line each: the modules around it, and for each
        /// step the use that makes it.
        pub fn circles(&self) -> Vec<String> {
            let parents: BTreeSet<&ModulePath> = self.edges.keys().map(|(p, _, _)| p).collect();
            let mut found = Vec::new();
            for parent in parents {
                let next = |node: &str| -> Vec<String> {
                    self.edges
                        .keys()
                        .filter(|(p, from, _)| p == parent && from == node)
                        .map(|(_, _, to)| to.clone())
                        .collect()
                };
                let nodes: BTreeSet<String> = self
                    .edges
                    .keys()
                    .filter(|(p, _, _)| p == parent)
                    .flat_map(|(_, a, b)| [a.clone(), b.clone()])
                    .collect();
                let mut reported: BTreeSet<BTreeSet<String>> = BTreeSet::new();
                for start in &nodes {
                    // The shortest way back to `start`, breadth first.
                    let mut came_from: BTreeMap<String, String> = BTreeMap::new();
                    let mut queue: VecDeque<String> = next(start).into();
                    for n in &queue {
                        came_from.insert(n.clone(), start.clone());
                    }
                    while let Some(node) = queue.pop_front() {
                        if &node == start {
                            break;
                        }
                        for n in next(&node) {
                            if !came_from.contains_key(&n) {
                                came_from.insert(n.clone(), node.clone());
                                queue.push_back(n);
                            }
                        }
                    }
                    if !came_from.contains_key(start) {
                        continue;
                    }
                    let mut circle = vec![start.clone()];
                    let mut node = came_from[start].clone();
                    while &node != start {
                        circle.push(node.clone());
                        node = came_from[&node].clone();
                    }
                    circle.push(start.clone());
                    circle.reverse();
                    if !reported.insert(circle.iter().cloned().collect()) {
                        continue;
                    }
                    let steps: Vec<String> = circle
                        .windows(2)
                        .map(|step| {
                            let why =
                                &self.edges[&(parent.clone(), step[0].clone(), step[1].clone())];
                            format!("{} → {} ({why})", step[0], step[1])
                        })
                        .collect();
                    found.push(format!("in {}: {}", show(parent), steps.join(", ")));
                }
            }
            found
        }
    }
}

use modules::ModuleGraph;

fn domain_modules() -> ModuleGraph {
    ModuleGraph::read(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/domain/src"
    )))
}

#[test]
fn no_circle_between_the_domains_modules() {
    // Given the domain's source, when its modules' uses are read
    let graph = domain_modules();
    // Then no module reaches back to itself through others
    let circles = graph.circles();
    assert!(
        circles.is_empty(),
        "the domain's modules go round in a circle (move the value where values live):\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_module_reading_sees_the_domains_layers() {
    // Guards the test above against a reading that finds nothing: services
    // talk through the ports and use the rules; the rules name no service.
    let edges = domain_modules().edges;
    let edge = |from: &str, to: &str| edges.contains_key(&(Vec::new(), from.into(), to.into()));
    assert!(edge("service", "ports") && edge("service", "rules") && edge("messages", "rules"));
    assert!(!edge("rules", "service"));
    // Children of one parent are read too.
    assert!(
        edges
            .keys()
            .any(|(parent, _, _)| parent == &["service".to_string()])
    );
}

#[test]
fn a_circle_between_modules_fails_the_check() {
    // Given a small crate whose rooms and values name each other, and whose
    // kitchen and hall do too (tests/fixtures/module_circle); its test code,
    // comments and strings name more, which do not count
    let graph = ModuleGraph::read(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/module_circle"
    )));
    // When its circles are looked for
    let circles = graph.circles();
    // Then both are found, each at its level, with the uses that make it
    assert_eq!(
        circles,
        [
            "in crate: rooms → values (rooms::kitchen names values), \
             values → rooms (values names rooms::kitchen::Table)",
            "in rooms: hall → kitchen (rooms::hall names rooms::kitchen::Table), \
             kitchen → hall (rooms::kitchen names rooms::hall::Door)",
        ]
    );
}
