"""Drive Herald's web UI in headless Chromium (Debian's chromium + chromium-driver +
python3-selenium): log in, open the performance page, check the definitions, the Delivered and
Bounced tabs and the See-details panel, follow "Didn't receive it?", save screenshots, and prove
that user-supplied text is not executed. Prints one JSON object with what it saw."""
import json
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

base, campaign, email, password, artifacts = sys.argv[1:6]

opts = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1600",
          "--disable-dev-shm-usage"):
    opts.add_argument(a)
opts.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
driver.set_page_load_timeout(30)
seen = {}
try:
    driver.get(f"{base}/campaigns/{campaign}")
    seen["redirected_to_login"] = "/login" in driver.current_url
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()
    seen["after_login"] = driver.current_url
    driver.save_screenshot(f"{artifacts}/performance.png")
    seen["definition"] = driver.find_element(By.ID, "figure-delivered").text
    seen["xss"] = driver.execute_script("return window.xss === undefined ? null : window.xss")
    seen["title"] = driver.find_element(By.TAG_NAME, "h1").text

    driver.find_element(By.ID, "tab-delivered").click()
    seen["delivered_rows"] = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#recipients tbody td:first-child")]
    driver.save_screenshot(f"{artifacts}/delivered.png")
    driver.find_element(By.ID, "tab-bounced").click()
    seen["bounced_rows"] = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#recipients tbody td:first-child")]
    driver.save_screenshot(f"{artifacts}/bounced.png")

    details = driver.find_element(By.ID, "see-details")
    details.find_element(By.TAG_NAME, "summary").click()
    seen["details_open"] = details.get_attribute("open") is not None
    seen["details"] = details.text
    driver.save_screenshot(f"{artifacts}/see-details.png")

    driver.find_element(By.ID, "tab-delivered").click()
    driver.find_element(By.LINK_TEXT, "Didn't receive it?").click()
    seen["why_codes"] = [li.get_attribute("data-code") for li in driver.find_elements(By.CSS_SELECTOR, "ul.findings li")]
    seen["it_report"] = driver.find_element(By.CSS_SELECTOR, "pre.it-report").text
    driver.save_screenshot(f"{artifacts}/why.png")
finally:
    driver.quit()
print(json.dumps(seen))
