//! `cargo xtask docs`: docs/API.md, the API reference, generated from the TypeScript
//! declarations the package ships: tsc's output of the package's source (`pkg/types/`, from
//! `pkg/src/`), followed from each public entry through its re-exports, so the reference
//! shows exactly what `teleconsult` and `teleconsult/devices` export (and nothing the
//! wrappers use internally, such as the wasm-bindgen glue).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::build::{self, Profile};
use crate::util::root;

/// Where the reference is written.
fn target() -> PathBuf {
    root().join("docs/API.md")
}

/// The declarations of the package's two entries, `teleconsult` then `teleconsult/devices`
/// (the browser's; the Node.js entries export the same API without the wasm loader).
fn entries() -> [PathBuf; 2] {
    [
        root().join("pkg/types/index.d.ts"),
        root().join("pkg/types/devices.d.ts"),
    ]
}

/// Builds the package and rewrites docs/API.md.
pub fn run() -> Result<(), String> {
    build::run(Profile::Debug)?;
    let files = load(&entries())?;
    let api = Api::of(&files, &entries());
    let text = render(&api);
    check_complete(&files, &api, &text)?;
    std::fs::write(target(), text).map_err(|e| format!("cannot write docs/API.md: {e}"))?;
    println!("docs: wrote docs/API.md");
    Ok(())
}

/// Whether docs/API.md matches the declarations of the package built last. An error (rather
/// than `false`) when the reference lacks an export or part of a declaration: that is the
/// generator's fault, and regenerating would not help.
pub fn is_current() -> Result<bool, String> {
    let files = load(&entries())?;
    let api = Api::of(&files, &entries());
    let have = std::fs::read_to_string(target()).unwrap_or_default();
    check_complete(&files, &api, &have)?;
    Ok(have == render(&api))
}

/// Declaration files by path.
type Files = BTreeMap<PathBuf, String>;

/// Reads `entries` and every declaration file they import or re-export from, transitively.
fn load(entries: &[PathBuf]) -> Result<Files, String> {
    let mut files = Files::new();
    let mut todo: Vec<PathBuf> = entries.to_vec();
    while let Some(path) = todo.pop() {
        if files.contains_key(&path) {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "cannot read {}: {e} (run cargo xtask build)",
                path.display()
            )
        })?;
        todo.extend(
            statements(&text)
                .into_iter()
                .filter_map(|s| s.from.map(|from| resolve(&path, &from))),
        );
        files.insert(path, text);
    }
    Ok(files)
}

/// The declaration file a relative module specifier of `file` names (`./x.js` → `x.d.ts`).
fn resolve(file: &Path, specifier: &str) -> PathBuf {
    let stem = specifier
        .strip_suffix(".js")
        .unwrap_or(specifier)
        .trim_start_matches("./");
    let dir = file.parent().unwrap_or(Path::new(""));
    let mut path = dir.to_path_buf();
    for part in stem.split('/') {
        match part {
            "." | "" => {}
            ".." => {
                path.pop();
            }
            p => path.push(p),
        }
    }
    path.set_extension("");
    let name = format!(
        "{}.d.ts",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
    );
    path.with_file_name(name)
}

/// A top-level `import` or re-export statement.
#[derive(Debug, PartialEq)]
struct Statement {
    /// `export * from` (every export of the module) or `export { … } from`.
    export: bool,
    /// `*`: every export; otherwise the names, each as (name there, name here).
    names: Option<Vec<(String, String)>>,
    /// The module specifier, when the statement names one.
    from: Option<String>,
}

/// The `import` and re-export statements of a declaration file (local `export { a }` lists
/// are not emitted by tsc for this package and are not followed).
fn statements(dts: &str) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut scanner = Scanner::default();
    let mut depth = 0;
    let mut pending: Option<String> = None;
    for line in dts.lines() {
        let was_in_comment = scanner.in_comment;
        let scan = scanner.line(line);
        let code = scan.code.trim();
        let starts = depth == 0
            && !was_in_comment
            && pending.is_none()
            && (code.starts_with("import ") || is_reexport(code));
        depth += scan.delta;
        if starts {
            pending = Some(String::new());
        }
        if let Some(text) = pending.as_mut() {
            text.push_str(code);
            text.push(' ');
            if depth <= 0 && code.ends_with(';') {
                out.extend(pending.take().and_then(|t| statement(&t)));
            }
        }
    }
    out
}

/// Whether a line of code starts a re-export (`export [type] * from`, `export [type] {`).
fn is_reexport(code: &str) -> bool {
    let Some(rest) = code.strip_prefix("export ") else {
        return false;
    };
    let rest = rest.strip_prefix("type ").unwrap_or(rest).trim_start();
    rest.starts_with('*') || rest.starts_with('{')
}

/// One import or re-export statement, from its code on one line.
fn statement(text: &str) -> Option<Statement> {
    let (export, rest) = match text.strip_prefix("export ") {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix("import ")?),
    };
    let rest = rest.strip_prefix("type ").unwrap_or(rest).trim_start();
    let (clause, from) = match rest.rsplit_once(" from ") {
        Some((clause, from)) => {
            let from = from.trim().trim_end_matches(';').trim();
            (
                clause.trim(),
                Some(from.trim_matches(['"', '\'']).to_owned()),
            )
        }
        None => (rest.trim_end_matches([';', ' ']), None),
    };
    let names = if clause.starts_with('*') {
        // `export * from`; `import * as wasm from` names no declaration of its own.
        if !export {
            return Some(Statement {
                export,
                names: Some(Vec::new()),
                from,
            });
        }
        None
    } else {
        let inner = clause
            .split_once('{')
            .and_then(|(_, r)| r.rsplit_once('}'))
            .map(|(i, _)| i)
            .unwrap_or_default();
        Some(
            inner
                .split(',')
                .map(|n| n.trim())
                .map(|n| n.strip_prefix("type ").unwrap_or(n).trim())
                .filter(|n| !n.is_empty())
                .map(|n| match n.split_once(" as ") {
                    Some((there, here)) => (there.trim().to_owned(), here.trim().to_owned()),
                    None => (n.to_owned(), n.to_owned()),
                })
                .collect(),
        )
    };
    Some(Statement {
        export,
        names,
        from,
    })
}

/// One top-level declaration with its doc comment.
#[derive(Clone)]
struct Item {
    kind: &'static str,
    name: String,
    text: String,
}

/// A declaration an entry exports: the name it is exported under, where it is declared.
#[derive(Clone)]
struct Public {
    name: String,
    file: PathBuf,
    item: Item,
}

/// What the two entries export: `teleconsult`, then what only `teleconsult/devices` adds.
struct Api {
    call: Vec<Public>,
    devices: Vec<Public>,
}

impl Api {
    fn of(files: &Files, [call, devices]: &[PathBuf; 2]) -> Api {
        let call = exported(files, call, 0);
        // Both entries export the error types; the devices part lists only what differs.
        let devices = exported(files, devices, 0)
            .into_iter()
            .filter(|d| {
                !call.iter().any(|c| {
                    c.item.kind == d.item.kind && c.name == d.name && c.item.text == d.item.text
                })
            })
            .collect();
        Api { call, devices }
    }

    fn all(&self) -> impl Iterator<Item = &Public> {
        self.call.iter().chain(&self.devices)
    }
}

/// The declarations module `file` exports, in the order its statements export them.
/// `export type X = Y;` where `Y` is imported stands for `Y`'s own declaration (the entries
/// give `ErrorCode` a runtime object of the same name that way).
fn exported(files: &Files, file: &Path, depth: usize) -> Vec<Public> {
    let Some(dts) = files.get(file) else {
        return Vec::new();
    };
    if depth > 32 {
        return Vec::new();
    }
    let statements = statements(dts);
    let imports: BTreeMap<&str, (PathBuf, &str)> = statements
        .iter()
        .filter(|s| !s.export)
        .flat_map(|s| {
            let from = s.from.as_deref().map(|f| resolve(file, f));
            s.names.iter().flatten().filter_map(move |(there, here)| {
                from.clone().map(|f| (here.as_str(), (f, there.as_str())))
            })
        })
        .collect();
    let mut out: Vec<Public> = Vec::new();
    for item in parse(dts) {
        let alias = alias_of(&item).and_then(|to| imports.get(to.as_str()));
        match alias {
            Some((from, there)) => out.extend(
                exported(files, from, depth + 1)
                    .into_iter()
                    .filter(|p| p.name == *there && p.item.kind == "type")
                    .map(|p| Public {
                        name: item.name.clone(),
                        ..p
                    }),
            ),
            None => out.push(Public {
                name: item.name.clone(),
                file: file.to_path_buf(),
                item,
            }),
        }
    }
    // Names this module exports itself or by name win over `export *` (as in TypeScript).
    let mut own: Vec<String> = out.iter().map(|p| p.name.clone()).collect();
    for s in statements.iter().filter(|s| s.export) {
        own.extend(s.names.iter().flatten().map(|(_, here)| here.clone()));
    }
    for s in statements.iter().filter(|s| s.export) {
        let Some(from) = s.from.as_deref().map(|f| resolve(file, f)) else {
            continue;
        };
        let theirs = exported(files, &from, depth + 1);
        match &s.names {
            None => out.extend(theirs.into_iter().filter(|p| !own.contains(&p.name))),
            Some(names) => {
                for (there, here) in names {
                    out.extend(theirs.iter().filter(|p| &p.name == there).map(|p| Public {
                        name: here.clone(),
                        ..p.clone()
                    }))
                }
            }
        }
    }
    out
}

/// `Y` when `item` is `export type X = Y;` (an alias of one name, without type arguments).
fn alias_of(item: &Item) -> Option<String> {
    if item.kind != "type" {
        return None;
    }
    let mut scanner = Scanner::default();
    let code: String = item
        .text
        .lines()
        .map(|l| scanner.line(l).code)
        .collect::<Vec<_>>()
        .join(" ");
    let rest = code.trim().strip_prefix("export ")?.trim_start();
    let rest = rest.strip_prefix("declare ").unwrap_or(rest).trim_start();
    let (_, target) = rest.strip_prefix("type ")?.split_once('=')?;
    let target = target.trim().strip_suffix(';')?.trim();
    target
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        .then(|| target.to_owned())
}

/// Fails, naming what is missing, unless `api_md` shows every declaration the entries export,
/// in full.
fn check_complete(files: &Files, api: &Api, api_md: &str) -> Result<(), String> {
    let missing = missing_from(files, api, api_md);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "docs/API.md lacks parts of the declarations of {} or {}: {} (a bug in \
             xtask/src/api_docs.rs if `cargo xtask docs` wrote it)",
            entries()[0].display(),
            entries()[1].display(),
            missing.join(", ")
        ))
    }
}

/// The sections of the reference, in order. Sections after the first three appear only when
/// the declarations have such items.
const SECTIONS: [(&str, &str); 5] = [
    ("class", "Classes"),
    ("function", "Functions"),
    ("type", "Types"),
    ("const", "Constants"),
    ("namespace", "Namespaces"),
];

fn render(api: &Api) -> String {
    let mut out = String::from(
        "# API reference\n\n\
         Generated by `cargo xtask docs` from the TypeScript declarations the npm package ships\n\
         (tsc's output of its source, `pkg/src/`); `cargo xtask test` fails when this file is\n\
         out of date. Import everything from `teleconsult`, except the devices API\n\
         ([below](#teleconsultdevices)); `ErrorCode` is also a frozen runtime object\n\
         (`ErrorCode.RelayRefused === \"RelayRefused\"`).\n",
    );
    render_items(&mut out, &api.call, "##");
    out.push_str(
        "\n## `teleconsult/devices`\n\n\
         The devices API is a wasm module of its own (the GATT parsers and the Bluetooth\n\
         driver), which a page downloads only when it imports it:\n\
         `const { DeviceSession } = await import('teleconsult/devices')`.\n",
    );
    render_items(&mut out, &api.devices, "###");
    out
}

/// Appends `items` by section, under headings of level `level`. An interface that merges
/// into a class of the same name (`[Symbol.dispose]`) is shown with the class.
fn render_items(out: &mut String, items: &[Public], level: &str) {
    let merged = |p: &Public| {
        p.item.kind == "type"
            && items
                .iter()
                .any(|c| c.item.kind == "class" && c.name == p.name && c.file == p.file)
    };
    for (i, (kind, title)) in SECTIONS.into_iter().enumerate() {
        let mut of_kind = items
            .iter()
            .filter(|p| p.item.kind == kind && !merged(p))
            .peekable();
        if i >= 3 && of_kind.peek().is_none() {
            continue;
        }
        out.push_str(&format!("\n{level} {title}\n"));
        for p in of_kind {
            let mut text = p.item.text.trim_end().to_owned();
            if kind == "class" {
                for m in items
                    .iter()
                    .filter(|m| merged(m) && m.name == p.name && m.file == p.file)
                {
                    text.push('\n');
                    text.push_str(m.item.text.trim_end());
                }
            }
            out.push_str(&format!("\n{level}# `{}`\n\n```ts\n{text}\n```\n", p.name));
        }
    }
}

/// Splits a declaration file into top-level exported items, each with the doc comment above
/// it. An item ends at the end of its statement: nesting back at zero, and a line that ends
/// in `;` or `}` (or a line without either, when the next one starts a new declaration) —
/// unless the next line continues it, as the `| …` members of a multi-line union do.
fn parse(dts: &str) -> Vec<Item> {
    let lines: Vec<&str> = dts.lines().collect();
    let mut items = Vec::new();
    let mut pending_doc = String::new();
    let mut current: Option<Item> = None;
    let mut depth: i32 = 0;
    let mut scanner = Scanner::default();
    // Inside a block comment that began outside an item: whether it is a doc comment.
    let mut in_comment: Option<bool> = None;
    for (i, line) in lines.iter().enumerate() {
        let next = next_code_line(&lines[i + 1..]);
        if let Some(item) = current.as_mut() {
            item.text.push_str(line);
            item.text.push('\n');
            let scan = scanner.line(line);
            depth += scan.delta;
            if depth <= 0 && ends_statement(&scan.code, next) {
                items.extend(current.take());
            }
            continue;
        }
        if let Some(doc) = in_comment {
            scanner.line(line);
            if doc {
                pending_doc.push_str(line);
                pending_doc.push('\n');
            }
            if !scanner.in_comment {
                in_comment = None;
            }
            continue;
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("/*") {
            // A doc comment belongs to what follows; any other (lint directives) is dropped.
            let doc = trimmed.starts_with("/**");
            pending_doc.clear();
            if doc {
                pending_doc.push_str(line);
                pending_doc.push('\n');
            }
            scanner.line(line);
            if scanner.in_comment {
                in_comment = Some(doc);
            }
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with("//") {
            continue;
        }
        let scan = scanner.line(line);
        let Some((kind, name)) = header(trimmed) else {
            pending_doc.clear();
            // Skip whatever this is (an import, a private declaration) to its end.
            depth = scan.delta;
            if !(depth <= 0 && ends_statement(&scan.code, next)) {
                current = Some(Item {
                    kind: "",
                    name: String::new(),
                    text: String::new(),
                });
            }
            continue;
        };
        let mut text = std::mem::take(&mut pending_doc);
        text.push_str(line);
        text.push('\n');
        depth = scan.delta;
        let item = Item { kind, name, text };
        if depth <= 0 && ends_statement(&scan.code, next) {
            items.push(item)
        } else {
            current = Some(item)
        }
    }
    items.extend(current.take());
    // Interfaces that merge into a class (typed addEventListener overloads) stay separate.
    items.retain(|i| !i.kind.is_empty());
    items
}

/// The kind and name of an exported declaration (`export [declare] [abstract] class X …`).
fn header(line: &str) -> Option<(&'static str, String)> {
    let mut rest = line.strip_prefix("export ")?.trim_start();
    for modifier in ["declare ", "default ", "abstract "] {
        rest = rest.strip_prefix(modifier).unwrap_or(rest).trim_start();
    }
    let (kind, after) = [
        ("class ", "class"),
        ("function ", "function"),
        ("interface ", "type"),
        ("type ", "type"),
        ("const enum ", "type"),
        ("enum ", "type"),
        ("const ", "const"),
        ("let ", "const"),
        ("var ", "const"),
        ("namespace ", "namespace"),
    ]
    .into_iter()
    .find_map(|(keyword, kind)| rest.strip_prefix(keyword).map(|r| (kind, r)))?;
    let name: String = after
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
        .collect();
    (!name.is_empty()).then_some((kind, name))
}

/// How a top-level statement that begins a declaration starts.
const DECLARATION_STARTS: [&str; 5] = ["export ", "declare ", "import ", "type ", "interface "];

/// The first line after these that is neither blank nor only a comment, trimmed.
fn next_code_line<'a>(lines: &[&'a str]) -> Option<&'a str> {
    let mut in_comment = false;
    for line in lines {
        let t = line.trim();
        if in_comment {
            in_comment = !t.contains("*/");
            continue;
        }
        if t.is_empty() || t.starts_with("//") {
            continue;
        }
        if t.starts_with("/*") {
            in_comment = !t.contains("*/");
            continue;
        }
        return Some(t);
    }
    None
}

/// Whether a statement whose nesting is back at zero ends with this line (`code`: the line
/// without comments), given the next line of code.
fn ends_statement(code: &str, next: Option<&str>) -> bool {
    // `| B`, `& B`, `? A : B` and `= …` on the next line continue this one.
    if next.is_some_and(|n| n.starts_with(['|', '&', '?', ':', '=', '.'])) {
        return false;
    }
    let code = code.trim_end();
    if code.ends_with(';') || code.ends_with('}') {
        return true;
    }
    let open_ended = code.is_empty()
        || code.ends_with(['=', '|', '&', ',', '(', '[', '{', '<', ':', '?'])
        || code.ends_with("=>")
        || code.ends_with(" extends");
    // Without a semicolon, a statement ends where the next declaration begins.
    !open_ended && next.is_none_or(|n| DECLARATION_STARTS.iter().any(|p| n.starts_with(p)))
}

/// What one line holds, outside comments and string literals.
struct Scanned {
    /// Net change of nesting: `{`, `(` and `[` against their closers.
    delta: i32,
    /// The line without its comments (string literals kept).
    code: String,
    /// The string literals on the line, with their quotes.
    literals: Vec<String>,
}

/// A line-by-line lexer that knows where comments and string literals are.
#[derive(Default)]
struct Scanner {
    /// Inside a `/* … */` comment that continues on the next line.
    in_comment: bool,
}

impl Scanner {
    fn line(&mut self, line: &str) -> Scanned {
        let mut out = Scanned {
            delta: 0,
            code: String::new(),
            literals: Vec::new(),
        };
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if self.in_comment {
                if c == '*' && chars.peek() == Some(&'/') {
                    chars.next();
                    self.in_comment = false;
                }
                continue;
            }
            match c {
                '/' if chars.peek() == Some(&'/') => break,
                '/' if chars.peek() == Some(&'*') => {
                    chars.next();
                    self.in_comment = true;
                }
                '"' | '\'' | '`' => {
                    let mut literal = String::from(c);
                    while let Some(d) = chars.next() {
                        literal.push(d);
                        if d == '\\' {
                            literal.extend(chars.next());
                        } else if d == c {
                            break;
                        }
                    }
                    out.code.push_str(&literal);
                    out.literals.push(literal);
                }
                _ => {
                    out.delta += match c {
                        '{' | '(' | '[' => 1,
                        '}' | ')' | ']' => -1,
                        _ => 0,
                    };
                    out.code.push(c);
                }
            }
        }
        out
    }
}

/// What of the exported declarations `api_md` lacks: each export without its heading, each
/// string literal of their code that occurs fewer times in the reference's code blocks than
/// in them (which names a dropped union member), and each declaration whose code (without
/// comments, whitespace collapsed) the reference's code does not hold verbatim (a dropped
/// member of any other kind). Independent of `parse`: here a declaration runs until the next
/// line at nesting zero that starts another declaration, so a statement that `parse` ends
/// too early still counts in full.
fn missing_from(files: &Files, api: &Api, api_md: &str) -> Vec<String> {
    let mut missing: Vec<String> = Vec::new();
    let mut checked: Vec<(&Path, &str, &str)> = Vec::new();
    let mut literals = Vec::new();
    let mut incomplete = Vec::new();
    let reference = reference_code(api_md);
    for p in api.all() {
        if !api_md.contains(&format!("# `{}`", p.name)) && !missing.contains(&p.name) {
            missing.push(p.name.clone());
        }
        let key = (p.file.as_path(), p.item.kind, p.item.name.as_str());
        if checked.contains(&key) {
            continue;
        }
        checked.push(key);
        let dts = files.get(&p.file).map(String::as_str).unwrap_or_default();
        for d in declarations(dts) {
            if d.kind != p.item.kind || d.name != p.item.name {
                continue;
            }
            literals.extend(d.literals);
            if !reference.contains(&d.code) {
                incomplete.push(format!("{} (not in full)", p.name));
            }
        }
    }
    let have = tally(reference_literals(api_md));
    for (literal, want) in tally(literals) {
        if have.get(&literal).copied().unwrap_or(0) < want {
            missing.push(literal);
        }
    }
    incomplete.dedup();
    missing.extend(incomplete);
    missing
}

/// One exported declaration as `missing_from` reads it.
struct Declaration {
    kind: &'static str,
    name: String,
    /// Its code without comments, whitespace collapsed.
    code: String,
    /// The string literals in its code (module specifiers left out), each as often as it
    /// occurs.
    literals: Vec<String>,
}

/// The exported declarations of `dts`.
fn declarations(dts: &str) -> Vec<Declaration> {
    let mut out: Vec<Declaration> = Vec::new();
    let mut scanner = Scanner::default();
    let mut depth = 0;
    let mut exported = false;
    for line in dts.lines() {
        let was_in_comment = scanner.in_comment;
        let scan = scanner.line(line);
        let code = scan.code.trim();
        if depth <= 0 && !was_in_comment && !code.is_empty() {
            if let Some((kind, name)) = header(code) {
                exported = true;
                out.push(Declaration {
                    kind,
                    name,
                    code: String::new(),
                    literals: Vec::new(),
                });
            } else if DECLARATION_STARTS.iter().any(|p| code.starts_with(p)) {
                exported = false;
            }
        }
        depth += scan.delta;
        if let (true, Some(d)) = (exported, out.last_mut()) {
            d.code = collapse(&format!("{} {code}", d.code));
            d.literals.extend(
                scan.literals
                    .iter()
                    .filter(|l| !is_module_specifier(&scan.code, l))
                    .cloned(),
            );
        }
    }
    out
}

/// `text` with every run of whitespace one space, trimmed.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The code of the ```ts blocks of the reference, without comments, whitespace collapsed;
/// blocks separated by a line feed (which `collapse` never leaves inside a declaration).
fn reference_code(api_md: &str) -> String {
    let mut blocks = Vec::new();
    let mut scanner = Scanner::default();
    let mut block: Option<String> = None;
    for line in api_md.lines() {
        if line.starts_with("```") {
            blocks.extend(block.take().map(|b| collapse(&b)));
            if line == "```ts" {
                block = Some(String::new());
            }
            scanner = Scanner::default();
        } else if let Some(b) = block.as_mut() {
            b.push(' ');
            b.push_str(&scanner.line(line).code);
        }
    }
    blocks.join("\n")
}

/// The string literals in the ```ts blocks of the reference, outside comments.
fn reference_literals(api_md: &str) -> Vec<String> {
    let mut literals = Vec::new();
    let mut scanner = Scanner::default();
    let mut in_block = false;
    for line in api_md.lines() {
        if line.starts_with("```") {
            in_block = line == "```ts";
            scanner = Scanner::default();
        } else if in_block {
            literals.extend(scanner.line(line).literals);
        }
    }
    literals
}

fn tally(items: Vec<String>) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for item in items {
        *counts.entry(item).or_insert(0) += 1;
    }
    counts
}

/// Whether `literal` on this line names a module (`from "…"`, `import("…")`), which the
/// reference need not repeat.
fn is_module_specifier(code: &str, literal: &str) -> bool {
    code.find(literal).is_some_and(|at| {
        let before = code[..at].trim_end();
        before.ends_with("from") || before.ends_with("import(") || before.ends_with("require(")
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::{Api, Files, Statement, missing_from, parse, render, statement};

    /// The package of `call` (the `teleconsult` entry, index.d.ts) and `devices`
    /// (devices.d.ts), with `more` other modules they may import.
    fn package(call: &str, devices: &str, more: &[(&str, &str)]) -> (Files, Api) {
        let mut files = Files::new();
        files.insert("index.d.ts".into(), call.to_owned());
        files.insert("devices.d.ts".into(), devices.to_owned());
        for (path, text) in more {
            files.insert(PathBuf::from(path), (*text).to_owned());
        }
        let api = Api::of(&files, &["index.d.ts".into(), "devices.d.ts".into()]);
        (files, api)
    }

    /// The reference of one declaration file (no devices module), with what it lacks.
    fn render_one(dts: &str) -> (String, Files, Api) {
        let (files, api) = package(dts, "", &[]);
        (render(&api), files, api)
    }

    fn missing(files: &Files, api: &Api, api_md: &str) -> Vec<String> {
        missing_from(files, api, api_md)
    }

    #[test]
    fn the_devices_module_has_its_own_part_without_what_both_declare() {
        let call = "/** Codes. */\nexport type ErrorCode = \"A\";\nexport declare function version(): string;\n";
        let devices = "/** Codes. */\nexport type ErrorCode = \"A\";\n/** Parses. */\nexport declare function parseMeasurement(v: string): number;\n";
        let (files, api) = package(call, devices, &[]);
        let text = render(&api);
        assert_eq!(text.matches("# `ErrorCode`").count(), 1);
        let (before, part) = text
            .split_once("## `teleconsult/devices`")
            .unwrap_or_default();
        assert!(part.contains("#### `parseMeasurement`"));
        assert!(!before.contains("parseMeasurement"));
        assert!(missing(&files, &api, &text).is_empty());
    }

    #[test]
    fn follows_re_exports_and_leaves_out_what_the_entries_do_not_export() {
        let index = "import type { ErrorCode as Code } from './types/error-code.js';\nexport * from './api.js';\n/** A stable error code. */\nexport type ErrorCode = Code;\n/** Codes at run time. */\nexport declare const ErrorCode: {\n    readonly A: \"A\";\n};\n";
        let api_dts = "import * as wasm from '../web/teleconsult.js';\nexport type * from './types/chat.js';\nexport { Chat, type ChatFhirOptions } from './chat.js';\n/** The version. */\nexport declare function version(): string;\n";
        let chat = "/** Internal. */\nexport declare function chatFor(): Chat;\n/** Options. */\nexport interface ChatFhirOptions {\n    subject: string;\n}\n/** A chat. */\nexport declare class Chat {\n    private constructor();\n    /** Sends. */\n    send(text: string): void;\n}\nexport interface Chat {\n    [Symbol.dispose](): void;\n}\n";
        let chat_types =
            "/** A message. */\nexport interface ChatMessage {\n    text: string;\n}\n";
        let codes = "/** A stable error code. */\nexport type ErrorCode =\n  | \"A\"\n  // a comment\n  | \"B\";\n";
        let (files, api) = package(
            index,
            "",
            &[
                ("api.d.ts", api_dts),
                ("chat.d.ts", chat),
                ("types/chat.d.ts", chat_types),
                ("types/error-code.d.ts", codes),
            ],
        );
        let text = render(&api);
        for heading in [
            "### `Chat`",
            "### `ChatFhirOptions`",
            "### `ChatMessage`",
            "### `version`",
            "### `ErrorCode`",
        ] {
            assert!(text.contains(heading), "{heading}\n{text}");
        }
        assert!(!text.contains("chatFor"), "{text}");
        // The alias stands for the union it names; the merged interface shows with its class.
        assert!(text.contains("  | \"B\";"), "{text}");
        assert!(!text.contains("= Code"), "{text}");
        assert!(text.contains("send(text: string): void;\n}\nexport interface Chat {\n    [Symbol.dispose](): void;\n}\n```"), "{text}");
        assert_eq!(text.matches("# `Chat`").count(), 1);
        assert!(missing(&files, &api, &text).is_empty());
    }

    #[test]
    fn reads_import_and_re_export_statements() {
        assert_eq!(
            statement("export { Chat, type ChatFhirOptions, A as B } from './chat.js'; "),
            Some(Statement {
                export: true,
                names: Some(vec![
                    ("Chat".into(), "Chat".into()),
                    ("ChatFhirOptions".into(), "ChatFhirOptions".into()),
                    ("A".into(), "B".into())
                ]),
                from: Some("./chat.js".into()),
            })
        );
        assert_eq!(
            statement("export type * from \"./types/devices.js\";"),
            Some(Statement {
                export: true,
                names: None,
                from: Some("./types/devices.js".into()),
            })
        );
    }

    /// The two declarations whose members the generator used to drop, as the package has them.
    const CONSENT_DTS: &str = r#"/** How consent was collected. */
export type ConsentCollection =
  | { method: "patient-action" }
  | { method: "verbal-attested"; clinician: string };

/** What `grant()` takes. */
export interface ConsentGrantInput {
  /** Default: `{ method: "patient-action" }`. */
  collection?: ConsentCollection;
}

/** A recorded event. */
export type ConsentEvent =
  | ({ type: "grant" } & ConsentGrant)
  | { type: "withdraw"; grant: number }
  /** The period ended. */
  | { type: "expire"; grant: number }
  // A new notice version.
  | ({ type: "notice-updated" } & ConsentNotice)
  | { type: "sas-confirmed"; transcript: string }
  | { type: "participant-admitted"; participant: string };

/** One signed ledger entry. */
export interface ConsentEntry { seq: number; event: ConsentEvent }
"#;

    fn names(dts: &str) -> Vec<(&'static str, String)> {
        parse(dts).into_iter().map(|i| (i.kind, i.name)).collect()
    }

    #[test]
    fn splits_declarations_and_keeps_their_doc_comments() {
        let dts = "/* tslint:disable */\n/** Says hi. */\nexport function hi(): string;\n\n/**\n * A thing.\n */\nexport interface Thing {\n  a: { b: number };\n}\nexport type T = \"x\" | \"y\";\n";
        let items = parse(dts);
        let names: Vec<_> = items.iter().map(|i| (i.kind, i.name.as_str())).collect();
        assert_eq!(
            names,
            [("function", "hi"), ("type", "Thing"), ("type", "T")]
        );
        assert!(items[0].text.starts_with("/** Says hi. */"));
        assert!(items[1].text.contains("a: { b: number };\n}"));
    }

    #[test]
    fn a_multi_line_union_with_comments_between_members_keeps_every_member() {
        let items = parse(CONSENT_DTS);
        let got: Vec<_> = items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            got,
            [
                "ConsentCollection",
                "ConsentGrantInput",
                "ConsentEvent",
                "ConsentEntry"
            ]
        );
        assert!(
            items[0]
                .text
                .ends_with("  | { method: \"verbal-attested\"; clinician: string };\n"),
            "{}",
            items[0].text
        );
        for member in [
            "\"grant\"",
            "\"withdraw\"",
            "\"expire\"",
            "\"notice-updated\"",
            "\"sas-confirmed\"",
            "\"participant-admitted\"",
            "/** The period ended. */",
            "// A new notice version.",
        ] {
            assert!(items[2].text.contains(member), "{member} dropped");
        }
        assert!(items[2].text.starts_with("/** A recorded event. */\n"));
    }

    #[test]
    fn a_union_whose_first_member_ends_in_a_brace_or_without_a_semicolon_continues() {
        // Members after a line that ends in `}` at nesting zero, tsc's `} | {` layout, and a
        // last member without a semicolon before the next declaration.
        let dts = "export type A = { a: 1 }\n  | { a: 2 };\nexport type B = {\n    b: \"x\";\n} | {\n    b: \"y\";\n};\nexport type C =\n  | \"p\"\n  | \"q\"\nexport type D = number;\n";
        let items = parse(dts);
        assert_eq!(
            items.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
            ["A", "B", "C", "D"]
        );
        assert!(items[0].text.contains("{ a: 2 };"));
        assert!(items[1].text.contains("\"y\""));
        assert!(items[2].text.contains("\"q\""));
    }

    #[test]
    fn a_statement_ends_before_a_trailing_line_comment() {
        // The old parser looked at the raw line end, so `ConsultationState` ran on and
        // swallowed `EndReason`.
        let dts = "export type ConsultationState =\n| \"admitted\"      // in the call\n| \"ended\";        // see `endReason`\n\n/** Why a consultation ended. */\nexport type EndReason =\n| \"hung-up\" | \"denied\";\n";
        let items = parse(dts);
        assert_eq!(
            items.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
            ["ConsultationState", "EndReason"]
        );
        assert!(items[0].text.ends_with("// see `endReason`\n"));
        assert!(
            items[1]
                .text
                .starts_with("/** Why a consultation ended. */\n")
        );
    }

    #[test]
    fn reads_tsc_declarations() {
        let dts = "import { X } from \"./x\";\n/** Codes. */\nexport declare const ErrorCode: {\n    readonly A: \"A\";\n};\nexport type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];\nexport declare function f(\n    a: string,\n    b: { c: number }\n): Promise<void>;\nexport declare abstract class K {\n    /** Starts (see {@link f}. */\n    start(): void;\n}\ndeclare const hidden: string;\nexport declare enum E {\n    One = 1\n}\n";
        assert_eq!(
            names(dts),
            [
                ("const", "ErrorCode".to_owned()),
                ("type", "ErrorCode".to_owned()),
                ("function", "f".to_owned()),
                ("class", "K".to_owned()),
                ("type", "E".to_owned()),
            ]
        );
        let items = parse(dts);
        assert!(items[2].text.ends_with("): Promise<void>;\n"));
        assert!(items[3].text.ends_with("start(): void;\n}\n"));
        let (text, files, api) = render_one(dts);
        assert!(missing(&files, &api, &text).is_empty());
        assert!(!text.contains("hidden"));
    }

    #[test]
    fn the_drift_check_notices_a_dropped_member_or_export() {
        let (good, files, api) = render_one(CONSENT_DTS);
        assert_eq!(missing(&files, &api, &good), Vec::<String>::new());
        // The reference as the old generator wrote it: each union cut after its first line
        // that ended in `}`. The doc comment's `"patient-action"` must not stand in for code.
        let old = good
            .replace("\n  | { method: \"verbal-attested\"; clinician: string };", "")
            .replace(
                "\n  | { type: \"expire\"; grant: number }\n  // A new notice version.\n  | ({ type: \"notice-updated\" } & ConsentNotice)\n  | { type: \"sas-confirmed\"; transcript: string }\n  | { type: \"participant-admitted\"; participant: string };",
                "",
            );
        assert_ne!(old, good);
        assert_eq!(
            missing(&files, &api, &old),
            [
                "\"expire\"",
                "\"notice-updated\"",
                "\"participant-admitted\"",
                "\"sas-confirmed\"",
                "\"verbal-attested\"",
                "ConsentCollection (not in full)",
                "ConsentEvent (not in full)",
            ]
        );
        // A member without a string literal is noticed too.
        let no_literal = good.replace(
            "  | { type: \"withdraw\"; grant: number }\n",
            "  | { type: \"withdraw\" }\n",
        );
        assert_ne!(no_literal, good);
        assert_eq!(
            missing(&files, &api, &no_literal),
            ["ConsentEvent (not in full)"]
        );
        let without_entry = good.replace("### `ConsentEntry`", "");
        assert_eq!(missing(&files, &api, &without_entry), ["ConsentEntry"]);
        // A literal in a doc comment is not one the reference must show in code.
        let doc_only = "/** Like \"z\". */\nexport type Z = number;\n";
        let (text, files, api) = render_one(doc_only);
        assert!(missing(&files, &api, &text).is_empty());
    }
}
