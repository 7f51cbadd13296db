"""Screenshot a report page in Debian's chromium (for the README).

    python tools/screenshot.py PAGE.html OUT.png [WIDTH HEIGHT] [--fill SELECTOR=TEXT] [--select SELECTOR=VALUE]

``--fill`` types into a field and ``--select`` picks an option (e.g. the index page's search box ``#q`` and its
province filter ``#province``) before the picture is taken.
"""

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def main() -> None:
    args = sys.argv[1:]
    actions = []
    for flag in ("--fill", "--select"):
        while flag in args:
            i = args.index(flag)
            selector, _, value = args[i + 1].partition("=")
            actions.append((flag, selector, value))
            del args[i:i + 2]
    page_path, out = Path(args[0]).resolve(), args[1]
    width, height = (int(args[2]), int(args[3])) if len(args) > 3 else (1280, 1600)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(page_path.as_uri())
        for flag, selector, value in actions:
            if flag == "--fill":
                page.fill(selector, value)
            else:
                page.select_option(selector, value)
        page.wait_for_timeout(2500)
        page.screenshot(path=out, full_page=False)
        browser.close()


if __name__ == "__main__":
    main()
