//! The relay binary serves the demo app and the npm package, refuses traversal, answers
//! /healthz, prints its listen line, and exits on SIGTERM and on stdin close.

mod common;

use std::time::Duration;

use common::*;

fn tree() -> (std::path::PathBuf, std::path::PathBuf, TempTree) {
    let base = temp_tree(&[
        ("secret.txt", b"TOP SECRET"),
        ("www/index.html", b"<!doctype html><title>demo</title>"),
        ("www/app.mjs", b"export {}"),
        ("www/style.css", b"body{}"),
        ("www/logo.svg", b"<svg/>"),
        ("www/img.png", b"\x89PNG"),
        ("www/sub/index.html", b"sub index"),
        ("www/.hidden", b"hidden"),
        ("pkg/teleconsult.js", b"export default 1"),
        ("pkg/teleconsult_bg.wasm", b"\0asm\x01\0\0\0"),
        ("pkg/teleconsult.d.ts", b"export {}"),
        ("pkg/package.json", b"{}"),
    ]);
    (base.join("www"), base.join("pkg"), base)
}

#[tokio::test]
async fn serves_www_and_pkg_with_content_types() {
    let (www, pkg, _base) = tree();
    let relay = RelayProc::start(&["--www", path_str(&www), "--pkg", path_str(&pkg)]);
    let a = relay.addr;

    let r = get(a, "/healthz").await;
    assert_eq!((r.status, r.text().as_str()), (200, "ok"));

    let r = get(a, "/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(r.text().contains("demo"));

    for (path, ctype) in [
        ("/app.mjs", "text/javascript; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
        ("/logo.svg", "image/svg+xml"),
        ("/img.png", "image/png"),
        ("/pkg/teleconsult.js", "text/javascript; charset=utf-8"),
        ("/pkg/teleconsult_bg.wasm", "application/wasm"),
        (
            "/pkg/teleconsult.d.ts",
            "application/typescript; charset=utf-8",
        ),
        ("/pkg/package.json", "application/json"),
    ] {
        let r = get(a, path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some(ctype), "{path}");
    }
    assert_eq!(
        get(a, "/pkg/teleconsult_bg.wasm").await.body,
        b"\0asm\x01\0\0\0"
    );
    assert_eq!(get(a, "/sub/").await.text(), "sub index");
    assert_eq!(get(a, "/missing.js").await.status, 404);
    let head = http(a, "HEAD", "/app.mjs", None).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn directory_traversal_is_refused() {
    let (www, pkg, _base) = tree();
    let relay = RelayProc::start(&["--www", path_str(&www), "--pkg", path_str(&pkg)]);
    let a = relay.addr;
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/pkg/../secret.txt",
        "/pkg/%2e%2e/www/index.html",
        "/pkg/..%2f..%2fsecret.txt",
        "/sub/../../secret.txt",
        "/..%5csecret.txt",
        "/.hidden",
        "//etc/passwd",
        "/%00",
    ] {
        let r = get(a, path).await;
        assert!(
            r.status == 404 || r.status == 400,
            "{path} gave {}",
            r.status
        );
        assert!(!r.text().contains("TOP SECRET"), "{path} leaked");
        assert!(
            !r.text().contains("export default"),
            "{path} crossed mounts"
        );
    }
}

#[tokio::test]
async fn nothing_is_served_without_directories() {
    let relay = RelayProc::start(&[]);
    assert_eq!(get(relay.addr, "/").await.status, 404);
    assert_eq!(get(relay.addr, "/pkg/x.js").await.status, 404);
    assert_eq!(get(relay.addr, "/healthz").await.status, 200);
}

#[test]
fn exits_when_stdin_closes() {
    let mut relay = RelayProc::start(&[]);
    drop(relay.child.stdin.take());
    let status = relay
        .wait_exit(Duration::from_secs(10))
        .expect("relay still running after stdin closed");
    assert!(status.success());
}

#[test]
fn exits_cleanly_on_sigterm_and_sigint() {
    for sig in ["-TERM", "-INT"] {
        let mut relay = RelayProc::start(&[]);
        let ok = std::process::Command::new("kill")
            .args([sig, &relay.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let status = relay
            .wait_exit(Duration::from_secs(10))
            .expect("relay still running after signal");
        assert!(status.success(), "{sig}: {status:?}");
    }
}

#[test]
fn listen_and_directories_come_from_environment() {
    let (www, _pkg, _base) = tree();
    let relay = RelayProc::start_env(&[], &[("TELECONSULT_RELAY_WWW", path_str(&www))]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(get(relay.addr, "/app.mjs")).status, 200);
}
