"""Screenshot a report page in Debian's chromium (for the README): python tools/screenshot.py PAGE.html OUT.png [WIDTH HEIGHT]."""

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def main() -> None:
    page_path, out = Path(sys.argv[1]).resolve(), sys.argv[2]
    width, height = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) > 4 else (1280, 1600)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(page_path.as_uri())
        page.wait_for_timeout(2500)
        page.screenshot(path=out, full_page=False)
        browser.close()


if __name__ == "__main__":
    main()
