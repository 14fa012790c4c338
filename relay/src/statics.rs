//! Static files for the demo: the web app at `/` and the npm package at `/pkg/`.
//!
//! Hand-written instead of tower-http's `ServeDir` to keep the dependency tree small and
//! the path rules in one visible place: a request path is percent-decoded, split into
//! segments, and refused if any segment is empty, `.`/`..`, hidden (leading dot) or holds a
//! backslash or NUL; the resolved file must then still lie under the canonical root
//! (which also refuses symlinks that point outside it).

use std::path::{Path, PathBuf};

/// The content type for a file name, by extension.
pub fn content_type(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".d.ts") || lower.ends_with(".ts") {
        return "application/typescript; charset=utf-8";
    }
    match lower.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs" | "cjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("ico") => "image/x-icon",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        Some("webmanifest") => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes a URL path; `None` for a bad escape or invalid UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hi = hex(*b.get(i + 1)?)?;
            let lo = hex(*b.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Turns the part of a URL path below a mount point into safe relative segments, or `None`
/// when it tries to leave the root. An empty path (or trailing slash) means the directory.
pub fn safe_relative(raw: &str) -> Option<PathBuf> {
    let decoded = percent_decode(raw)?;
    let mut rel = PathBuf::new();
    let trimmed = decoded.strip_suffix('/').unwrap_or(&decoded);
    if trimmed.is_empty() {
        return Some(rel);
    }
    for seg in trimmed.split('/') {
        if seg.is_empty()
            || seg.starts_with('.')
            || seg.contains('\\')
            || seg.contains('\0')
            || seg.contains(':')
        {
            return None;
        }
        rel.push(seg);
    }
    Some(rel)
}

/// A file found under a root: its bytes and content type.
pub struct StaticFile {
    /// File contents.
    pub body: Vec<u8>,
    /// MIME type for `Content-Type`.
    pub content_type: &'static str,
}

/// Resolves `raw` (URL path below the mount point, still percent-encoded) under `root`;
/// directories serve their `index.html`. `None` means 404 (including refused paths).
pub async fn load(root: &Path, raw: &str) -> Option<StaticFile> {
    let rel = safe_relative(raw)?;
    let root = tokio::fs::canonicalize(root).await.ok()?;
    let mut path = tokio::fs::canonicalize(root.join(&rel)).await.ok()?;
    if !path.starts_with(&root) {
        return None;
    }
    if tokio::fs::metadata(&path).await.ok()?.is_dir() {
        path = tokio::fs::canonicalize(path.join("index.html"))
            .await
            .ok()?;
        if !path.starts_with(&root) {
            return None;
        }
    }
    let meta = tokio::fs::metadata(&path).await.ok()?;
    if !meta.is_file() {
        return None;
    }
    let name = path.file_name()?.to_str()?.to_owned();
    let body = tokio::fs::read(&path).await.ok()?;
    Some(StaticFile {
        body,
        content_type: content_type(&name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_hidden_paths_are_refused() {
        for bad in [
            "..",
            "../etc/passwd",
            "a/../../b",
            "%2e%2e/x",
            "%2E%2E%2Fx",
            "a/./b",
            ".git/config",
            "a//b",
            "a\\..\\b",
            "a%00b",
            "%zz",
            "C:/x",
        ] {
            assert_eq!(safe_relative(bad), None, "{bad}");
        }
        assert_eq!(safe_relative("a/b.js"), Some(PathBuf::from("a/b.js")));
        assert_eq!(safe_relative(""), Some(PathBuf::new()));
        assert_eq!(safe_relative("dir/"), Some(PathBuf::from("dir")));
        assert_eq!(
            safe_relative("with%20space.html"),
            Some(PathBuf::from("with space.html"))
        );
    }

    #[test]
    fn content_types_follow_extensions() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("a.mjs"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("a.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("teleconsult_bg.wasm"), "application/wasm");
        assert_eq!(
            content_type("teleconsult.d.ts"),
            "application/typescript; charset=utf-8"
        );
        assert_eq!(content_type("package.json"), "application/json");
        assert_eq!(content_type("x.svg"), "image/svg+xml");
        assert_eq!(content_type("x.png"), "image/png");
        assert_eq!(content_type("x.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("blob"), "application/octet-stream");
    }
}
