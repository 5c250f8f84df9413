//! Real `caly` processes (workers for fault tests, operator commands) configured like the
//! test's own app.

use super::TestApp;
use caly_core::platform::settings::StorageSettings;
use secrecy::ExposeSecret;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running `caly worker` with its log file.
pub struct WorkerProcess {
    child: Child,
    log: PathBuf,
}

/// A `caly` command configured like the test's own app (database, queue, store, key, egress).
pub fn caly_command(app: &TestApp) -> Command {
    let settings = &app.app.settings;
    let mut command = Command::new(env!("CARGO_BIN_EXE_caly"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", settings.database_url.expose_secret())
        .env("CALY_QUEUE_NAMESPACE", &settings.queue_namespace)
        .env(
            "CALY_QUEUE_DEPTH_BOUND",
            settings.queue_depth_bound.to_string(),
        )
        .env("CALY_MASTER_KEY", app.app.key.to_base64())
        .env("CALY_RECORDING_HOSTS", "127.0.0.1")
        .env("CALY_EGRESS_ALLOW_LOOPBACK", "true")
        .env(
            "CALY_EXOTEL_API_HOSTS",
            format!("in={0},sg={0}", app.exotel.base),
        )
        .env("CALY_RETRY_BASE_MS", "0")
        .env("CALY_RETRY_MAX_MS", "0")
        .env("CALY_MAX_ATTEMPTS", "3")
        .env("CALY_DATA_DIR", app.data_dir());
    if settings.db.pooler == caly_core::platform::pools::Pooler::Transaction {
        command.env("CALY_DB_POOLER", "transaction");
    }
    if let Some(redis) = &settings.redis_url {
        command.env("REDIS_URL", redis.expose_secret());
    }
    if let StorageSettings::S3(s3) = &settings.storage {
        command
            .env("S3_BUCKET", &s3.bucket)
            .env("S3_ENDPOINT", s3.endpoint.as_deref().unwrap_or_default())
            .env("S3_ACCESS_KEY_ID", &s3.access_key_id)
            .env("S3_SECRET_ACCESS_KEY", s3.secret_access_key.expose_secret())
            .env("S3_REGION", &s3.region);
    }
    command
}

/// Runs `caly <args>` against this test's deployment; returns (success, stdout + stderr). It does
/// not block the test's runtime, so the running Caly (its workers, its API) keeps going while
/// the command runs, as it would in production.
pub async fn run_caly(app: &TestApp, args: &[&str]) -> (bool, String) {
    let mut command = caly_command(app);
    command
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    let output = tokio::process::Command::from(command)
        .output()
        .await
        .expect("caly runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

impl WorkerProcess {
    /// Starts `caly worker` on every queue with a lease of `lease_secs`.
    pub fn spawn(app: &TestApp, name: &str, lease_secs: u64) -> WorkerProcess {
        let lease = lease_secs.to_string();
        Self::start(
            app,
            name,
            &["worker", "--concurrency", "4"],
            &[("CALY_LEASE_SECS", &lease)],
        )
    }

    /// Starts `caly <args>` (a worker, the api, the scheduler) with `env` on top of the test's
    /// configuration, logging to `<name>.log` in the test's folder.
    pub fn start(app: &TestApp, name: &str, args: &[&str], env: &[(&str, &str)]) -> WorkerProcess {
        let log = app.data_dir().join(format!("{name}.log"));
        let mut command = caly_command(app);
        command
            .args(args)
            .env(
                "RUST_LOG",
                std::env::var("CALY_TEST_WORKER_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::options().append(true).open(&log).unwrap());
        for (name, value) in env {
            command.env(name, value);
        }
        WorkerProcess {
            child: command.spawn().expect("caly starts"),
            log,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// SIGKILL: the process dies at once, mid-work.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM: a graceful stop.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit (up to 60 s).
    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "worker did not exit:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the process logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log contains `text` (up to 60 s).
    pub async fn wait_for_log(&self, text: &str) {
        wait_until(&format!("log line '{text}'"), || async {
            self.log_text().contains(text)
        })
        .await;
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        if std::env::var("CALY_TEST_DUMP_LOGS").is_ok() {
            eprintln!(
                "--- worker log {} ---\n{}",
                self.log.display(),
                self.log_text()
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `condition` until it holds (up to 60 s). For conditions driven by other processes.
pub async fn wait_until<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
