#!/usr/bin/env python3
"""Drives `tailor label`'s page in headless Chromium as a person would, over the DevTools protocol:
labels the first pair with a mouse click on "A is better", the second with the key 2, the third
with the key T (a tie), then checks the labels files hold exactly those choices. With --report,
also opens a run's report.html and checks its graph and tables rendered. With --screenshots DIR,
saves what the page looked like (docs/images/).

Usage: label_page.py URL LABELS.jsonl [--report report.html] [--screenshots DIR]
Prints "labels checked: 3" (and "report checked: N boxes") on success."""
import argparse
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websocket  # websocket-client, from PyPI


class Page:
    """One Chromium tab, commanded over its DevTools websocket."""

    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=60)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def eval(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, expression, what, seconds=120):
        deadline, last = time.time() + seconds, None
        while time.time() < deadline:
            try:  # before navigation ends the old document is still there: not yet, not a failure
                value = self.eval(expression)
                if value:
                    return value
            except RuntimeError as e:
                last = e
            time.sleep(0.1)
        raise RuntimeError(f"timed out waiting for {what}" + (f" (last: {last})" if last else ""))

    def click(self, element_id):
        """A real mouse click at the middle of the element."""
        box = self.eval(f"(() => {{ const r = document.getElementById('{element_id}').getBoundingClientRect();"
                        " return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def key(self, key):
        self.call("Input.dispatchKeyEvent", type="keyDown", key=key, text=key)
        self.call("Input.dispatchKeyEvent", type="keyUp", key=key)

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))


def chromium():
    """Headless Chromium with DevTools on a free port; (process, profile folder, DevTools port)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not binary:
        raise SystemExit("chromium is not installed")
    profile = tempfile.mkdtemp(prefix="tailor-chromium-")
    process = subprocess.Popen([binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1200,800", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.time() + 60
    while not (os.path.exists(port_file) and open(port_file).read().strip()):
        if time.time() > deadline or process.poll() is not None:
            raise SystemExit("chromium did not start")
        time.sleep(0.1)
    return process, profile, int(open(port_file).read().split()[0])


def tab(port, url):
    targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
    page = Page(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
    page.call("Page.enable")
    page.call("Page.navigate", url=url)
    return page


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("labels")
    p.add_argument("--report")
    p.add_argument("--screenshots")
    args = p.parse_args()
    process, profile, port = chromium()
    try:
        page = tab(port, args.url)
        shown = []
        for n, act in enumerate([lambda: page.click("choose-left"), lambda: page.key("2"), lambda: page.key("t")]):
            page.wait(f"document.getElementById('progress').textContent === 'Pair {n + 1} of 3'"
                      " && document.getElementById('status').textContent === ''", f"pair {n + 1}")
            shown.append(page.eval("[document.getElementById('prompt').textContent,"
                                   " document.getElementById('left').textContent, document.getElementById('right').textContent]"))
            if n == 0 and args.screenshots:
                page.screenshot(os.path.join(args.screenshots, "label-page.png"))
            act()
        page.wait("document.getElementById('done').style.display === 'block'", "the end of the pairs")
        done = page.eval("document.getElementById('done').textContent")
        assert done.startswith("All 3 pairs are labelled"), done

        labels = [json.loads(line) for line in open(args.labels)]
        ties = [json.loads(line) for line in open(args.labels[:-len(".jsonl")] + ".ties.jsonl")]
        (p1, l1, r1), (p2, l2, r2), (p3, l3, r3) = shown
        assert [(x["prompt"], x["chosen"], x["rejected"]) for x in labels] == [(p1, l1, r1), (p2, r2, l2)], labels
        assert [(x["prompt"], x["response_a"], x["response_b"]) for x in ties] == [(p3, l3, r3)], ties
        print("labels checked:", len(labels) + len(ties))

        if args.report:
            report = tab(port, "file://" + os.path.abspath(args.report))
            boxes = report.wait("document.readyState === 'complete' && document.querySelectorAll('svg rect').length", "the report's graph")
            tables = report.eval("document.querySelectorAll('table').length")
            assert tables > 0, "the report has no tables"
            if args.screenshots:
                report.screenshot(os.path.join(args.screenshots, "report-page.png"))
            print("report checked:", boxes, "boxes")
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
