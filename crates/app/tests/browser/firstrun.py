"""The first run in headless Chromium, without the CLI after `herald init`: log in with the
password init printed, follow Getting started — connect a domain (its records shown), add a seed,
import contacts, write a campaign, send a test, send it — and read the steps ticked at the end.
Screenshots `firstrun-*.png`. Prints one JSON object with what it saw."""
import json
import os
import subprocess
import sys
import tempfile
import time

import chrome

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

base, email, password, csv_path, imap, artifacts = sys.argv[1:7]

driver = chrome.start()
wait = chrome.waiter(driver)
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
    chrome.log_in(driver, base, email, password)
    driver.get(f"{base}/start")
    seen["progress_before"] = driver.find_element(By.ID, "progress").text
    driver.save_screenshot(f"{artifacts}/firstrun-start.png")

    # 1. Connect the domain: its records are shown to publish.
    step_link("Connect the domain")
    form = driver.find_element(By.ID, "add-domain")
    form.find_element(By.NAME, "domain").send_keys("firstrun.example")
    form.submit()
    chrome.after(driver, form)
    wait.until(lambda d: "_domainkey" in d.find_element(By.TAG_NAME, "main").text)
    seen["records_shown"] = "_domainkey.firstrun.example" in driver.find_element(By.TAG_NAME, "main").text
    driver.save_screenshot(f"{artifacts}/firstrun-domain.png")

    # 1b. Publish the records as shown, at "the DNS provider" (the recipient world's dnsmasq,
    #     through its publish script: what a user does in their provider's console), then
    #     Verify now.
    step_link("Publish its records")
    section = driver.find_element(By.XPATH, "//section[@id='domain-firstrun.example']")
    lines = []
    for row in section.find_elements(By.CSS_SELECTOR, "table.records tbody tr"):
        cells = row.find_elements(By.TAG_NAME, "td")
        rtype, name = cells[1].text, cells[2].text
        value = row.find_element(By.CSS_SELECTOR, "button.copy").get_attribute("data-value")
        if rtype == "TXT":
            # A TXT record longer than 255 bytes is published as several strings.
            chunks = [value[i:i + 255] for i in range(0, len(value), 255)]
            lines.append("txt-record=%s,%s" % (name, ",".join('"%s"' % c for c in chunks)))
        elif rtype == "MX":
            pref, host = value.split(" ", 1)
            lines.append("mx-host=%s,%s,%s" % (name, host.rstrip("."), pref))
    seen["published"] = len(lines)
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("\n".join(lines) + "\n")
    publish = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../../scripts/world/publish.sh")
    subprocess.run([publish, f.name], check=True)
    os.unlink(f.name)
    section = driver.find_element(By.XPATH, "//section[@id='domain-firstrun.example']")
    verify = section.find_element(By.XPATH, ".//button[text()='Verify now']")
    verify.click()
    chrome.after(driver, verify)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "table.verification"))
    seen["verified"] = driver.find_element(By.CSS_SELECTOR, "section.domain h3").text
    seen["verification"] = driver.find_element(By.CSS_SELECTOR, "table.verification").text

    # 2. A seed mailbox: the recipient world's Dovecot, its login tried before it is kept.
    step_link("Add seed mailboxes")
    form = driver.find_element(By.ID, "add-seed")
    form.find_element(By.NAME, "provider").send_keys("inbox")
    form.find_element(By.NAME, "imap").send_keys(imap)
    Select(form.find_element(By.NAME, "security")).select_by_value("plain")
    form.find_element(By.NAME, "user").send_keys("seed@inbox.test")
    form.find_element(By.NAME, "password").send_keys("secret")
    form.submit()
    chrome.after(driver, form)
    wait.until(lambda d: "seed@inbox.test" in d.find_element(By.TAG_NAME, "table").text)
    seen["password_shown"] = 'value="secret"' in driver.page_source

    # 3. Contacts from a CSV.
    step_link("Bring your contacts")
    driver.get(f"{base}/contacts")
    lst = driver.find_element(By.NAME, "list")
    lst.clear()
    lst.send_keys("first")
    driver.find_element(By.NAME, "file").send_keys(csv_path)
    imported = driver.find_element(By.CSS_SELECTOR, "#import-form button")
    imported.click()
    chrome.after(driver, imported)
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
    chrome.after(driver, form)
    wait.until(lambda d: d.find_elements(By.ID, "test-form"))
    test = driver.find_element(By.ID, "test-form")
    test.find_element(By.NAME, "to").send_keys("me@example.com")
    test.submit()
    chrome.after(driver, test)
    wait.until(lambda d: d.find_elements(By.ID, "notice") or d.find_elements(By.ID, "message"))
    seen["test"] = (driver.find_elements(By.ID, "notice") or driver.find_elements(By.ID, "message"))[0].text
    driver.save_screenshot(f"{artifacts}/firstrun-campaign.png")

    # 5. Send it.
    # Wait for the post's answer before refreshing: a refresh while it is in flight cancels it.
    send = driver.find_element(By.CSS_SELECTOR, "form.send")
    send.find_element(By.TAG_NAME, "button").click()
    chrome.after(driver, send)
    seen["send_problem"] = " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, ".problem"))
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

    # Times read as people read them: relative, the exact time on hover.
    driver.get(f"{base}/")
    t = driver.find_element(By.CSS_SELECTOR, "time[datetime]")
    seen["time"] = {"text": t.text, "title": t.get_attribute("title"),
                    "datetime": t.get_attribute("datetime")}

    # Every page: each form control has a label, each image an alt text, each button a name,
    # and nothing is wider than a 375 px phone.
    check = """
      var problems = [];
      document.querySelectorAll('input, select, textarea').forEach(function (el) {
        if (el.type === 'hidden') { return; }
        var labelled = el.closest('label') || el.getAttribute('aria-label') ||
          el.getAttribute('aria-labelledby') || (el.id && document.querySelector('label[for="' + el.id + '"]'));
        if (!labelled) { problems.push('unlabelled ' + el.tagName.toLowerCase() + ' ' + (el.name || el.id)); }
      });
      document.querySelectorAll('img').forEach(function (el) {
        if (!el.hasAttribute('alt')) { problems.push('img without alt ' + el.src); }
      });
      document.querySelectorAll('button').forEach(function (el) {
        if (!el.textContent.trim() && !el.getAttribute('aria-label')) { problems.push('unnamed button'); }
      });
      if (!document.documentElement.lang) { problems.push('no lang'); }
      if (document.documentElement.scrollWidth > window.innerWidth + 1) {
        problems.push('wider than the screen: ' + document.documentElement.scrollWidth + 'px');
      }
      return problems;
    """
    driver.set_window_size(375, 812)
    pages = ["/start", "/", "/campaigns/new", "/campaigns/1", "/campaigns/1?tab=delivered",
             "/campaigns/1/why/read.ann@example.com", "/contacts", "/lists", "/segments", "/queue",
             "/health", "/dmarc", "/domains", "/seeds", "/ips", "/suppressions", "/webhooks", "/users",
             "/campaigns/999"]
    seen["a11y"] = {}
    for path in pages:
        driver.get(f"{base}{path}")
        problems = driver.execute_script(check)
        if problems:
            seen["a11y"][path] = problems
    driver.save_screenshot(f"{artifacts}/firstrun-375.png")
finally:
    driver.quit()
print(json.dumps(seen))
