//! Shared helpers: start the demo on an ephemeral port, a minimal raw
//! HTTP/1.1 client (raw bytes, so malformed headers can be sent), token
//! minting.
#![allow(dead_code)]

use std::net::SocketAddr;

use authstate_axum::demo::{DemoConfig, ISSUER, serve};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const SECRET: &[u8] = b"test-secret-of-at-least-thirty-two-bytes!";
pub const REALM: &str = "authstate-demo";

/// Returns true (and prints why) when the workspace is built with a model
/// checker: real threads and Tokio cannot use its primitives.
pub fn skip_under_model_checker() -> bool {
    if let Some(checker) = authstate::sync::MODEL_CHECKER {
        eprintln!("skipping: built with the {checker} model checker");
        return true;
    }
    false
}

pub async fn start() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        serve(listener, DemoConfig::new(SECRET.to_vec()))
            .await
            .expect("serve");
    });
    addr
}

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn challenge(&self) -> &str {
        self.header("www-authenticate").unwrap_or("<none>")
    }
}

/// Sends a raw request. `headers` are raw header lines (without CRLF).
pub async fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[Vec<u8>],
    body: Option<&[u8]>,
) -> Resp {
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n").into_bytes();
    for h in headers {
        req.extend_from_slice(h);
        req.extend_from_slice(b"\r\n");
    }
    let body = body.unwrap_or(b"");
    req.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    req.extend_from_slice(body);
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(&req).await.expect("write");
    let mut buf = Vec::new();
    // The server may close early (e.g. 431); read what arrived.
    let _ = stream.read_to_end(&mut buf).await;
    parse(&buf)
}

/// Parses a raw HTTP/1.1 response (fixed length or chunked body).
pub fn parse(buf: &[u8]) -> Resp {
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(buf)));
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = buf[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(pos) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..pos]).trim(), 16)
                .unwrap_or(0);
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[pos + 2..pos + 2 + size]);
            rest = &rest[pos + 2 + size + 2..];
        }
        body = out;
    }
    Resp {
        status,
        headers,
        body,
    }
}

pub fn bearer(token: &str) -> Vec<u8> {
    format!("Authorization: Bearer {token}").into_bytes()
}

const JSON: &[u8] = b"Content-Type: application/json";

pub async fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> Resp {
    let headers: Vec<Vec<u8>> = token.map(bearer).into_iter().collect();
    raw(addr, "GET", path, &headers, None).await
}

pub async fn post(addr: SocketAddr, path: &str, token: Option<&str>, body: Option<Value>) -> Resp {
    let mut headers: Vec<Vec<u8>> = token.map(bearer).into_iter().collect();
    let body = body.map(|b| b.to_string().into_bytes());
    if body.is_some() {
        headers.push(JSON.to_vec());
    }
    raw(addr, "POST", path, &headers, body.as_deref()).await
}

pub struct Pair {
    pub access: String,
    pub refresh: String,
}

pub async fn login(addr: SocketAddr, user: &str) -> Pair {
    let r = post(
        addr,
        "/login",
        None,
        Some(json!({"username": user, "password": "demo"})),
    )
    .await;
    assert_eq!(
        r.status,
        200,
        "login {user}: {:?}",
        String::from_utf8_lossy(&r.body)
    );
    let v = r.json();
    Pair {
        access: v["access_token"].as_str().expect("access").to_owned(),
        refresh: v["refresh_token"].as_str().expect("refresh").to_owned(),
    }
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a JWT's payload (no verification).
pub fn payload(token: &str) -> Value {
    let p = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).expect("b64")).expect("json")
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Valid access-token claims for `sub` (admin, version 0, no family).
pub fn access_claims(sub: &str, role: &str) -> Value {
    let now = now();
    json!({
        "iss": ISSUER, "aud": ISSUER, "sub": sub, "jti": format!("forged-{now}-{sub}"),
        "iat": now, "exp": now + 300, "ver": 0, "role": role,
    })
}

pub fn header(alg: &str) -> Value {
    json!({"alg": alg, "typ": "at+jwt"})
}

/// HMAC-SHA signs `header.payload` with `secret` using jsonwebtoken's
/// encoder (for HS*), or assembles an unsigned token for `alg: none`.
pub fn sign(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let h = b64(header.to_string().as_bytes());
    let p = b64(claims.to_string().as_bytes());
    let input = format!("{h}.{p}");
    let alg = header["alg"].as_str().unwrap_or("");
    let sig = match alg {
        "HS256" | "HS384" | "HS512" => {
            let alg: jsonwebtoken::Algorithm = alg.parse().expect("alg");
            let key = jsonwebtoken::EncodingKey::from_secret(secret).expect("key");
            jsonwebtoken::crypto::sign(input.as_bytes(), &key, alg).expect("sign")
        }
        _ => String::new(),
    };
    format!("{input}.{sig}")
}

pub fn invalid_token(desc: &str) -> String {
    format!("Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{desc}\"")
}
