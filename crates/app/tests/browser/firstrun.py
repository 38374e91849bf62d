"""The first run in headless Chromium, without the CLI after `herald init`: log in with the
password init printed, follow Getting started — connect a domain (its records shown), add a seed,
import contacts, write a campaign, send a test, send it — and read the steps ticked at the end.
Screenshots `firstrun-*.png`. Prints one JSON object with what it saw."""
import json
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

base, email, password, csv_path, artifacts = sys.argv[1:6]

opts = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1600",
          "--disable-dev-shm-usage"):
    opts.add_argument(a)
opts.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
driver.set_page_load_timeout(30)
wait = WebDriverWait(driver, 20)
seen = {}


def step_link(title_start):
    """Follow the Getting started step whose title starts with `title_start`."""
    driver.get(f"{base}/start")
    for li in driver.find_elements(By.CSS_SELECTOR, "#steps li"):
        if li.find_element(By.TAG_NAME, "strong").text.lstrip("✓ ").startswith(title_start):
            li.find_element(By.TAG_NAME, "a").click()
            return
    raise AssertionError(f"no step {title_start!r}")


try:
    driver.get(f"{base}/login")
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait.until(lambda d: "/login" not in d.current_url)
    driver.get(f"{base}/start")
    seen["progress_before"] = driver.find_element(By.ID, "progress").text
    driver.save_screenshot(f"{artifacts}/firstrun-start.png")

    # 1. Connect the domain: its records are shown to publish.
    step_link("Connect the domain")
    form = driver.find_element(By.ID, "add-domain")
    form.find_element(By.NAME, "domain").send_keys("firstrun.example")
    form.submit()
    wait.until(lambda d: "_domainkey" in d.find_element(By.TAG_NAME, "main").text)
    seen["records_shown"] = "_domainkey.firstrun.example" in driver.find_element(By.TAG_NAME, "main").text
    driver.save_screenshot(f"{artifacts}/firstrun-domain.png")

    # 2. A seed mailbox (the sandbox plays its receiver: no login to try).
    step_link("Add seed mailboxes")
    form = driver.find_element(By.ID, "add-seed")
    form.find_element(By.NAME, "provider").send_keys("junk")
    form.find_element(By.NAME, "imap").send_keys("imap.junk.example:993")
    form.find_element(By.NAME, "user").send_keys("seed@junk.example")
    form.find_element(By.NAME, "password").send_keys("Pw-4f9c1-secret")
    form.submit()
    wait.until(lambda d: "seed@junk.example" in d.find_element(By.TAG_NAME, "table").text)
    seen["password_shown"] = "Pw-4f9c1-secret" in driver.page_source

    # 3. Contacts from a CSV.
    step_link("Bring your contacts")
    driver.get(f"{base}/contacts")
    lst = driver.find_element(By.NAME, "list")
    lst.clear()
    lst.send_keys("first")
    driver.find_element(By.NAME, "file").send_keys(csv_path)
    driver.find_element(By.CSS_SELECTOR, "#import-form button").click()
    wait.until(lambda d: d.find_elements(By.ID, "import-result"))
    seen["import"] = driver.find_element(By.ID, "import-result").text

    # 4. A campaign from the connected domain, and a test copy.
    step_link("Write a campaign")
    driver.get(f"{base}/campaigns/new")
    form = driver.find_element(By.ID, "compose-form")
    form.find_element(By.NAME, "name").send_keys("First")
    Select(form.find_element(By.NAME, "list")).select_by_value("first")
    form.find_element(By.NAME, "from").send_keys("News <news@firstrun.example>")
    form.find_element(By.NAME, "subject").send_keys("Hello {{ contact.first_name }}")
    form.submit()
    wait.until(lambda d: d.find_elements(By.ID, "test-form"))
    test = driver.find_element(By.ID, "test-form")
    test.find_element(By.NAME, "to").send_keys("me@example.com")
    test.submit()
    wait.until(lambda d: d.find_elements(By.ID, "notice") or d.find_elements(By.ID, "message"))
    seen["test"] = (driver.find_elements(By.ID, "notice") or driver.find_elements(By.ID, "message"))[0].text
    driver.save_screenshot(f"{artifacts}/firstrun-campaign.png")

    # 5. Send it.
    driver.find_element(By.CSS_SELECTOR, "form.send button").click()
    for _ in range(60):
        driver.refresh()
        if "sent" in driver.find_element(By.CSS_SELECTOR, "h1 .status").text:
            break
        time.sleep(0.5)
    seen["status"] = driver.find_element(By.CSS_SELECTOR, "h1 .status").text
    seen["delivered_figure"] = driver.find_element(By.ID, "figure-delivered").text

    driver.get(f"{base}/start")
    seen["progress_after"] = driver.find_element(By.ID, "progress").text
    seen["done_steps"] = [li.find_element(By.TAG_NAME, "strong").text
                          for li in driver.find_elements(By.CSS_SELECTOR, "#steps li.done")]
    driver.save_screenshot(f"{artifacts}/firstrun-done.png")
finally:
    driver.quit()
print(json.dumps(seen))
