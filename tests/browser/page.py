"""The few things the tests do to the page, each waiting for the page to get there
(the page is asynchronous: every click starts a fetch)."""

from __future__ import annotations

import base64

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import SCREENSHOTS

TIMEOUT = 10


# axe-core's impacts that fail a test; "minor" and "moderate" ones are reported only.
FAILING_IMPACTS = ("serious", "critical")


class Page:
    def __init__(self, driver: WebDriver, url: str, axe: str | None = None):
        self.driver = driver
        self.url = url
        self.axe = axe
        self.checked: list[str] = []  # the states axe found no serious violation in

    def open(self, path: str = "/") -> None:
        self.driver.get(self.url + path)

    def until(self, condition, what: str):
        return WebDriverWait(
            self.driver, TIMEOUT, ignored_exceptions=(StaleElementReferenceException,)
        ).until(lambda _: condition(), what)

    def find(self, css: str) -> WebElement:
        return self.until(
            lambda: next(
                (e for e in self.driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()),
                None,
            ),
            f"{css} shown",
        )

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str) -> str:
        return self.find(css).text

    def has_text(self, css: str, text: str) -> WebElement:
        """The first shown element matching css whose text holds `text`."""
        return self.until(
            lambda: next((e for e in self.all(css) if e.is_displayed() and text in e.text), None),
            f"{css} with {text!r}",
        )

    def click(self, css: str, text: str | None = None) -> None:
        (self.has_text(css, text) if text else self.find(css)).click()

    def type(self, css: str, value: str) -> None:
        # As a person does (clear() alone fires no input event): select all, delete, type.
        field = self.find(css)
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(Keys.DELETE)
        if value:
            field.send_keys(value)

    def choose(self, css: str, value: str) -> None:
        # By the option's value property: <option>email</option> has no value attribute.
        select = Select(self.find(css))
        values = [option.get_property("value") for option in select.options]
        select.select_by_index(values.index(value))

    def notice(self, text: str) -> str:
        return self.has_text("#notice", text).text

    def accessible(self, name: str) -> None:
        """axe-core over the page as it is now: no serious or critical violation."""
        if self.axe is None:
            return
        if not self.driver.execute_script("return Boolean(window.axe)"):
            # Given through WebDriver, which the page's CSP does not govern.
            self.driver.execute_script(
                self.axe + "\n;if (typeof axe !== 'undefined') window.axe = axe;"
            )
        found = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']})"
            ".then((r) => done(r.violations.map((v) => ({id: v.id, impact: v.impact,"
            " help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' '))}))))"
            ".catch((e) => done([{id: 'axe-error', impact: 'critical', help: String(e),"
            " nodes: []}]));"
        )
        bad = [v for v in found if v["impact"] in FAILING_IMPACTS]
        assert bad == [], f"{name}: {bad}"
        self.checked.append(name)

    def shot(self, name: str) -> None:
        """The whole page, not just the window: a tab's rows below the fold are in it.
        Every state shot is also checked by axe-core."""
        self.accessible(name)
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "captureBeyondViewport": True,
                "clip": {
                    "x": 0,
                    "y": 0,
                    "width": size["width"],
                    "height": size["height"],
                    "scale": 1,
                },
            },
        )
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))
