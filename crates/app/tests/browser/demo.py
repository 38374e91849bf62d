"""The demo's stories in headless Chromium: log in to `herald demo --ui`, open the Delivered tab of
the demo campaign and follow "Didn't receive it?" for the copy filed in Junk and for the one held
in a quarantine; save screenshots. Prints one JSON object with what each why page said."""
import json
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, email, password, artifacts = sys.argv[1:5]

opts = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1600",
          "--disable-dev-shm-usage"):
    opts.add_argument(a)
opts.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
driver.set_page_load_timeout(30)
seen = {}
try:
    driver.get(f"{base}/login")
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait = WebDriverWait(driver, 20)
    wait.until(lambda d: "/login" not in d.current_url)
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
