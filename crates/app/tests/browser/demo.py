"""The demo's stories in headless Chromium: log in to `herald demo --ui`, open the Delivered tab of
the demo campaign and follow "Didn't receive it?" for the copy filed in Junk and for the one held
in a quarantine; save screenshots. Prints one JSON object with what each why page said."""
import json
import sys

import chrome

from selenium.webdriver.common.by import By

base, email, password, artifacts = sys.argv[1:5]

driver = chrome.start()
seen = {}
try:
    chrome.log_in(driver, base, email, password)
    wait = chrome.waiter(driver)
    for who, shot in (("carla@junk.example", "demo-junk"), ("eve@quarantine.example", "demo-quarantine")):
        driver.get(f"{base}/campaigns/1?tab=delivered")
        row = driver.find_element(By.XPATH, f"//tr[contains(., '{who}')]")
        row.find_element(By.LINK_TEXT, "Didn't receive it?").click()
        wait.until(lambda d: "/why/" in d.current_url and d.find_elements(By.CSS_SELECTOR, "pre.it-report"))
        seen[who] = {
            "state": driver.find_element(By.CSS_SELECTOR, "p.state").text,
            "findings": {li.get_attribute("data-code"): li.text
                         for li in driver.find_elements(By.CSS_SELECTOR, "ul.findings li")},
            "it_report": driver.find_element(By.CSS_SELECTOR, "pre.it-report").text,
        }
        driver.save_screenshot(f"{artifacts}/{shot}.png")
finally:
    driver.quit()
print(json.dumps(seen))
