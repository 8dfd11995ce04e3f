#!/usr/bin/env python3
"""The web app in a real browser: headless Chromium driven by Selenium against a real `rooms serve`.

    python3 clients/web/test/browser_test.py path/to/rooms [screenshot-folder]

Needs Debian's `chromium` and `chromium-driver` and Selenium from PyPI (`.ci/run` installs them).
Starts the server on a free port with the example configuration's kinds, then, with two browser
sessions, ann on a desktop-sized window and bob on a phone-sized one (390x844, touch):

1. Both sign in by name. ann opens a direct room with bob by typing his name; bob's inbox lists
   it with an unread count; he opens it, reads, and ann's message gets its read tick (✓✓); he
   types and ann sees "bob is typing"; both see each other online.
2. Chat: they take turns sending; both pages show the same messages in the same order.
3. bob loses his connection: his browser reaches the server through a TCP proxy here, which is
   cut and then refuses him. Meanwhile ann sends, the server is restarted (SIGKILL, then started
   again on the same port and data), and ann sends again. When the proxy lets bob back, his page
   catches up: the same messages as ann's, seq 1..N with no gap and none twice.
4. History: a room with 120 messages posted over HTTP shows the newest 50, and scrolling up (the
   "Older messages" button) pages in the rest, in order.
5. An AI room (the `local` provider): ann asks, and the answer streams into both pages (text seen
   growing while it streams), then stays as the stored message, the same on both.
6. A document (the `doc` kind): both type into it, with real keys in turns and then at once (a
   timer in each page inserting at random places); both pages and the server end with the same
   text, holding every character each typed; ann's caret shows in bob's page; the version list
   shows the current version, whose text reads back.
7. A second server in jwt mode: the sign-in page asks for a token, refuses one that is not a
   token, and signs in with a good one as its `sub`, who then chats.
8. On the phone the list and the chat are shown one at a time, with a back button.

On failure it saves a screenshot and the page's HTML of each session into the screenshot folder
(default: a new temporary folder) and says where. Prints PASS at the end.
"""
import base64
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "examples", "python"))
from rooms_client import http, start_server  # noqa: E402

WAIT = 40  # seconds any one thing may take to show in a page (a loaded 2-core CI machine)


class Proxy:
    """A TCP proxy that can cut every connection through it and refuse new ones for a while."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.refusing = False
        self.connections = set()
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(source, sink), daemon=True).start()

    def pump(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            connections, self.connections = self.connections, set()
        for connection in connections:
            try:
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                connection.close()
            except OSError:
                pass


class Server:
    """`rooms serve`, restartable on the same port and data directory."""

    def __init__(self, binary, settings, environment=None):
        self.binary = binary
        self.process, self.port, self.directory = start_server(binary, settings, environment)
        self.config = os.path.join(self.directory, "rooms.json")
        with open(self.config) as file:
            document = json.load(file)
        document["server"]["port"] = self.port
        with open(self.config, "w") as file:
            json.dump(document, file)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def kill_and_restart(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        log = os.path.join(self.directory, "server.log")
        with open(log, "ab") as output:
            self.process = subprocess.Popen([os.path.abspath(self.binary), "serve", "--config", self.config],
                                            stdout=output, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not come back; see " + log)

    def stop(self):
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def hs256(claims, secret):
    """A JSON Web Token signed with HS256, by hand (the server verifies it with jwt-kit)."""
    encode = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=")  # noqa: E731
    signing = encode(b'{"alg":"HS256","typ":"JWT"}') + b"." + encode(json.dumps(claims).encode())
    return (signing + b"." + encode(hmac.new(secret.encode(), signing, hashlib.sha256).digest())).decode()


def browser(phone=False):
    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    if phone:
        options.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2, "touch": True}})
    else:
        options.add_argument("--window-size=1200,850")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_script_timeout(WAIT)
    return driver


def wait(driver, condition, what):
    def check(_):
        try:
            return condition()
        except StaleElementReferenceException:
            return False
    try:
        return WebDriverWait(driver, WAIT, poll_frequency=0.1).until(check)
    except TimeoutException:
        raise AssertionError(f"timed out waiting for {what}") from None


def click(driver, selector, what):
    """Finds `selector` and clicks it, again if the page re-rendered it in between (the inbox and
    version lists are rebuilt when an update arrives, which made a found item stale)."""
    def attempt():
        driver.find_element(By.CSS_SELECTOR, selector).click()
        return True
    wait(driver, attempt, what)


def messages(driver):
    """The stored messages a page shows: [(seq, user, text)], in page order."""
    return driver.execute_script("""
        return [...document.querySelectorAll('#messages .msg[data-seq]')].map((m) =>
            [Number(m.dataset.seq), m.querySelector('.who').textContent, m.querySelector('.text').textContent]);
    """)


def texts(driver):
    return [text for _, _, text in messages(driver)]


def sign_in(driver, url, name):
    driver.get(url + "/")
    field = wait(driver, lambda: driver.find_element(By.ID, "signin-name"), "the sign-in page")
    field.send_keys(name)
    driver.find_element(By.ID, "signin-go").click()
    wait(driver, lambda: driver.find_element(By.ID, "me").text == name, f"{name} signed in")


def send(driver, text):
    box = driver.find_element(By.ID, "composer-text")
    box.send_keys(text)
    driver.find_element(By.ID, "composer-send").click()
    wait(driver, lambda: text in texts(driver), f"'{text}' stored in the sender's page")


def check_contiguous(listed, who):
    seqs = [seq for seq, _, _ in listed]
    assert seqs == list(range(1, len(seqs) + 1)), f"{who}'s page has seqs {seqs}: a gap, a double or disorder"


def open_room(driver, kind, name):
    back = driver.find_elements(By.CSS_SELECTOR, "body.in-chat .back")
    if back and back[0].is_displayed():  # a phone shows the list or the chat
        back[0].click()
    kinds = driver.find_element(By.ID, "open-kind")
    kinds.find_element(By.CSS_SELECTOR, f"option[value='{kind}']").click()
    driver.find_element(By.ID, "open-name").send_keys(name)
    driver.find_element(By.ID, "open-go").click()
    wait(driver, lambda: driver.find_element(By.ID, "chat").get_attribute("data-room") == f"{kind}/{name}", f"{kind}/{name} open")
    wait(driver, lambda: driver.find_element(By.ID, "state").text == "open", f"{kind}/{name} connected")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    binary = sys.argv[1]
    shots = sys.argv[2] if len(sys.argv) == 3 else tempfile.mkdtemp(prefix="rooms-browser-")
    os.makedirs(shots, exist_ok=True)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "rooms.example.json")) as file:
        example = json.load(file)
    example["kinds"]["ai"]["provider"]["tokensPerSecond"] = 15
    example["kinds"]["ai"]["provider"]["maxTokens"] = 60
    server = Server(binary, {"kinds": example["kinds"]})
    proxy = Proxy(server.port)
    ann = bob = None
    step = "starting the browsers"
    try:
        ann = browser()
        bob = browser(phone=True)

        step = "1: signing in, a direct room, the inbox, read ticks, typing, presence"
        sign_in(ann, server.url, "ann")
        sign_in(bob, f"http://127.0.0.1:{proxy.port}", "bob")
        ann.find_element(By.ID, "direct-user").send_keys("bob")
        ann.find_element(By.ID, "direct-go").click()
        wait(ann, lambda: ann.find_element(By.ID, "chat-title").text == "bob", "the direct room, named after bob")
        wait(ann, lambda: ann.find_element(By.ID, "state").text == "open", "ann connected")
        send(ann, "hello bob")
        room = ann.find_element(By.ID, "chat").get_attribute("data-room")
        item = f".room-item[data-room='{room}']"
        wait(bob, lambda: bob.find_element(By.CSS_SELECTOR, f"{item} .unread").text == "1", "bob's inbox: 1 unread")
        wait(bob, lambda: bob.find_element(By.CSS_SELECTOR, f"{item} .room-name").text == "ann", "bob's inbox names the room after ann")
        click(bob, item, "bob opens the room from his inbox")
        wait(bob, lambda: texts(bob) == ["hello bob"], "bob sees ann's message")
        assert not bob.find_element(By.CSS_SELECTOR, ".side").is_displayed(), "the phone shows the chat alone"
        assert bob.find_element(By.CSS_SELECTOR, ".back").is_displayed(), "the phone has a back button"
        wait(ann, lambda: ann.find_element(By.CSS_SELECTOR, ".msg.mine .tick").text == "✓✓", "ann's read tick")
        wait(ann, lambda: set(ann.find_element(By.ID, "presence").get_attribute("data-users").split(",")) == {"ann", "bob"},
             "ann sees bob online")
        bob.find_element(By.ID, "composer-text").send_keys("typing")
        wait(ann, lambda: "bob is typing" in ann.find_element(By.ID, "typing").text, "ann sees bob typing")
        bob.find_element(By.ID, "composer-text").clear()
        wait(bob, lambda: not bob.find_elements(By.CSS_SELECTOR, f"{item} .unread"), "bob's unread count cleared")

        step = "2: chatting"
        for turn in range(3):
            send(ann, f"ann {turn}")
            send(bob, f"bob {turn}")
        expected = ["hello bob"] + [f"{who} {turn}" for turn in range(3) for who in ("ann", "bob")]
        wait(ann, lambda: texts(ann) == expected, "ann's page in order")
        wait(bob, lambda: texts(bob) == expected, "bob's page in order")

        step = "3: bob cut off while the server restarts; he catches up with no gap"
        proxy.refusing = True
        proxy.cut()
        wait(bob, lambda: bob.find_element(By.ID, "state").text != "open", "bob's page notices the lost link")
        for n in range(5):
            send(ann, f"while bob is away {n}")
        server.kill_and_restart()
        wait(ann, lambda: ann.find_element(By.ID, "state").text == "open", "ann back after the restart")
        for n in range(5, 10):
            send(ann, f"while bob is away {n}")
        expected += [f"while bob is away {n}" for n in range(10)]
        proxy.refusing = False
        wait(bob, lambda: texts(bob) == expected, "bob caught up")
        check_contiguous(messages(bob), "bob")
        check_contiguous(messages(ann), "ann")
        assert messages(bob) == messages(ann), "both pages show the same messages"
        send(bob, "back")
        wait(ann, lambda: texts(ann)[-1:] == ["back"], "ann sees bob's message after he is back")

        step = "4: history paging upward"
        for n in range(120):
            status, _ = http("POST", f"{server.url}/rooms/chat/history/messages?user=carol", {"text": f"old {n}", "id": f"old-{n}"})
            assert status == 201, f"posting history: {status}"
        open_room(ann, "chat", "history")
        wait(ann, lambda: len(messages(ann)) == 50, "the newest 50")
        assert texts(ann) == [f"old {n}" for n in range(70, 120)], "the newest 50 in order"
        for _ in range(3):  # scrolled to the top, the page loads the page before
            before = len(messages(ann))
            if before == 120:
                break
            ann.execute_script("document.querySelector('.scroller').scrollTop = 0")
            wait(ann, lambda: len(messages(ann)) > before, "an older page")
        wait(ann, lambda: len(messages(ann)) == 120, "the whole history")
        assert not ann.find_element(By.ID, "older").is_displayed(), "no 'Older messages' once all is shown"
        check_contiguous(messages(ann), "ann's history")
        assert texts(ann) == [f"old {n}" for n in range(120)], "the whole history in order"

        step = "5: an AI answer streams into both pages"
        open_room(ann, "ai", "lab")
        open_room(bob, "ai", "lab")
        ann.find_element(By.ID, "composer-text").send_keys("hello assistant")
        ann.find_element(By.ID, "composer-send").click()
        seen = {"ann": set(), "bob": set()}

        def streaming():
            for name, driver in (("ann", ann), ("bob", bob)):
                for element in driver.find_elements(By.CSS_SELECTOR, ".msg.stream:not(.done) .text"):
                    seen[name].add(element.text)
            return all(len(lengths) >= 3 for lengths in seen.values())
        wait(ann, streaming, "the answer growing in both pages")
        answer = lambda driver: [text for _, user, text in messages(driver) if user == "assistant"]  # noqa: E731
        wait(ann, lambda: len(answer(ann)) == 1 and len(answer(bob)) == 1, "the stored answer in both pages")
        assert answer(ann) == answer(bob) and answer(ann)[0], "the same answer in both"
        assert all(answer(ann)[0].startswith(partial) for partial in seen["ann"] | seen["bob"]), "the stream grew into the answer"

        step = "6: a document both edit at once"
        open_room(ann, "doc", "notes")
        open_room(bob, "doc", "notes")
        areas = {name: driver.find_element(By.ID, "doc-text") for name, driver in (("ann", ann), ("bob", bob))}
        wait(ann, lambda: all(area.is_enabled() for area in areas.values()), "both documents loaded")
        for n in range(3):
            areas["ann"].send_keys(f"ann{n} ")
            areas["bob"].send_keys(f"bob{n} ")
        # At once: a timer in each page inserts a letter at a random place every 15 ms, 40 times.
        burst = """
            const [letter] = arguments;
            const area = document.getElementById('doc-text');
            window.typed = 0;
            const timer = setInterval(() => {
              const at = Math.floor(Math.random() * (area.value.length + 1));
              area.focus();
              area.setRangeText(letter, at, at, 'end');
              area.dispatchEvent(new Event('input', { bubbles: true }));
              if (++window.typed === 40) clearInterval(timer);
            }, 15);
        """
        ann.execute_script(burst, "A")
        bob.execute_script(burst, "B")
        document = lambda driver: driver.execute_script(  # noqa: E731
            "const d = window.app.chat.doc; return [d.text, d.pending, d.version, window.typed];")

        def settled():
            mine, theirs = document(ann), document(bob)
            if mine[3] != 40 or theirs[3] != 40 or mine[1] or theirs[1] or mine[2] != theirs[2]:
                return False
            status, stored = http("GET", f"{server.url}/rooms/doc/notes/text")
            return status == 200 and stored["version"] == mine[2] and stored["text"] == mine[0] == theirs[0]
        wait(ann, settled, "both pages and the server holding the same text")
        final = document(ann)[0]
        assert areas["ann"].get_attribute("value") == final and areas["bob"].get_attribute("value") == final, "the text fields show it"
        assert final.count("A") == 40 and final.count("B") == 40, f"every letter typed at once is there: {final!r}"
        words = final.replace("A", "").replace("B", "")
        for n in range(3):
            assert f"ann{n} " in words and f"bob{n} " in words, f"every word typed in turns is there: {final!r}"
        areas["ann"].click()
        wait(bob, lambda: "ann" in bob.find_element(By.ID, "doc-cursors").get_attribute("data-users").split(","), "ann's caret in bob's page")
        ann.find_element(By.ID, "doc-versions-button").click()
        version = document(ann)[2]
        click(ann, f"#doc-versions li[data-version='{version}'] button", "the current version in the version list")
        wait(ann, lambda: ann.find_element(By.ID, "doc-reading").text == final.strip() or
             ann.find_element(By.ID, "doc-reading").get_attribute("textContent") == final, "the current version read back")

        for name, driver in (("ann", ann), ("bob", bob)):
            driver.save_screenshot(os.path.join(shots, f"{name}-document.png"))

        step = "7: signing in with a token (jwt mode)"
        secret = "browser-test-secret-" + os.urandom(8).hex()
        secured = Server(binary, {"kinds": {"chat": {"class": "chat"}},
                                  "auth": {"mode": "jwt", "secretEnv": "ROOMS_BROWSER_SECRET"}},
                         environment={**os.environ, "ROOMS_BROWSER_SECRET": secret})
        try:
            ann.get(secured.url + "/")
            field = wait(ann, lambda: ann.find_element(By.ID, "signin-token"), "the token field")
            field.send_keys("not a token")
            ann.find_element(By.ID, "signin-go").click()
            wait(ann, lambda: "not a token" in ann.find_element(By.ID, "signin-error").text, "a garbage token refused")
            field.clear()
            field.send_keys(hs256({"sub": "zoe", "exp": int(time.time()) + 600}, secret))
            ann.find_element(By.ID, "signin-go").click()
            wait(ann, lambda: ann.find_element(By.ID, "me").text == "zoe", "zoe signed in by token")
            open_room(ann, "chat", "secure")
            send(ann, "signed in with a token")
            status, stored = http("GET", f"{secured.url}/rooms/chat/secure/messages",
                          headers={"Authorization": "Bearer " + hs256({"sub": "x", "exp": int(time.time()) + 60}, secret)})
            assert status == 200 and [(m["user"], m["text"]) for m in stored["messages"]] == [("zoe", "signed in with a token")], stored
        finally:
            secured.stop()

        step = "8: the phone's back button"
        bob.find_element(By.CSS_SELECTOR, ".back").click()
        wait(bob, lambda: bob.find_element(By.CSS_SELECTOR, ".side").is_displayed(), "the phone's room list")
        assert not bob.find_element(By.CSS_SELECTOR, ".main").is_displayed(), "the phone hides the chat behind the list"
        for name, driver in (("ann", ann), ("bob", bob)):
            driver.save_screenshot(os.path.join(shots, f"{name}-end.png"))
    except Exception:
        traceback.print_exc()
        for name, driver in (("ann", ann), ("bob", bob)):
            if driver is None:
                continue
            try:
                driver.save_screenshot(os.path.join(shots, f"{name}-failure.png"))
                with open(os.path.join(shots, f"{name}-failure.html"), "w") as file:
                    file.write(driver.page_source)
                logs = driver.get_log("browser")
                with open(os.path.join(shots, f"{name}-console.txt"), "w") as file:
                    file.write("\n".join(str(entry) for entry in logs))
            except Exception as error:  # the browser itself may be gone
                print(f"no screenshot of {name}: {error}")
        print(f"FAIL at step {step}; screenshots, pages and consoles in {shots}")
        with open(os.path.join(server.directory, "server.log"), errors="replace") as log:
            print("the server's log ends with:\n" + log.read()[-4000:])
        sys.exit(1)
    finally:
        for driver in (ann, bob):
            if driver is not None:
                driver.quit()
        proxy.listener.close()
        server.stop()
    print(f"screenshots in {shots}")
    print("PASS")


if __name__ == "__main__":
    main()
