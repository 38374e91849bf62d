"""Drive Herald's web UI in headless Chromium (Debian's chromium + chromium-driver +
python3-selenium) through the whole flow: log in, import a CSV, compose with a preview, meet the
From gate, create, send, then check the performance page (definitions, the Delivered and Bounced
tabs, See details), follow "Didn't receive it?", save screenshots, and prove that user-supplied
text is not executed. Prints one JSON object with what it saw."""
import json
import sys
import time

import chrome

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

base, csv_path, email, password, artifacts = sys.argv[1:6]

driver = chrome.start()
seen = {}
try:
    driver.get(f"{base}/")
    seen["redirected_to_login"] = "/login" in driver.current_url
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait = chrome.waiter(driver)
    wait.until(lambda d: "/login" not in d.current_url)

    # Import the contacts.
    driver.get(f"{base}/contacts")
    lst = driver.find_element(By.NAME, "list")
    lst.clear()
    lst.send_keys("browser")
    driver.find_element(By.NAME, "file").send_keys(csv_path)
    driver.find_element(By.CSS_SELECTOR, "#import-form button").click()
    wait.until(lambda d: d.find_elements(By.ID, "import-result") or d.find_elements(By.ID, "import-error"))
    seen["import"] = driver.find_element(By.ID, "import-result").text
    seen["rejected_rows"] = len(driver.find_elements(By.CSS_SELECTOR, "#rejected tbody tr"))
    driver.save_screenshot(f"{artifacts}/import.png")

    # Compose, preview, create.
    driver.get(f"{base}/campaigns/new")
    form = driver.find_element(By.ID, "compose-form")
    form.find_element(By.NAME, "name").send_keys("<script>window.xss=1</script>November")
    Select(form.find_element(By.NAME, "list")).select_by_value("browser")
    form.find_element(By.NAME, "from").send_keys("News <news@world-sender.test>")
    form.find_element(By.NAME, "subject").send_keys("Hello {{ contact.first_name }}")
    driver.find_element(By.ID, "preview-button").click()
    chrome.waiter(driver, 10).until(lambda d: d.find_element(By.ID, "preview-subject").text != "")
    seen["preview_subject"] = driver.find_element(By.ID, "preview-subject").text
    driver.save_screenshot(f"{artifacts}/compose.png")
    # Without the override the gate refuses the unconnected domain, and nothing typed is lost.
    form.submit()
    wait.until(lambda d: d.find_elements(By.ID, "compose-error"))
    seen["gate_message"] = driver.find_element(By.ID, "compose-error").text
    form = driver.find_element(By.ID, "compose-form")
    seen["kept_name"] = form.find_element(By.NAME, "name").get_attribute("value")
    form.find_element(By.NAME, "allow_unverified").click()
    form.submit()
    wait.until(lambda d: "/campaigns/new" not in d.current_url and d.find_elements(By.CSS_SELECTOR, "form.send button"))
    seen["created_at"] = driver.current_url

    # Send (twice, as a double click would) and wait for the result.
    driver.find_element(By.CSS_SELECTOR, "form.send button").click()
    wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, "form.send button"))
    for _ in range(60):
        driver.refresh()
        if "sent" in driver.find_element(By.CSS_SELECTOR, "h1 .status").text:
            break
        time.sleep(0.5)
    seen["after_login"] = driver.current_url
    driver.save_screenshot(f"{artifacts}/performance.png")
    seen["definition"] = driver.find_element(By.ID, "figure-delivered").text
    seen["xss"] = driver.execute_script("return window.xss === undefined ? null : window.xss")
    seen["title"] = driver.find_element(By.TAG_NAME, "h1").text

    driver.find_element(By.ID, "tab-delivered").click()
    wait.until(lambda d: "tab=delivered" in d.current_url)
    seen["delivered_rows"] = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#recipients tbody td:first-child")]
    driver.save_screenshot(f"{artifacts}/delivered.png")
    driver.find_element(By.ID, "tab-bounced").click()
    wait.until(lambda d: "tab=bounced" in d.current_url)
    seen["bounced_rows"] = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#recipients tbody td:first-child")]
    driver.save_screenshot(f"{artifacts}/bounced.png")

    details = driver.find_element(By.ID, "see-details")
    details.find_element(By.TAG_NAME, "summary").click()
    seen["details_open"] = details.get_attribute("open") is not None
    seen["details"] = details.text
    driver.save_screenshot(f"{artifacts}/see-details.png")

    driver.find_element(By.ID, "tab-delivered").click()
    wait.until(lambda d: "tab=delivered" in d.current_url)
    driver.find_element(By.LINK_TEXT, "Didn't receive it?").click()
    wait.until(lambda d: "/why/" in d.current_url and d.find_elements(By.CSS_SELECTOR, "pre.it-report"))
    seen["why_codes"] = [li.get_attribute("data-code") for li in driver.find_elements(By.CSS_SELECTOR, "ul.findings li")]
    seen["it_report"] = driver.find_element(By.CSS_SELECTOR, "pre.it-report").text
    driver.save_screenshot(f"{artifacts}/why.png")

    # The chart, a contact's timeline from the search, the domains and suppressions pages.
    driver.get(seen["after_login"])
    seen["chart_bars"] = len(driver.find_elements(By.CSS_SELECTOR, "#chart rect"))
    driver.get(f"{base}/contacts")
    search = driver.find_element(By.CSS_SELECTOR, "#contact-search input[name=q]")
    search.send_keys("alice")
    search.submit()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#found a"))
    driver.find_element(By.CSS_SELECTOR, "#found a").click()
    wait.until(lambda d: d.find_elements(By.ID, "timeline"))
    seen["timeline_states"] = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#timeline tbody td:nth-child(2)")]
    driver.save_screenshot(f"{artifacts}/contact.png")
    driver.get(f"{base}/domains")
    seen["copy_buttons"] = len(driver.find_elements(By.CSS_SELECTOR, "button.copy"))
    driver.save_screenshot(f"{artifacts}/domains.png")
    driver.get(f"{base}/suppressions")
    seen["suppressions_page"] = driver.find_element(By.TAG_NAME, "h1").text
finally:
    driver.quit()
print(json.dumps(seen))
