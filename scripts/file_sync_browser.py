#!/usr/bin/env python3
"""Headless Chromium against file_sync's page (driven by Selenium).

    file_sync_browser.py --url http://127.0.0.1:PORT/ --root SYNCED_DIR [--screenshots DIR]

Checks, each bounded in time: the page goes live over its WebSocket; a file made through the
REST API appears without a reload; an upload through the page (progress counted in bytes)
reaches the server; delete and rename from the page; folders open (by keyboard too), the
breadcrumbs lead back, a new folder is made in the folder shown; a file written on disk appears
live; the filter box; conflict copies marked; labelled buttons and SVG icons (no emoji).
Prints one line per check and a closing line "N passed, N failed"; exit status 0 only if all passed.
Needs: Debian chromium + chromium-driver, PyPI selenium (scripts/deps.sh sets both up).
"""
import argparse
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys


def wait_for(description, condition, timeout=15.0):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            if condition():
                return True
        except Exception as e:  # the DOM may be mid-update
            last = e
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {description}" + (f" ({last})" if last else ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="the page, e.g. http://127.0.0.1:8081/")
    ap.add_argument("--root", required=True, help="the synced folder on disk (a file is written there)")
    ap.add_argument("--screenshots", help="a folder for screenshots of the page")
    args = ap.parse_args()
    base = args.url.rstrip("/")

    options = Options()
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]:
        options.add_argument(flag)
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
    driver.set_page_load_timeout(20)
    passed = failed = 0

    def check(name, body):
        nonlocal passed, failed
        try:
            body()
            passed += 1
            print(f"ok    {name}")
        except Exception as e:
            failed += 1
            print(f"FAIL  {name}: {e}")

    def row(path):
        return [r for r in driver.find_elements(By.CSS_SELECTOR, "#files tr") if r.get_attribute("data-path") == path]

    def button(r, label):
        return next(b for b in r.find_elements(By.TAG_NAME, "button") if b.get_attribute("aria-label") == label)

    def put(path, data):
        req = urllib.request.Request(base + "/api/upload/" + urllib.parse.quote(path), data=data, method="PUT",
                                     headers={"X-Client-Id": "browser-test"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status in (200, 201), r.status

    def get(path):
        with urllib.request.urlopen(base + "/api/download/" + urllib.parse.quote(path), timeout=10) as r:
            return r.read()

    def status(path):
        try:
            with urllib.request.urlopen(base + "/api/download/" + urllib.parse.quote(path), timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def listing():
        with urllib.request.urlopen(base + "/api/list", timeout=10) as r:
            return json.load(r)["files"]

    def shot(name):
        if args.screenshots:
            os.makedirs(args.screenshots, exist_ok=True)
            driver.save_screenshot(os.path.join(args.screenshots, f"{name}.png"))

    try:
        def live():
            driver.get(base + "/")
            wait_for("#status = live", lambda: driver.find_element(By.ID, "status").text == "live")
            shot("live")
        check("page loads and its WebSocket goes live", live)

        def created_elsewhere():
            put("from-api.txt", b"made by the REST API")
            wait_for("the new row", lambda: len(row("from-api.txt")) == 1)
        check("a file created through the API appears without a reload", created_elsewhere)

        def upload_from_page():
            content = ("uploaded through the page \u2713\n" * 40000).encode("utf-8")  # ~1.2 MB: progress by bytes
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "from-page.txt")
                with open(path, "wb") as f:
                    f.write(content)
                driver.find_element(By.ID, "picker").send_keys(path)
                wait_for("the uploaded row", lambda: len(row("from-page.txt")) == 1)
            assert get("from-page.txt") == content, "the server has other bytes"
            bar = driver.find_element(By.ID, "transfer-bar")
            wait_for("the progress bar at the file's size", lambda: int(float(bar.get_attribute("max"))) == len(content)
                     and int(float(bar.get_attribute("value"))) == len(content))
            assert "Uploaded from-page.txt" in driver.find_element(By.ID, "log").text, driver.find_element(By.ID, "log").text
        check("a file uploaded through the page reaches the server, its progress counted in bytes", upload_from_page)

        def delete_from_page():
            button(row("from-api.txt")[0], "Delete from-api.txt").click()
            driver.switch_to.alert.accept()
            wait_for("the row to go", lambda: len(row("from-api.txt")) == 0)
            assert status("from-api.txt") == 404, "still downloadable"
        check("deleting from the page removes the file", delete_from_page)

        def rename_from_page():
            button(row("from-page.txt")[0], "Rename from-page.txt").click()
            alert = driver.switch_to.alert
            alert.send_keys("renamed.txt")
            alert.accept()
            wait_for("the renamed row", lambda: len(row("renamed.txt")) == 1 and len(row("from-page.txt")) == 0)
            assert status("renamed.txt") == 200 and status("from-page.txt") == 404
        check("renaming from the page moves the file on the server", rename_from_page)

        def folders():
            put("docs/deep/inner.txt", b"inside")
            wait_for("the docs folder row", lambda: len(row("docs")) == 1)
            assert len(row("docs/deep/inner.txt")) == 0, "only this folder's entries are listed"
            link = row("docs")[0].find_element(By.CSS_SELECTOR, "td.name a")
            link.send_keys(Keys.ENTER)  # keyboard: a folder is a link
            wait_for("inside docs", lambda: len(row("docs/deep")) == 1)
            row("docs/deep")[0].find_element(By.CSS_SELECTOR, "td.name a").click()
            wait_for("inside docs/deep", lambda: len(row("docs/deep/inner.txt")) == 1)
            crumbs = driver.find_element(By.ID, "crumbs").text
            assert "docs" in crumbs and "deep" in crumbs, crumbs
            shot("folder")
            driver.find_element(By.ID, "mkdir").click()
            alert = driver.switch_to.alert
            alert.send_keys("made here")
            alert.accept()
            wait_for("the new folder on the server", lambda: any(f["path"] == "docs/deep/made here" and f["is_directory"] for f in listing()))
            wait_for("its row", lambda: len(row("docs/deep/made here")) == 1)
            driver.find_element(By.CSS_SELECTOR, "#crumbs a").click()  # Home
            wait_for("back home", lambda: len(row("docs")) == 1 and len(row("renamed.txt")) == 1)
        check("folders open, breadcrumbs lead back, a new folder is made where one is", folders)

        def disk_change():
            with open(os.path.join(args.root, "written-on-disk.txt"), "w") as f:
                f.write("from another program")
            wait_for("the row of a file written on disk", lambda: len(row("written-on-disk.txt")) == 1)
        check("a change on disk appears live", disk_change)

        def filter_and_conflict():
            put("plan (conflict bob 2026-12-07 101010).txt", b"bob's version")
            wait_for("the conflict copy's row", lambda: len(row("plan (conflict bob 2026-12-07 101010).txt")) == 1)
            badge = row("plan (conflict bob 2026-12-07 101010).txt")[0].find_elements(By.CSS_SELECTOR, ".badge")
            assert badge and "conflict copy" in badge[0].text, "no conflict mark"
            assert not row("renamed.txt")[0].find_elements(By.CSS_SELECTOR, ".badge"), "marked without being a conflict copy"
            box = driver.find_element(By.ID, "filter")
            box.send_keys("plan")
            wait_for("only the match", lambda: len(row("renamed.txt")) == 0 and len(row("plan (conflict bob 2026-12-07 101010).txt")) == 1)
            shot("filtered")
            box.clear()
            box.send_keys(" ")
            box.send_keys(Keys.BACKSPACE)
            wait_for("everything again", lambda: len(row("renamed.txt")) == 1)
        check("the filter box narrows the list; conflict copies are marked", filter_and_conflict)

        def accessible():
            for b in driver.find_elements(By.CSS_SELECTOR, "#files button"):
                assert b.get_attribute("aria-label"), "a button without a label"
            assert driver.find_elements(By.CSS_SELECTOR, "label[for=filter]"), "the filter has no label"
            assert not driver.find_elements(By.XPATH, "//*[contains(text(), '\U0001F4C1') or contains(text(), '\U0001F4C4')]"), "emoji icons"
            assert driver.find_elements(By.CSS_SELECTOR, "#files svg.icon use"), "no SVG icons"
        check("buttons and the filter are labelled, icons are SVG", accessible)
    finally:
        driver.quit()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
