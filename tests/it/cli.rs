//! The `caly` binary's administration commands on the embedded default.

use std::process::Command;

fn caly(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_caly"))
        .args(args)
        .env("CALY_DATA_DIR", dir)
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("S3_BUCKET")
        .env_remove("CALY_MASTER_KEY")
        .output()
        .expect("caly runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn tenants_are_created_listed_and_rotated_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = caly(dir.path(), &["migrate"]);
    assert!(ok, "{out}");
    let (ok, out) = caly(
        dir.path(),
        &[
            "tenant",
            "create",
            "--name",
            "Acme Shoes",
            "--exotel-sid",
            "acme1",
            "--exotel-key",
            "KEY123",
            "--exotel-token",
            "TOKEN456",
            "--exotel-subdomain",
            "api.in.exotel.com",
            "--rate-paise-per-min",
            "2500",
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("API key:   caly_key_"), "{out}");
    assert!(out.contains("/hooks/exotel/1/"), "{out}");
    assert!(
        !out.contains("TOKEN456"),
        "the Exotel token is never echoed"
    );
    let url_in = |text: &str| {
        text.lines()
            .find(|l| l.contains("/passthru"))
            .and_then(|l| l.split_whitespace().last())
            .unwrap()
            .to_string()
    };
    let old_url = url_in(&out);

    let (ok, out) = caly(dir.path(), &["tenant", "list"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("1\tAcme Shoes\texotel_sid=acme1\tbalance_paise=0"),
        "{out}"
    );

    let (ok, out) = caly(dir.path(), &["tenant", "rotate-secret", "--id", "1"]);
    assert!(ok, "{out}");
    let new_url = url_in(&out);
    assert!(
        new_url.starts_with("http://") && new_url != old_url,
        "{out}"
    );

    // The key file was generated, private, and secrets are sealed in the database.
    let key = dir.path().join("master.key");
    assert!(key.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let mut db = std::fs::read(dir.path().join("caly.db")).unwrap();
    db.extend(std::fs::read(dir.path().join("caly.db-wal")).unwrap_or_default());
    let db = String::from_utf8_lossy(&db);
    assert!(
        db.contains("Acme Shoes"),
        "the check reads the tenant's data"
    );
    assert!(!db.contains("TOKEN456") && !db.contains("KEY123"));

    let (ok, out) = caly(dir.path(), &["replay", "--call", "42", "--stage", "charge"]);
    assert!(!ok);
    assert!(out.contains("no such call"), "{out}");
    let (ok, out) = caly(
        dir.path(),
        &["replay", "--call", "1", "--stage", "transcode"],
    );
    assert!(!ok);
    assert!(out.contains("unknown stage"), "{out}");
}

/// Starts `caly run` on the embedded default in `dir`, waits (up to `wait`) until its output
/// says `until`, lets `visit` use it (its address and output so far), then stops it.
fn start_once(
    dir: &std::path::Path,
    until: &str,
    wait: std::time::Duration,
    visit: impl FnOnce(&str, &str),
) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.join(format!("run-{port}.log"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_caly"))
        .arg("run")
        .env("CALY_DATA_DIR", dir)
        .env("CALY_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("S3_BUCKET")
        .env_remove("CALY_MASTER_KEY")
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + wait;
    let out = loop {
        let out = std::fs::read_to_string(&log).unwrap_or_default();
        if out.contains(until) {
            break out;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "caly run did not say {until:?}: {out}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let visited = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        visit(&format!("http://127.0.0.1:{port}"), &out)
    }));
    child.kill().unwrap();
    child.wait().unwrap();
    if let Err(failed) = visited {
        std::panic::resume_unwind(failed);
    }
    out
}

/// Signs in to a running `caly run` as the demo owner and reads its pages: the calls, the
/// dashboard and billing show the demo data.
async fn the_demo_owner_sees_the_demo_data(base: &str, email: &str, password: &str) {
    let client = reqwest::Client::new();
    let signed_in = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200, "the printed demo login works");
    let session: serde_json::Value = signed_in.json().await.unwrap();
    let token = session["access_token"].as_str().unwrap();
    let page = |path: &str| {
        let request = client.get(format!("{base}{path}")).bearer_auth(token);
        let path = path.to_string();
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            response.text().await.unwrap()
        }
    };
    let count = |calls: String| -> u64 {
        calls
            .split("id=\"count-total\">")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .and_then(|n| n.replace(',', "").parse().ok())
            .expect("the call count")
    };
    let phone = count(page("/calls?channel=phone").await);
    assert_eq!(phone, 8, "the 8 simulated phone calls");
    let typed = count(page("/calls?channel=text").await);
    assert!(typed >= 1, "the typed conversations: {typed}");
    let dashboard = page("/").await;
    assert!(
        !dashboard.contains("id=\"empty-state\""),
        "the dashboard has numbers"
    );
    // The calls are charged by the pipeline's charge stage, after their end; the ledger on
    // /billing links each charge to its call.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let billing = page("/billing").await;
        if billing.matches("href=\"/calls/").count() >= 8 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no charges on /billing: {billing}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[test]
fn demo_credentials_are_printed_on_the_first_start_only() {
    let dir = tempfile::tempdir().unwrap();
    // The first start prints the login, then fills the demo store; its owner signs in to it.
    let demo_data = std::time::Duration::from_secs(180);
    let first = start_once(dir.path(), "demo data:", demo_data, |base, out| {
        assert!(out.contains("demo data: 8 phone calls"), "{out}");
        let login = |field: &str| {
            out.lines()
                .find_map(|l| l.trim().strip_prefix(field))
                .unwrap_or_else(|| panic!("{field} in {out}"))
                .trim()
                .to_string()
        };
        let (email, password) = (login("email:"), login("password:"));
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(the_demo_owner_sees_the_demo_data(base, &email, &password));
    });
    assert!(first.contains("API key:   caly_key_"), "{first}");
    assert!(first.contains("shown this once"), "{first}");
    let kept = dir.path().join("demo-tenant.json");
    let stored = std::fs::read_to_string(&kept).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kept).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let key = first
        .lines()
        .find_map(|l| l.trim().strip_prefix("API key:"))
        .unwrap()
        .trim();
    assert!(stored.contains(key));
    // The demo owner's web login, printed once and kept beside the key.
    let password = first
        .lines()
        .find_map(|l| l.trim().strip_prefix("password:"))
        .expect("the demo login's password")
        .trim();
    let demo: serde_json::Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(demo["login_password"], password);
    assert_eq!(demo["login_email"], "owner@demo.caly.local");
    assert!(first.contains("/login"), "{first}");

    let second = start_once(
        dir.path(),
        "try:",
        std::time::Duration::from_secs(60),
        |_, _| {},
    );
    assert!(
        !second.contains(key) && !second.contains("API key:") && !second.contains(password),
        "{second}"
    );
    assert!(second.contains("demo-tenant.json"), "{second}");

    // The ledger check agrees with every balance (the demo calls may have been charged while
    // the first start ran).
    let (ok, out) = caly(dir.path(), &["ledger", "check"]);
    assert!(ok, "{out}");
    assert!(out.lines().any(|l| l.ends_with("\tok")), "{out}");
}
