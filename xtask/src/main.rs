//! Project automation, run as `cargo xtask <command>` (the alias lives in .cargo/config.toml).
//!
//! | command | what it does |
//! | --- | --- |
//! | `setup` | installs what is missing: wasm32 target, wasm-bindgen CLI, Debian packages, npm packages |
//! | `build [--release]` | compiles the SDK to wasm32 and assembles the npm package in `pkg/` |
//! | `test [--level NAME[,NAME…]] [--list]` | set-up, then every test there is (or the named levels), ending with a summary |
//! | `demo` | builds the package and serves the demo on 127.0.0.1 |
//! | `bench` | runs the benchmarks, one result line each |
//! | `docs` | regenerates docs/API.md from the package's TypeScript declarations |

mod api_docs;
mod bench;
mod build;
mod demo;
mod guard;
mod setup;
mod test;
mod util;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <setup | build [--release] | test [--level NAME] [--list] | demo | bench | docs>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["setup"] => setup::run(),
        ["build"] => build::run(build::Profile::Debug).map(|_| ()),
        ["build", "--release"] => build::run(build::Profile::Release).map(|_| ()),
        ["test", rest @ ..] => test::run(rest),
        ["__guard", "--", command @ ..] => guard::run(command),
        ["demo"] => demo::run(),
        ["bench"] => bench::run(),
        ["docs"] => api_docs::run(),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
