//! The authstate demo service.
//!
//! ```text
//! cargo run --release -p authstate-axum --example demo [-- --addr 127.0.0.1:3000]
//! ```
//!
//! Address: `--addr`, else `DEMO_ADDR`, else `127.0.0.1:3000`. Secret:
//! `DEMO_JWT_SECRET` (at least 32 bytes), else the documented development
//! default [`authstate_axum::demo::DEV_SECRET`] with a warning.

use authstate_axum::demo::{DEV_SECRET, DemoConfig, serve};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let mut args = std::env::args().skip(1);
    let mut addr = std::env::var("DEMO_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().ok_or("--addr needs a value")?,
            other => match other.strip_prefix("--addr=") {
                Some(value) => addr = value.to_owned(),
                None => {
                    return Err(format!(
                        "unknown argument {other:?} (usage: demo [--addr HOST:PORT])"
                    )
                    .into());
                }
            },
        }
    }

    let secret = match std::env::var("DEMO_JWT_SECRET") {
        Ok(s) => s.into_bytes(),
        Err(_) => {
            eprintln!(
                "WARNING: DEMO_JWT_SECRET is not set; using the public development secret. \
                 Anyone can forge tokens for this instance."
            );
            tracing::warn!("using the development JWT secret");
            DEV_SECRET.as_bytes().to_vec()
        }
    };

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!(
        "authstate demo listening on http://{}",
        listener.local_addr()?
    );
    serve(listener, DemoConfig::new(secret)).await?;
    Ok(())
}
