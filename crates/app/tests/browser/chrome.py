"""What the browser scripts share: Debian's headless Chromium through chromedriver, and logging in."""
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import (NoSuchElementException, StaleElementReferenceException,
                                        WebDriverException)
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait


def start():
    """A headless Chromium, 1280×1600, pages allowed 30 s."""
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1600",
              "--disable-dev-shm-usage"):
        opts.add_argument(a)
    opts.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    driver.set_page_load_timeout(30)
    return driver


def waiter(driver, seconds=20):
    """A wait whose condition may look at a page that is being replaced: an element gone with
    the old page (stale) or not on the new one yet counts as "not yet", not as a failure."""
    return WebDriverWait(driver, seconds,
                         ignored_exceptions=(NoSuchElementException, StaleElementReferenceException,
                                             WebDriverException))


def after(driver, element):
    """Wait until `element`'s page has been replaced (a form posted, a link followed), so what
    is looked at next is the new page's."""
    waiter(driver).until(expected_conditions.staleness_of(element))


def log_in(driver, base, email, password):
    """Log in on `base`'s login page and wait until it is left."""
    driver.get(f"{base}/login")
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()
    waiter(driver).until(lambda d: "/login" not in d.current_url)
