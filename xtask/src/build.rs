//! `cargo xtask build [--release]`: compile the SDK to wasm32 and assemble the npm package.
//!
//! `pkg/` holds the hand-written parts (package.json, the TypeScript source in `pkg/src/`,
//! README); this step generates `pkg/web/` (ESM glue for browsers and bundlers) and
//! `pkg/node/` (CommonJS glue for Node.js), each with its `.wasm`, then compiles the
//! TypeScript (`pkg/build.mjs`: esbuild for `index.js`, `node.cjs`, `node.mjs`; tsc for the
//! declarations in `types/`, `index.d.ts`, `node.d.ts`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{self, root};

/// Which cargo profile to build.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Fast to build, with debug names in the glue.
    Debug,
    /// What ships: the `wasm-release` profile (`opt-level = "z"`, LTO, `panic = "abort"`),
    /// then `wasm-opt -Oz`.
    Release,
}

/// Raw and gzipped sizes of what a browser downloads: the whole SDK (both wasm modules, every
/// JS file) and the part a page needs to join.
pub struct Sizes {
    /// The browser `.wasm`, bytes.
    pub wasm_raw: u64,
    /// The browser `.wasm`, gzip -9 bytes.
    pub wasm_gz: u64,
    /// The browser JS (glue and entry), bytes.
    pub js_raw: u64,
    /// The browser JS, gzip -9 bytes.
    pub js_gz: u64,
    /// What a page that joins without devices downloads (the call module, its JS), gzip -9.
    pub join_gz: u64,
}

/// Features rustc enables by default for wasm32 that wasm-opt must accept and keep.
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// One of the package's two wasm modules: the crate built with one `web-*` feature.
struct Module {
    /// The cargo feature that selects its JS API.
    feature: &'static str,
    /// wasm-bindgen's `--out-name`: the glue is `<name>.js`, the module `<name>_bg.wasm`.
    name: &'static str,
    /// Directories under pkg/ for the browser (ESM) and Node.js (CommonJS) glue.
    web: &'static str,
    node: &'static str,
}

/// The call module (what a page needs to join: `teleconsult`) and the devices module
/// (`teleconsult/devices`), which a page downloads only when it uses devices. Two modules,
/// not one, so a page that joins without devices does not download the GATT parsers and
/// the Bluetooth driver (issue 14); they meet only through JavaScript values (the devices
/// module calls `Consultation.sendData` and `consentRefusal` on the call module's object).
const MODULES: [Module; 2] = [
    Module {
        feature: "web-call",
        name: "teleconsult",
        web: "web",
        node: "node",
    },
    Module {
        feature: "web-devices",
        name: "teleconsult_devices",
        web: "web-devices",
        node: "node-devices",
    },
];

/// Builds the package and returns the browser payload's sizes.
pub fn run(profile: Profile) -> Result<Sizes, String> {
    let root = root();
    let pkg = root.join("pkg");
    for module in &MODULES {
        let wasm = compile(profile, module.feature)?;
        bindgen(profile, module, &wasm, &pkg)?;
    }
    // The package is `"type": "module"`; the Node.js glue is CommonJS, and it `require`s
    // the JS snippets, which are ES modules (Node.js ≥ 20.19 loads those with `require`).
    for module in &MODULES {
        let node = pkg.join(module.node);
        write(&node.join("package.json"), b"{ \"type\": \"commonjs\" }\n")?;
        if node.join("snippets").is_dir() {
            write(
                &node.join("snippets/package.json"),
                b"{ \"type\": \"module\" }\n",
            )?;
        }
    }
    // The public API is TypeScript (pkg/src/): esbuild bundles the entries, tsc writes the
    // declarations, with the versions pinned in the root package-lock.json (`npm ci` when
    // node_modules does not match it, as `cargo xtask setup` does).
    crate::setup::npm_packages(&root)?;
    let mut ts = Command::new("node");
    ts.arg(pkg.join("build.mjs"));
    if profile == Profile::Release {
        ts.arg("--release");
    }
    util::run(&mut ts)?;
    let sizes = measure(&pkg)?;
    println!(
        "pkg: browser wasm {} B ({} B gzipped), JS {} B ({} B gzipped), total {} B gzipped; \
         to join (without teleconsult/devices) {} B gzipped",
        sizes.wasm_raw,
        sizes.wasm_gz,
        sizes.js_raw,
        sizes.js_gz,
        sizes.wasm_gz + sizes.js_gz,
        sizes.join_gz
    );
    Ok(sizes)
}

/// Compiles the crate to wasm with `feature` as its only JS API and returns the module
/// (optimised for a release build), copied under a name of its own: both builds write the
/// same `teleconsult.wasm`.
fn compile(profile: Profile, feature: &str) -> Result<PathBuf, String> {
    let mut cargo = util::cargo();
    cargo.args([
        "build",
        "--lib",
        "--package",
        "teleconsult",
        "--target",
        "wasm32-unknown-unknown",
        "--no-default-features",
        "--features",
        feature,
    ]);
    if profile == Profile::Release {
        cargo.args(["--profile", "wasm-release"]);
    }
    util::run(&mut cargo)?;
    let dir =
        util::target_dir()
            .join("wasm32-unknown-unknown")
            .join(if profile == Profile::Release {
                "wasm-release"
            } else {
                "debug"
            });
    let own = dir.join(format!("teleconsult-{feature}.wasm"));
    std::fs::copy(dir.join("teleconsult.wasm"), &own)
        .map_err(|e| format!("cannot copy the {feature} module: {e}"))?;
    if profile == Profile::Release {
        optimise(&own)
    } else {
        Ok(own)
    }
}

/// Runs wasm-bindgen on one module for the browser (`--target web`) and Node.js.
fn bindgen(profile: Profile, module: &Module, wasm: &Path, pkg: &Path) -> Result<(), String> {
    for (target, out) in [("web", module.web), ("nodejs", module.node)] {
        let out_dir = pkg.join(out);
        let _ = std::fs::remove_dir_all(&out_dir);
        let mut bindgen = Command::new("wasm-bindgen");
        bindgen
            .args(["--target", target, "--out-name", module.name, "--out-dir"])
            .arg(&out_dir);
        if profile == Profile::Debug {
            bindgen.arg("--debug");
        } else if !keep_names() {
            // wasm-bindgen names the functions it generates (closure shims, externref
            // adapters) in a `name` section even when its input has none: ~11 KB nobody
            // downloading the package needs.
            bindgen.args(["--remove-name-section", "--remove-producers-section"]);
        }
        util::run(bindgen.arg(wasm))?;
        let glue = out_dir.join(format!("{}.js", module.name));
        if target == "web" {
            let text = std::fs::read_to_string(&glue)
                .map_err(|e| format!("cannot read {}: {e}", glue.display()))?;
            write(&glue, dedupe_snippet_imports(&text).as_bytes())?;
        }
        if profile == Profile::Release {
            strip_doc_comments(&glue)?;
            for snippet in files_under(&out_dir.join("snippets"))? {
                strip_doc_comments(&snippet)?;
            }
        }
    }
    Ok(())
}

/// Builds `bench/bundle-floor` — the sans-IO core alone behind a plain byte boundary, no
/// wasm-bindgen and no JS layer — exactly as the SDK's wasm is built (`wasm-release`
/// profile, then `wasm-opt`), and returns its raw and gzip -9 sizes: the least any design
/// of the JS layer could ship.
pub fn floor() -> Result<(u64, u64), String> {
    util::run(util::cargo().args([
        "build",
        "--package",
        "teleconsult-bundle-floor",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
    ]))?;
    let wasm = util::target_dir()
        .join("wasm32-unknown-unknown/wasm-release/teleconsult_bundle_floor.wasm");
    let bytes = read(&optimise(&wasm)?)?;
    Ok((len(&bytes), gzip_len(&bytes)?))
}

/// Runs `wasm-opt -Oz` on rustc's output and returns the optimised file.
///
/// It runs before wasm-bindgen, not after: Debian's binaryen 108 rewrites the externref table
/// that wasm-bindgen adds, and the module then fails to instantiate (`WebAssembly.Table.set():
/// Argument 1 is invalid for table`). wasm-opt keeps the custom sections wasm-bindgen reads.
///
/// With `TELECONSULT_WASM_NAMES=1` the function names survive (wasm-opt `-g`, and wasm-bindgen
/// keeps its name section), so a CPU profile of a release build names Rust functions
/// (docs/BENCHMARKS.md, "Profiling"). Never for a published package: names cost ~100 KB.
fn optimise(wasm: &Path) -> Result<PathBuf, String> {
    let out = wasm.with_extension("opt.wasm");
    let names = if keep_names() {
        ["-g", "--strip-dwarf"]
    } else {
        ["--strip-debug", "--strip-producers"]
    };
    util::run(
        Command::new("wasm-opt")
            // `--converge` repeats -Oz until the module stops shrinking (~1 KB gzipped).
            .args(["-Oz", "--converge"])
            // A function with one caller is inlined into it only when small (binaryen's
            // default inlines every one): 18 KB less gzipped for both modules, 14 KB less to
            // join, though the raw module grows 7 KB (inlined copies of the wasm-bindgen and
            // serde glue compress worse than calls), and a first call compiles only the
            // functions it runs. Same call set-up and envelope speed (docs/BENCHMARKS.md,
            // stop 19).
            .args(["--one-caller-inline-max-function-size", "20"])
            .args(names)
            .args(WASM_FEATURES)
            .arg(wasm)
            .arg("-o")
            .arg(&out),
    )?;
    Ok(out)
}

/// Whether `TELECONSULT_WASM_NAMES=1` asks for a release build that keeps function names.
fn keep_names() -> bool {
    std::env::var_os("TELECONSULT_WASM_NAMES").is_some_and(|v| v == "1")
}

/// Keeps one entry per JS snippet in the import object of wasm-bindgen's web glue.
///
/// wasm-bindgen 0.2.130 writes `import * as importN from "./snippets/…/x.js"` and an
/// `"./snippets/…/x.js": importN,` entry once per imported function that needs no glue, so a
/// snippet with several such functions appears under the same key several times. Every
/// duplicate is the same module namespace, so the object is right, but bundlers warn about
/// each duplicate key (esbuild: "Duplicate key … in object literal"), which integrators would
/// see in their builds. This keeps the first entry of each key and drops the other entries
/// with their now unused namespace imports. Only those exact line shapes are touched.
fn dedupe_snippet_imports(glue: &str) -> String {
    let entry = |line: &str| -> Option<(String, String)> {
        let rest = line.trim().strip_prefix("\"./snippets/")?;
        let (path, name) = rest.split_once("\": ")?;
        let name = name.strip_suffix(',')?;
        name.strip_prefix("import")?
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| (path.to_owned(), name.to_owned()))
    };
    let mut first = std::collections::BTreeSet::new();
    let mut dropped = std::collections::BTreeSet::new();
    for (path, name) in glue.lines().filter_map(entry) {
        if !first.insert(path) {
            dropped.insert(name);
        }
    }
    let mut out = String::with_capacity(glue.len());
    for line in glue.lines() {
        let namespace_import = line
            .strip_prefix("import * as ")
            .and_then(|r| r.split_once(" from \"./snippets/"))
            .map(|(name, _)| name);
        let drop = match (entry(line), namespace_import) {
            (Some((_, name)), _) => dropped.contains(&name),
            (None, Some(name)) => dropped.contains(name),
            (None, None) => false,
        };
        if !drop {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Removes the comment-only lines from wasm-bindgen's JS glue.
///
/// wasm-bindgen copies every Rust doc comment into the glue as JSDoc: about 40 % of the
/// browser JS, and 8 KB of its 19 KB gzipped. Editors and TypeScript read the documentation
/// from `teleconsult.d.ts`, which keeps it, so the shipped `.js` does not need a copy.
/// Only whole lines are dropped — a `/** … */` block whose first line starts with `/**` and
/// whose last line ends with `*/`, and lines starting with `//` — so code and string
/// literals are never touched (the glue has no multi-line strings).
fn strip_doc_comments(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut out = String::with_capacity(text.len());
    let mut in_block = false;
    for line in text.lines() {
        let t = line.trim();
        let opens = t.starts_with("/**") || (t.starts_with("/*") && !t.contains("*/"));
        if in_block || opens {
            in_block = !t.ends_with("*/");
        } else if !t.starts_with("//") {
            out.push_str(line);
            out.push('\n');
        }
    }
    if in_block {
        return Err(format!("{}: unterminated comment", path.display()));
    }
    write(path, out.as_bytes())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn measure(pkg: &Path) -> Result<Sizes, String> {
    let join = measure_files(&join_files(pkg)?)?;
    let mut all = join_files(pkg)?;
    all.extend([
        pkg.join("web-devices/teleconsult_devices_bg.wasm"),
        pkg.join("web-devices/teleconsult_devices.js"),
        pkg.join("devices.js"),
    ]);
    all.extend(files_under(&pkg.join("web-devices/snippets"))?);
    let whole = measure_files(&all)?;
    Ok(Sizes {
        join_gz: join.wasm_gz + join.js_gz,
        ..whole
    })
}

/// What a browser downloads to join: the call module, its glue and snippets, the
/// `teleconsult` entry and the code it shares with `teleconsult/devices`.
fn join_files(pkg: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = vec![
        pkg.join("web/teleconsult_bg.wasm"),
        pkg.join("web/teleconsult.js"),
        pkg.join("index.js"),
    ];
    for entry in std::fs::read_dir(pkg).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with("shared-") && name.ends_with(".js") {
            files.push(path);
        }
    }
    files.extend(files_under(&pkg.join("web/snippets"))?);
    Ok(files)
}

/// The sizes of `files`: each `.wasm` gzipped on its own, the JS concatenated then gzipped.
fn measure_files(files: &[PathBuf]) -> Result<Sizes, String> {
    let mut sizes = Sizes {
        wasm_raw: 0,
        wasm_gz: 0,
        js_raw: 0,
        js_gz: 0,
        join_gz: 0,
    };
    let mut js = Vec::new();
    for file in files {
        let bytes = read(file)?;
        if file.extension().is_some_and(|e| e == "wasm") {
            sizes.wasm_raw += len(&bytes);
            sizes.wasm_gz += gzip_len(&bytes)?;
        } else {
            js.extend(bytes);
        }
    }
    sizes.js_raw = len(&js);
    sizes.js_gz = gzip_len(&js)?;
    Ok(sizes)
}

/// Every file below `dir` (none if it does not exist), in a stable order.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(out);
    };
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            out.extend(files_under(&path)?);
        } else {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

fn read(path: &PathBuf) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn len(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).unwrap_or(u64::MAX)
}

/// Bytes after `gzip -9`, as a web server would send them.
fn gzip_len(bytes: &[u8]) -> Result<u64, String> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).map_err(|e| e.to_string())?;
    Ok(len(&enc.finish().map_err(|e| e.to_string())?))
}

#[cfg(test)]
mod tests {
    use super::dedupe_snippet_imports;

    #[test]
    fn one_import_object_entry_per_snippet() {
        let glue = "import * as import1 from \"./snippets/p/a.js\"\n\
                    import * as import2 from \"./snippets/p/a.js\"\n\
                    import * as import3 from \"./snippets/p/b.js\"\n\
                    function f() {\n\
                    return {\n\
                    \"./teleconsult_bg.js\": import0,\n\
                    \"./snippets/p/a.js\": import1,\n\
                    \"./snippets/p/a.js\": import2,\n\
                    \"./snippets/p/b.js\": import3,\n\
                    };\n\
                    }\n";
        let want = "import * as import1 from \"./snippets/p/a.js\"\n\
                    import * as import3 from \"./snippets/p/b.js\"\n\
                    function f() {\n\
                    return {\n\
                    \"./teleconsult_bg.js\": import0,\n\
                    \"./snippets/p/a.js\": import1,\n\
                    \"./snippets/p/b.js\": import3,\n\
                    };\n\
                    }\n";
        assert_eq!(dedupe_snippet_imports(glue), want);
        assert_eq!(
            dedupe_snippet_imports(want),
            want,
            "nothing to do: unchanged"
        );
    }
}
