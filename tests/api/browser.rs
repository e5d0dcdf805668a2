//! A real browser for the pages: headless Chromium driven by chromedriver over the W3C
//! WebDriver protocol (plain HTTP, so no client crate is needed). `.ci/run` installs
//! Debian's `chromium` and `chromium-driver`; on a machine without them the browser tests
//! say so and pass, except under CI (`CI=true`), where a missing browser fails them.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session, or `None` (outside CI) when the
    /// browser is not installed.
    pub async fn start() -> Option<Browser> {
        let installed =
            std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
        if !installed {
            assert!(
                std::env::var("CI").is_err(),
                "CI must have {CHROMIUM} and {CHROMEDRIVER} (installed by .ci/run)"
            );
            eprintln!("skipping browser test: {CHROMIUM} or {CHROMEDRIVER} missing (run .ci/run to install them)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap().keep();
        // Flags from this machine's notes: no background networking (the network is closed).
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--window-size=412,915", "--lang=vi", format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            http,
        };
        let created = browser.call("POST", "/session", Some(capabilities)).await;
        browser.session = created["sessionId"]
            .as_str()
            .expect("a WebDriver session")
            .to_owned();
        Some(browser)
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body.unwrap_or_else(|| json!({}))),
        };
        let response: Value = request
            .send()
            .await
            .expect("WebDriver")
            .json()
            .await
            .expect("WebDriver JSON");
        response["value"].clone()
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    pub async fn open(&self, url: &str) {
        self.call(
            "POST",
            &self.session_path("/url"),
            Some(json!({"url": url})),
        )
        .await;
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .call(
                "POST",
                &self.session_path("/element"),
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call(
            "POST",
            &self.session_path(&format!("/element/{id}/clear")),
            None,
        )
        .await;
        self.call(
            "POST",
            &self.session_path(&format!("/element/{id}/value")),
            Some(json!({"text": text})),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.call(
            "POST",
            &self.session_path(&format!("/element/{id}/click")),
            None,
        )
        .await;
    }

    pub async fn text(&self, css: &str) -> String {
        let id = self.element(css).await;
        self.call(
            "GET",
            &self.session_path(&format!("/element/{id}/text")),
            None,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Runs a script in the page (WebDriver "execute sync") and returns its result.
    pub async fn execute(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            &self.session_path("/execute/sync"),
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// Waits (up to 10 s) until the script's result satisfies `done`, and returns it.
    pub async fn wait_for(
        &self,
        script: &str,
        args: Value,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let mut seen = Value::Null;
        for _ in 0..200 {
            seen = self.execute(script, args.clone()).await;
            if done(&seen) {
                return seen;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the page never showed what was expected; last seen: {seen}");
    }

    /// Sets a form control's value as a user would and fires its `change` event.
    pub async fn choose(&self, css: &str, value: &str) {
        self.execute(
            "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
             e.dispatchEvent(new Event('change', {bubbles: true}));",
            json!([css, value]),
        )
        .await;
    }

    /// Cuts the page off the network or gives it back, as DevTools' network emulation does
    /// (`navigator.onLine` and the `online`/`offline` events follow).
    pub async fn set_offline(&self, offline: bool) {
        self.cdp(
            "Network.emulateNetworkConditions",
            json!({"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
        )
        .await;
    }

    /// Runs a DevTools protocol command on the page (network and time-zone emulation).
    pub async fn cdp(&self, command: &str, params: Value) {
        self.call(
            "POST",
            &self.session_path("/goog/cdp/execute"),
            Some(json!({"cmd": command, "params": params})),
        )
        .await;
    }

    /// Reloads the page (the browser's reload button).
    pub async fn reload(&self) {
        self.call("POST", &self.session_path("/refresh"), None)
            .await;
    }

    /// Sets the window's size in CSS pixels.
    pub async fn resize(&self, width: u32, height: u32) {
        self.call(
            "POST",
            &self.session_path("/window/rect"),
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// Waits (up to `seconds`) until an element matching `css` exists.
    pub async fn wait_for_element(&self, css: &str, seconds: u64) {
        let script = "return !!document.querySelector(arguments[0]);";
        for _ in 0..seconds * 10 {
            if self.execute(script, json!([css])).await == Value::Bool(true) {
                return;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        let body = self
            .execute("return document.body.innerText;", json!([]))
            .await;
        panic!("{css} never appeared; the page shows: {body}");
    }

    /// Saves a PNG of the page when `EID_SCREENSHOT_DIR` is set (for a human to look at).
    pub async fn screenshot(&self, name: &str) {
        let Ok(dir) = std::env::var("EID_SCREENSHOT_DIR") else {
            return;
        };
        use base64::Engine;
        let encoded = self
            .call("GET", &self.session_path("/screenshot"), None)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }

    /// Waits (up to 10 s) until the element's text satisfies `done`, and returns it; the
    /// last text seen is in the panic message otherwise.
    pub async fn wait_for_text(&self, css: &str, done: impl Fn(&str) -> bool) -> String {
        let mut text = String::new();
        for _ in 0..200 {
            text = self.text(css).await;
            if done(&text) {
                return text;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{css} never showed what was expected; last text: {text:?}");
    }
}

impl Drop for Browser {
    /// Ends the WebDriver session first, so that chromedriver closes Chromium: killing only
    /// the driver leaves the browser running (hundreds of them after a few suites, and a
    /// machine too loaded for the tests). A plain blocking HTTP request, as `drop` cannot
    /// await.
    fn drop(&mut self) {
        use std::io::{Read, Write};
        let address = self.base.trim_start_matches("http://").to_owned();
        if let Ok(mut stream) = std::net::TcpStream::connect(&address) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let request = format!(
                "DELETE /session/{} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                self.session
            );
            if stream.write_all(request.as_bytes()).is_ok() {
                let mut answer = Vec::new();
                let _ = stream.read_to_end(&mut answer);
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
