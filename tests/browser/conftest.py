"""Fixtures of the browser tests: local mode on a free port, a client of its API
and outbox, and headless Chromium (Debian's, with its chromedriver) on a
375 px wide phone screen with JavaScript off.

Run by `make test` (and alone by `make test-browser`). Environment:
  AGENDA_LOCAL_BIN   an agenda-local binary to use instead of building one
  AGENDA_CLOCK_START where local mode's clock starts (RFC 3339 with offset);
                     default: the practice's daytime, as the Rust scenarios do
                     (`make test-any-hour` runs these tests at five starts)
  CHROMIUM, CHROMEDRIVER   the browser and its driver (default: from PATH)
  BROWSER_ARTEFACTS  where screenshots go (default: tests/browser/artefacts)
"""

import base64
import contextlib
import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ARTEFACTS = Path(os.environ.get("BROWSER_ARTEFACTS", HERE / "artefacts"))

PHONE_WIDTH = 375
PHONE_HEIGHT = 812
PRACTITIONER = "dr-martin"
TOKEN = "local-dr-martin"
# Every wait on the server or the page gives up after this many seconds.
WAIT_SECONDS = 15
PARIS = ZoneInfo("Europe/Paris")


# --- the practice's clock -----------------------------------------------------


def practice_daytime(now):
    """Where the clock starts when the run names no start: the tests are
    written for the practice's working day, and at night (the demo's quiet
    hours are 21:00–08:00 in Paris) a cancellation SMS is held till morning
    (SPEC §4.4). So between 19:00 and 08:00 Paris time the clock starts at
    the last 18:00; by day at `now` (tests/support/lib.rs does the same)."""
    local = now.astimezone(PARIS)
    if 8 <= local.hour < 19:
        return now
    day = local.date() if local.hour >= 19 else local.date() - datetime.timedelta(days=1)
    return datetime.datetime.combine(day, datetime.time(18, 0), tzinfo=PARIS)


def clock_start():
    """The start every local mode of this run is given: AGENDA_CLOCK_START as
    the run names it (refused here as local mode would refuse it), else the
    practice's daytime."""
    given = os.environ.get("AGENDA_CLOCK_START", "").strip()
    if not given:
        return practice_daytime(datetime.datetime.now(datetime.timezone.utc))
    try:
        start = datetime.datetime.fromisoformat(given)
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        pytest.fail(f"AGENDA_CLOCK_START must be an RFC 3339 time with its offset, "
                    f"not {given!r}", pytrace=False)
    return start


# --- local mode -------------------------------------------------------------


@pytest.fixture(scope="session")
def agenda_local(pytestconfig, tmp_path_factory):
    """The agenda-local binary: built now by cargo (its progress shown), then
    copied, since other checkouts sharing CARGO_TARGET_DIR overwrite the path."""
    given = os.environ.get("AGENDA_LOCAL_BIN")
    if given:
        return Path(given)
    cmd = ["cargo", "build", "--locked", "-p", "local", "--bin", "agenda-local",
           "--message-format=json-render-diagnostics"]
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\nbrowser tests: building local mode:", " ".join(cmd), flush=True)
        # stdout carries cargo's JSON messages; stderr (progress, errors) is shown.
        built = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
    if built.returncode != 0:
        pytest.fail(f"cargo build failed ({built.returncode})", pytrace=False)
    executables = [
        m["executable"]
        for m in map(json.loads, filter(None, built.stdout.splitlines()))
        if m.get("reason") == "compiler-artifact"
        and m.get("executable")
        and m["target"]["name"] == "agenda-local"
    ]
    if len(executables) != 1:
        pytest.fail(f"cargo reported no single agenda-local executable: {executables}")
    copy = tmp_path_factory.mktemp("bin") / "agenda-local"
    shutil.copy2(executables[0], copy)
    return copy


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Local:
    """Local mode's HTTP API, the practitioner's side and the outbox."""

    def __init__(self, base_url, clock_start=None, launched=None):
        self.base_url = base_url
        # Where its clock was told to start, and when (time.monotonic()) the
        # process was launched: its clock can be no further than that since.
        self.clock_start = clock_start
        self.launched = launched

    def request(self, method, path, body=None, headers=None, token=TOKEN):
        """(status, parsed JSON or text) of one request; never raises on a status."""
        url = path if path.startswith("http") else self.base_url + path
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=WAIT_SECONDS) as r:
                status, raw, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            status, raw, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
        text = raw.decode()
        return status, (json.loads(text) if "json" in ctype and text else text)

    def ok(self, method, path, body=None, expect=(200, 201), **kw):
        status, answer = self.request(method, path, body, **kw)
        assert status in expect, f"{method} {path} → {status}: {answer}"
        return answer

    def status_of(self, url):
        """The HTTP status a patient's browser gets for a GET (which changes nothing)."""
        return self.request("GET", url, headers={"Accept": "text/html"}, token=None)[0]

    def now(self):
        """The local clock's time (SPEC §8), which the tests reason in: never
        the machine's, so that they pass at any hour."""
        return datetime.datetime.fromisoformat(self.ok("GET", "/dev/clock", token=None)["now"])

    def today(self):
        """The practice's date (Paris) on the local clock."""
        return self.now().astimezone(PARIS).date()

    def free_slots(self, reason="consultation", days_ahead=3):
        """Free slots from `days_ahead` days after the practice's today: past
        every deadline."""
        day = self.today() + datetime.timedelta(days=days_ahead)
        answer = self.ok("GET", f"/public/practitioners/{PRACTITIONER}/slots"
                                f"?reason_id={reason}&from={day}", token=None)
        assert answer["slots"], f"no free slot from {day}"
        return [s["start"] for s in answer["slots"]]

    @contextlib.contextmanager
    def quiet_hours_clear_of_now(self):
        """Quiet hours hold a cancellation SMS till morning (SPEC §4.4): for a
        test that needs the SMS now, whatever the hour of the local clock, the
        practice's quiet hours are moved three hours ahead of it, then put back."""
        path = f"/practitioners/{PRACTITIONER}"
        settings = self.ok("GET", path)
        paris_now = self.now().astimezone(PARIS)
        clear = dict(settings, quiet_hours={
            "start": (paris_now + datetime.timedelta(hours=3)).strftime("%H:%M"),
            "end": (paris_now + datetime.timedelta(hours=4)).strftime("%H:%M"),
        })
        self.ok("PUT", path, clear)
        try:
            yield
        finally:
            self.ok("PUT", path, settings)

    def book(self, patient, reason="consultation", slot_index=0):
        """A new appointment at a free slot, through the practitioner API."""
        start = self.free_slots(reason)[slot_index]
        return self.ok("POST", f"/practitioners/{PRACTITIONER}/appointments",
                       {"reason_id": reason, "start": start, "patient": patient})

    def appointment(self, appointment_id):
        return self.ok("GET", f"/practitioners/{PRACTITIONER}/appointments/{appointment_id}")

    def messages(self, appointment_id, kind=None, channel=None):
        return [m for m in self.ok("GET", "/dev/outbox", token=None)["messages"]
                if m["appointment_id"] == appointment_id
                and (kind is None or m["kind"] == kind)
                and (channel is None or m["channel"] == channel)]

    def wait_message(self, appointment_id, kind, channel="email", count=1):
        """The `count`-th message of that kind: the senders run from the store's
        stream, so it lands shortly after the change."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            found = self.messages(appointment_id, kind, channel)
            if len(found) >= count:
                return found[count - 1]
            if time.monotonic() > deadline:
                pytest.fail(f"no {kind} {channel} #{count} for {appointment_id} in the outbox: "
                            f"{self.messages(appointment_id)}")
            time.sleep(0.05)

    @staticmethod
    def link(message, pattern):
        """The one link of a message whose path matches `pattern` (a regex)."""
        found = [l for l in message["links"] if re.search(pattern, l)]
        assert len(found) == 1, f"links matching {pattern}: {message['links']}"
        return found[0]


@contextlib.contextmanager
def _local_mode(binary, logs):
    """Runs agenda-local (embedded store, outbox) on a free port until the
    block ends, its clock started at the run's `clock_start()`."""
    start = clock_start()
    for attempt in range(3):
        port = _free_port()
        log_path = logs / f"agenda-local-{port}.log"
        log = open(log_path, "w")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AGENDA_", "AWS_", "PUBLIC_BASE_URL"))}
        env.update(PORT=str(port), HOST="127.0.0.1", RUST_LOG="warn",
                   AGENDA_CLOCK_START=start.isoformat())
        launched = time.monotonic()
        proc = subprocess.Popen([str(binary)], env=env, stdout=log, stderr=subprocess.STDOUT)
        server = Local(f"http://127.0.0.1:{port}", start, launched)
        deadline = time.monotonic() + 30
        ready = False
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                ready = server.request("GET", "/dev/outbox", token=None)[0] == 200
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)  # not listening yet: ask again
        if ready:
            break
        # Another process may have taken the port between the probe and the bind.
        proc.kill()
        proc.wait()
        log.close()
    else:
        pytest.fail(f"local mode did not start:\n{log_path.read_text()}", pytrace=False)
    try:
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def local(agenda_local, tmp_path_factory):
    """Local mode shared by the tests that leave its clock alone."""
    with _local_mode(agenda_local, tmp_path_factory.mktemp("local")) as server:
        yield server


@pytest.fixture
def own_local(agenda_local, tmp_path_factory):
    """Local mode for one test, which may move its clock (it never goes back)."""
    with _local_mode(agenda_local, tmp_path_factory.mktemp("local")) as server:
        yield server


# --- the browser ------------------------------------------------------------


def _which(env, name):
    path = os.environ.get(env) or shutil.which(name)
    if not path:
        pytest.fail(f"{name} not found: apt-get install chromium chromium-driver "
                    f"(make test does), or set {env}", pytrace=False)
    return path


@pytest.fixture(scope="session")
def driver(tmp_path_factory):
    """Headless Chromium on a 375 px phone screen, JavaScript off, French first."""
    os.environ.setdefault("SE_AVOID_STATS", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = _which("CHROMIUM", "chromium")
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {
        "profile.managed_default_content_settings.javascript": 2,
        "intl.accept_languages": "fr-FR,fr",
    })
    # An explicit driver path: Selenium Manager (which downloads) never runs.
    service = Service(executable_path=_which("CHROMEDRIVER", "chromedriver"))
    browser = webdriver.Chrome(options=options, service=service)
    browser.set_page_load_timeout(WAIT_SECONDS)
    # A driver command that hangs fails the test instead of waiting 120 s.
    if hasattr(browser.command_executor, "_client_config"):
        browser.command_executor._client_config.timeout = 2 * WAIT_SECONDS
    # A phone's screen: 375 CSS px, the page's viewport meta honoured. Not
    # chromedriver's mobileEmulation: its taps never return from a form's
    # submit button when JavaScript is off; these are mouse clicks.
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": PHONE_WIDTH, "height": PHONE_HEIGHT, "deviceScaleFactor": 2, "mobile": True})
    try:
        _assert_javascript_off(browser)
        yield browser
    finally:
        browser.quit()


def _assert_javascript_off(browser):
    """A page whose script would retitle it keeps its title: scripts do not run."""
    browser.get("data:text/html,<title>off</title><script>document.title='on'</script>")
    assert browser.title == "off", "JavaScript is on: the pages must be tested without it"


@pytest.fixture(scope="session")
def artefacts():
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTEFACTS.glob("*.png"):
        old.unlink()
    return ARTEFACTS


@pytest.fixture
def page(driver, artefacts, request):
    """The browser for one test, with `page.shot(name)` for screenshots."""
    return Page(driver, artefacts, request.node.name)


class Page:
    def __init__(self, driver, artefacts, test_name):
        self.driver = driver
        self.artefacts = artefacts
        self.test_name = re.sub(r"[^\w-]", "_", test_name.removeprefix("test_"))
        self.step = 0

    def open(self, url):
        self.driver.get(url)
        return self

    def shot(self, name):
        """A full-page screenshot in the artefacts folder."""
        self.step += 1
        path = self.artefacts / f"{self.test_name}-{self.step:02d}-{name}.png"
        # The whole page, not only the screen: what is below the fold too.
        data = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        path.write_bytes(base64.b64decode(data["data"]))
        return path

    def wait_for(self, css, text=None):
        """The first element matching `css` (and containing `text`) once shown."""
        def found(d):
            for e in d.find_elements(By.CSS_SELECTOR, css):
                if e.is_displayed() and (text is None or text in e.text):
                    return e
            return False
        try:
            return WebDriverWait(self.driver, WAIT_SECONDS).until(found)
        except Exception:
            self.shot("timeout")
            lines = self.body_text().splitlines()
            shown = "\n".join(lines[:12] + (["…"] if len(lines) > 12 else []))
            raise AssertionError(
                f"no visible {css!r}{f' containing {text!r}' if text else ''} on "
                f"{self.driver.current_url}, which reads:\n{shown}") from None

    def click(self, css, text=None):
        """Clicks an element and waits for the next page to load."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        self.wait_for(css, text).click()
        WebDriverWait(self.driver, WAIT_SECONDS).until(lambda d: _stale(old))
        return self

    def body_text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text


def _stale(element):
    try:
        element.tag_name
        return False
    except Exception:
        return True


# --- what every page must be on a phone ---------------------------------------

# One pass over the page in the browser (the WebDriver runs it even with the
# page's own JavaScript off): what a phone user and a screen reader meet.
_PAGE_FACTS = """
const doc = document.documentElement;
const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().replace(/\\s+/g, '.') : '');
const labelled = e => {
    if ((e.getAttribute('aria-label') || '').trim()) return true;
    if (e.closest('label') && e.closest('label').textContent.trim()) return true;
    return !!(e.id && [...document.querySelectorAll('label')].some(
        l => l.htmlFor === e.id && l.textContent.trim()));
};
const wide = [...document.body.querySelectorAll('*')]
    .filter(e => e.getBoundingClientRect().right > arguments[0] + 0.5)
    .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > arguments[0] + 0.5))
    .slice(0, 5)
    .map(e => name(e) + ' reaches ' + Math.round(e.getBoundingClientRect().right) + ' px: '
         + JSON.stringify((e.textContent || '').trim().slice(0, 60)));
return {
    lang: doc.getAttribute('lang') || '',
    title: document.title.trim(),
    viewport: (document.querySelector('meta[name=viewport]') || {content: ''}).content,
    scrollWidth: doc.scrollWidth,
    clientWidth: doc.clientWidth,
    wide: wide,
    headings: [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')]
        .map(h => [Number(h.tagName[1]), h.textContent.trim()]),
    unlabelled: [...document.querySelectorAll('input,select,textarea')]
        .filter(e => e.type !== 'hidden' && !labelled(e)).map(name),
    nameless: [...document.querySelectorAll('a[href],button,input[type=submit]')]
        .filter(e => !(e.textContent || e.value || e.getAttribute('aria-label') || '').trim())
        .map(name),
};
"""


def check_phone_page(page, lang):
    """The page on a 375 px screen: no horizontal scroll, its language, a title,
    one h1 and no skipped heading level, a label on every field, a name on every
    link and button. Takes no screenshot: the tests do, at each step."""
    facts = page.driver.execute_script(_PAGE_FACTS, PHONE_WIDTH)
    url = page.driver.current_url
    problems = []
    if facts["lang"] != lang:
        problems.append(f"<html lang> is {facts['lang']!r}, not {lang!r}")
    if not facts["title"]:
        problems.append("no <title>")
    if "width=device-width" not in facts["viewport"]:
        problems.append(f"no phone viewport meta (content={facts['viewport']!r})")
    if facts["scrollWidth"] > PHONE_WIDTH or facts["clientWidth"] != PHONE_WIDTH:
        problems.append(
            f"scrolls sideways on a {PHONE_WIDTH} px screen: the page is "
            f"{facts['scrollWidth']} px wide (viewport {facts['clientWidth']} px); "
            + "; ".join(facts["wide"]))
    levels = [level for level, _ in facts["headings"]]
    if levels.count(1) != 1 or not levels or levels[0] != 1:
        problems.append(f"not one <h1> first: headings {facts['headings']}")
    if any(not text for _, text in facts["headings"]):
        problems.append(f"an empty heading: {facts['headings']}")
    if any(b - a > 1 for a, b in zip(levels, levels[1:])):
        problems.append(f"a heading level skipped: {levels}")
    if facts["unlabelled"]:
        problems.append(f"fields without a label: {facts['unlabelled']}")
    if facts["nameless"]:
        problems.append(f"links or buttons without text: {facts['nameless']}")
    if problems:
        page.shot("broken")
        raise AssertionError(f"{url}:\n  - " + "\n  - ".join(problems))
    return facts
