//! A real headless Chromium, driven over the Chrome DevTools Protocol. One browser serves every
//! test: the test script starts it (`--remote-debugging-port`, `CALY_TEST_CHROMIUM`, default
//! `http://127.0.0.1:9222`) and each test opens its own browser context — its own cookies and
//! storage — with one tab. Clicks and typing are real input events; waits poll a condition in
//! the page (never a fixed sleep) and fail with what they waited for. Screenshots go to
//! `target/tmp/screenshots/`.

use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// How long a wait or a command may take.
const PATIENCE: Duration = Duration::from_secs(30);

/// Where screenshots are saved.
pub fn screenshot_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_TARGET_TMPDIR"), "/screenshots"))
}

/// A connection to the shared browser.
struct Connection {
    outbox: mpsc::UnboundedSender<String>,
    pending: Pending,
    next_id: AtomicU64,
}

impl Connection {
    async fn open() -> Arc<Connection> {
        let base =
            std::env::var("CALY_TEST_CHROMIUM").unwrap_or_else(|_| "http://127.0.0.1:9222".into());
        let version: Value = reqwest::get(format!("{base}/json/version"))
            .await
            .unwrap_or_else(|e| {
                panic!("no Chromium at {base} ({e}); start it as scripts/test.sh does")
            })
            .json()
            .await
            .expect("Chromium's /json/version");
        let url = version["webSocketDebuggerUrl"]
            .as_str()
            .expect("webSocketDebuggerUrl");
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("CDP websocket");
        let (mut sink, mut stream) = socket.split();
        let (outbox, mut queue) = mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            while let Some(text) = queue.recv().await {
                if sink.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
        });
        let pending: Pending = Arc::default();
        let answers = pending.clone();
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let Ok(text) = message.to_text() else {
                    continue;
                };
                let Ok(value) = serde_json::from_str::<Value>(text) else {
                    continue;
                };
                if let Some(id) = value["id"].as_u64()
                    && let Some(waiting) = answers.lock().await.remove(&id)
                {
                    let _ = waiting.send(value);
                }
            }
        });
        Arc::new(Connection {
            outbox,
            pending,
            next_id: AtomicU64::new(1),
        })
    }

    async fn send(
        &self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> Result<Value, String> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let (tx, rx) = oneshot::channel();
        self.pending.lock().await.insert(id, tx);
        self.outbox
            .send(message.to_string())
            .map_err(|e| e.to_string())?;
        let answer = tokio::time::timeout(PATIENCE, rx)
            .await
            .map_err(|_| format!("{method}: no answer in {PATIENCE:?}"))?
            .map_err(|e| e.to_string())?;
        match answer.get("error") {
            Some(error) => Err(format!("{method}: {error}")),
            None => Ok(answer["result"].clone()),
        }
    }
}

/// A tab in its own browser context (a fresh profile: no cookies).
pub struct Tab {
    connection: Arc<Connection>,
    session: String,
    context: String,
    /// The api's base URL the tab visits.
    pub base: String,
}

impl Tab {
    /// Opens a tab of the shared browser for the api at `base`, at desktop size.
    pub async fn open(base: &str) -> Tab {
        let connection = Connection::open().await;
        let context = connection
            .send(
                "Target.createBrowserContext",
                json!({"disposeOnDetach": true}),
                None,
            )
            .await
            .expect("browser context")["browserContextId"]
            .as_str()
            .unwrap()
            .to_string();
        let target = connection
            .send(
                "Target.createTarget",
                json!({"url": "about:blank", "browserContextId": context}),
                None,
            )
            .await
            .expect("tab")["targetId"]
            .as_str()
            .unwrap()
            .to_string();
        let session = connection
            .send(
                "Target.attachToTarget",
                json!({"targetId": target, "flatten": true}),
                None,
            )
            .await
            .expect("attach")["sessionId"]
            .as_str()
            .unwrap()
            .to_string();
        let tab = Tab {
            connection,
            session,
            context,
            base: base.to_string(),
        };
        tab.cdp("Page.enable", json!({})).await;
        // A person confirming each "Are you sure?" (the dialog would block the page).
        tab.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": "window.confirm = function () { return true; };"}),
        )
        .await;
        tab.viewport(1280, 900, false).await;
        tab
    }

    /// Sends a DevTools command to the tab and returns its result.
    pub async fn cdp(&self, method: &str, params: Value) -> Value {
        self.connection
            .send(method, params, Some(&self.session))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Sets the window size; `mobile` also emulates a phone (touch, device scale 2).
    pub async fn viewport(&self, width: u32, height: u32, mobile: bool) {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": if mobile { 2 } else { 1 }, "mobile": mobile}),
        )
        .await;
    }

    /// Evaluates JavaScript (promises awaited) and returns its value.
    pub async fn eval(&self, script: &str) -> Value {
        let answer = self
            .cdp(
                "Runtime.evaluate",
                json!({"expression": script, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        if let Some(error) = answer.get("exceptionDetails") {
            panic!("script failed: {script}\n{error}");
        }
        answer["result"]["value"].clone()
    }

    /// Waits until `condition` (JavaScript) is truthy.
    pub async fn wait_for(&self, condition: &str, what: &str) {
        let started = Instant::now();
        loop {
            let answer = self
                .connection
                .send(
                    "Runtime.evaluate",
                    json!({"expression": format!("!!({condition})"), "returnByValue": true}),
                    Some(&self.session),
                )
                .await;
            if let Ok(answer) = answer
                && answer["result"]["value"] == json!(true)
            {
                return;
            }
            if started.elapsed() > PATIENCE {
                let text = self
                    .eval("document.body ? document.body.innerText.slice(0, 2000) : ''")
                    .await;
                panic!(
                    "waited {PATIENCE:?} for {what}; at {} the page says:\n{}",
                    self.url().await,
                    text.as_str().unwrap_or("")
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Opens `path` (on the api) and waits for it to load.
    pub async fn goto(&self, path: &str) {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        self.cdp("Page.navigate", json!({"url": url})).await;
        self.loaded().await;
    }

    /// Waits for the current document to finish loading (and its script to run).
    pub async fn loaded(&self) {
        self.wait_for("document.readyState === 'complete'", "the page to load")
            .await;
    }

    /// The tab's address.
    pub async fn url(&self) -> String {
        self.eval("location.href")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits until the address's path (and query) is `path`.
    pub async fn wait_path(&self, path: &str) {
        let condition = format!("location.pathname + location.search === {}", json!(path));
        self.wait_for(&condition, &format!("the address to become {path}"))
            .await;
        self.loaded().await;
    }

    /// The visible text of the first element matching `selector`.
    pub async fn text(&self, selector: &str) -> String {
        self.wait_for(
            &format!("document.querySelector({})", json!(selector)),
            selector,
        )
        .await;
        let script = format!("document.querySelector({}).innerText", json!(selector));
        self.eval(&script)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// How many elements match `selector`.
    pub async fn count(&self, selector: &str) -> u64 {
        let script = format!("document.querySelectorAll({}).length", json!(selector));
        self.eval(&script).await.as_u64().unwrap_or(0)
    }

    /// Clicks the element matching `selector` with real mouse events at its centre.
    pub async fn click(&self, selector: &str) {
        let sel = json!(selector);
        self.wait_for(
            &format!("(function(){{var e=document.querySelector({sel}); if(!e) return false; e.scrollIntoView({{block:'center'}}); var r=e.getBoundingClientRect(); return r.width>0 && r.height>0;}})()"),
            &format!("{selector} to be visible"),
        )
        .await;
        let rect = self
            .eval(&format!("(function(){{var r=document.querySelector({sel}).getBoundingClientRect(); return [r.x + r.width/2, r.y + r.height/2];}})()"))
            .await;
        let (x, y) = (rect[0].as_f64().unwrap(), rect[1].as_f64().unwrap());
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.cdp(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            )
            .await;
        }
    }

    /// Types `text` into the field matching `selector` (emptied first), as keyboard input.
    pub async fn fill(&self, selector: &str, text: &str) {
        self.click(selector).await;
        self.eval(&format!("(function(){{var e=document.querySelector({}); e.focus(); e.select && e.select(); e.value='';}})()", json!(selector)))
            .await;
        self.cdp("Input.insertText", json!({"text": text})).await;
        // Leaving the field runs its inline check, as a person tabbing on would.
        self.eval(&format!(
            "document.querySelector({}).dispatchEvent(new Event('change', {{bubbles: true}}))",
            json!(selector)
        ))
        .await;
    }

    /// Picks `value` in the select matching `selector`.
    pub async fn choose(&self, selector: &str, value: &str) {
        self.wait_for(
            &format!("document.querySelector({})", json!(selector)),
            selector,
        )
        .await;
        self.eval(&format!(
            "(function(){{var e=document.querySelector({}); e.value={}; e.dispatchEvent(new Event('change', {{bubbles: true}}));}})()",
            json!(selector),
            json!(value)
        ))
        .await;
    }

    /// Saves a full-page screenshot as `name.png` and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let metrics = self.cdp("Page.getLayoutMetrics", json!({})).await;
        // The page's whole height at the window's width: a wider clip would lay the page out
        // again at that width (a phone's page would be shot as a desktop's).
        let width = &metrics["cssLayoutViewport"]["clientWidth"];
        let height = &metrics["cssContentSize"]["height"];
        let shot = self
            .cdp(
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": true, "clip": {
                    "x": 0, "y": 0, "width": width, "height": height, "scale": 1}}),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("base64 screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Closes the tab's browser context (its cookies go with it).
    pub async fn close(self) {
        let _ = self
            .connection
            .send(
                "Target.disposeBrowserContext",
                json!({"browserContextId": self.context}),
                None,
            )
            .await;
    }
}
