//! The relay connection: a WebSocket carrying relay_wire frames, and the development-token
//! request of a `--dev` relay.

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Largest development-token response read.
const MAX_RESPONSE: usize = 16 * 1024;

/// The WebSocket to the relay.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens the WebSocket. The relay speaks binary messages only.
pub async fn connect(ws_url: &str) -> Result<Socket, String> {
    let (socket, _response) = tokio_tungstenite::connect_async(ws_url)
        .await
        .map_err(|e| format!("cannot connect to the relay: {e}"))?;
    Ok(socket)
}

/// What the socket produced.
#[derive(Debug)]
pub enum Incoming {
    /// A binary message (a relay_wire server message).
    Binary(Vec<u8>),
    /// Something to ignore (ping, pong, text).
    Other,
    /// The connection closed or failed.
    Closed,
}

/// Reads the next message.
pub async fn next(socket: &mut Socket) -> Incoming {
    match socket.next().await {
        Some(Ok(Message::Binary(b))) => Incoming::Binary(b.to_vec()),
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => Incoming::Closed,
        Some(Ok(_)) => Incoming::Other,
    }
}

/// Sends one binary message.
pub async fn send(socket: &mut Socket, bytes: Vec<u8>) -> Result<(), String> {
    socket
        .send(Message::Binary(bytes.into()))
        .await
        .map_err(|e| format!("relay send failed: {e}"))
}

/// Asks a `--dev` relay for a join token: `POST /dev/token {"room", "role", "ttl"}`.
/// Plain HTTP/1.1 over TCP, because the dev endpoint only answers loopback callers.
pub async fn dev_mint(http_base: &str, room: &str, role: &str) -> Result<String, String> {
    let authority = http_base
        .strip_prefix("http://")
        .ok_or("--dev-mint needs an http:// (or ws://) relay URL")?;
    let body = serde_json::json!({ "room": room, "role": role, "ttl": "1h" }).to_string();
    let request = format!(
        "POST /dev/token HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut tcp = TcpStream::connect(authority)
        .await
        .map_err(|e| format!("cannot reach the relay for a dev token: {e}"))?;
    tcp.write_all(request.as_bytes())
        .await
        .map_err(|e| format!("dev token request failed: {e}"))?;
    let mut response = Vec::new();
    tcp.take(MAX_RESPONSE as u64)
        .read_to_end(&mut response)
        .await
        .map_err(|e| format!("dev token response failed: {e}"))?;
    parse_token_response(&response)
}

/// Extracts `token` from a `200` JSON response.
fn parse_token_response(response: &[u8]) -> Result<String, String> {
    let text = String::from_utf8_lossy(response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or("malformed dev token response")?;
    let status = head.lines().next().unwrap_or("");
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!(
            "the relay refused a dev token ({status}); is it running with --dev?"
        ));
    }
    let json: serde_json::Value =
        serde_json::from_str(body.trim()).map_err(|_| "dev token response is not JSON")?;
    json.get("token")
        .and_then(|t| t.as_str())
        .map(str::to_owned)
        .ok_or_else(|| "dev token response has no token".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_responses_parse_or_explain() {
        let ok = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{\"token\":\"v1.a.b\",\"room\":\"r\"}";
        assert_eq!(parse_token_response(ok).unwrap(), "v1.a.b");
        let refused = b"HTTP/1.1 404 Not Found\r\n\r\n";
        assert!(parse_token_response(refused).unwrap_err().contains("--dev"));
        assert!(parse_token_response(b"garbage").is_err());
        assert!(parse_token_response(b"HTTP/1.1 200 OK\r\n\r\n{}").is_err());
        assert!(parse_token_response(b"HTTP/1.1 200 OK\r\n\r\n[1").is_err());
    }
}
