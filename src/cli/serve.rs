//! `tokenbench serve`: build the app, bind, print `listening on URL` as the first line of
//! stdout, serve until SIGINT or SIGTERM. Flags that make no sense exit with status 2; a
//! server that cannot be built (a store that does not answer, a key file refused) with 1.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use tokenbench::http::app::App;
use tokenbench::http::args::ServeArgs;
use tokenbench::http::serve;

/// Runs the server described by `args` until a signal stops it.
pub fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let config = match args.config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tokenbench: error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let threads = args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        |t| t as usize,
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .max_blocking_threads(64)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let app = App::new(config).context("building the server")?;
    let (listen, tls) = (args.listen, args.tls);
    runtime.block_on(async move {
        let server = serve::start(app, listen, tls).await?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", server.url())?;
        out.flush()?;
        drop(out);
        wait_for_signal().await;
        server.shutdown().await;
        anyhow::Ok(())
    })?;
    // Connections still open get a moment, then the runtime (and the app, whose store of
    // its own deletes its records on drop; a site's are kept) goes away.
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
