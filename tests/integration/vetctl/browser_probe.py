"""Open an HTML report in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright;
no browser is downloaded) and print what a test asserts on, as JSON:

    python tests/integration/vetctl/browser_probe.py REPORT.html OUT_DIR

- ``console_errors``: console messages of type error and uncaught page errors;
- ``requests``: every request the page made; ``blocked``: those other than the file itself,
  which are aborted (the page must make none);
- ``charts``: per chart container id, the number of <svg> elements ECharts drew in it,
  and ``rendered``: the page's own count of charts it initialised;
- ``cells``: every figure of the page's tables (``data-table``/``data-area``/``data-key``/
  ``data-month`` and the text shown);
- ``screenshot`` (full page PNG) and ``pdf`` (A4, print media) written into OUT_DIR, with
  the PDF's page count.

A process of its own because the test process is monkey-patched by eventlet, which
Playwright's sync API (asyncio and a driver subprocess) does not run under."""

import json
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"


def probe(report: Path, out: Path) -> dict:
    url = report.resolve().as_uri()
    found: dict = {"console_errors": [], "requests": [], "blocked": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 900, "height": 1200})
            page.on(
                "console",
                lambda m: found["console_errors"].append(m.text) if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: found["console_errors"].append(str(e)))
            page.on("requestfailed", lambda r: found["console_errors"].append(f"failed {r.url}"))

            def route(r):
                found["requests"].append(r.request.url)
                if r.request.url == url:
                    return r.continue_()
                found["blocked"].append(r.request.url)
                return r.abort()

            page.route("**/*", route)
            page.goto(url, wait_until="load")
            page.wait_for_function("document.documentElement.dataset.chartsRendered !== undefined")
            found["rendered"] = int(page.get_attribute("html", "data-charts-rendered") or -1)
            found["charts"] = page.eval_on_selector_all(
                ".chart",
                "els => Object.fromEntries(els.map(e => [e.id, e.querySelectorAll('svg').length]))",
            )
            found["empty_figures"] = page.eval_on_selector_all(
                "[data-empty]", "els => els.map(e => e.dataset.empty)"
            )
            found["chart_texts"] = page.eval_on_selector_all(
                ".chart svg text", "els => els.map(e => e.textContent)"
            )
            found["cells"] = page.eval_on_selector_all(
                "[data-table]",
                """els => els.map(e => ({table: e.dataset.table, area: e.dataset.area ?? null,
                    key: e.dataset.key, month: e.dataset.month ?? null,
                    text: e.textContent}))""",
            )
            found["title"] = page.title()
            screenshot = out / "report.png"
            page.screenshot(path=str(screenshot), full_page=True)
            found["screenshot"] = str(screenshot)
            page.emulate_media(media="print")
            pdf = out / "report.pdf"
            page.pdf(path=str(pdf), format="A4", prefer_css_page_size=True, print_background=True)
            found["pdf"] = str(pdf)
            found["pdf_pages"] = pdf.read_bytes().count(b"/Type /Page") - pdf.read_bytes().count(
                b"/Type /Pages"
            )
        finally:
            browser.close()
    return found


if __name__ == "__main__":
    print(json.dumps(probe(Path(sys.argv[1]), Path(sys.argv[2])), ensure_ascii=False))
