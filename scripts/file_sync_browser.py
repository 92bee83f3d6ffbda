#!/usr/bin/env python3
"""Headless Chromium against file_sync's page (driven by Selenium).

    file_sync_browser.py --url http://127.0.0.1:PORT/

Checks, each bounded in time:
  1. the page loads and its WebSocket goes live (#status says "live");
  2. a file created through the REST API appears in the list without a reload;
  3. a file chosen in the page's file input is uploaded and its bytes reach the server;
  4. deleting a file from the page removes it on the server and from the list.
Prints one line per check and a closing line "N passed, N failed"; exit status 0 only if all passed.
Needs: Debian chromium + chromium-driver, PyPI selenium (scripts/deps.sh sets both up).
"""
import argparse
import os
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


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
        return driver.find_elements(By.CSS_SELECTOR, f'tr[data-path="{path}"]')

    try:
        def live():
            driver.get(base + "/")
            wait_for("#status = live", lambda: driver.find_element(By.ID, "status").text == "live")
        check("page loads and its WebSocket goes live", live)

        def created_elsewhere():
            req = urllib.request.Request(base + "/api/upload/from-api.txt", data=b"made by the REST API", method="PUT",
                                         headers={"X-Client-Id": "browser-test"})
            with urllib.request.urlopen(req, timeout=10) as r:
                assert r.status == 201, r.status
            wait_for("the new row", lambda: len(row("from-api.txt")) == 1)
        check("a file created through the API appears without a reload", created_elsewhere)

        def upload_from_page():
            content = "uploaded through the page \u2713\n"
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "from-page.txt")
                with open(path, "w", encoding="utf-8") as f:
                    f.write(content)
                driver.find_element(By.ID, "picker").send_keys(path)
                wait_for("the uploaded row", lambda: len(row("from-page.txt")) == 1)
            with urllib.request.urlopen(base + "/api/download/from-page.txt", timeout=10) as r:
                body = r.read().decode("utf-8")
            assert body == content, repr(body)
        check("a file uploaded through the page reaches the server", upload_from_page)

        def delete_from_page():
            button = row("from-api.txt")[0].find_element(By.TAG_NAME, "button")
            button.click()
            driver.switch_to.alert.accept()
            wait_for("the row to go", lambda: len(row("from-api.txt")) == 0)
            try:
                urllib.request.urlopen(base + "/api/download/from-api.txt", timeout=10)
                raise AssertionError("still downloadable")
            except urllib.error.HTTPError as e:
                assert e.code == 404, e.code
        check("deleting from the page removes the file", delete_from_page)
    finally:
        driver.quit()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
