import { expect, Page, test } from "@playwright/test";
import { login, waitLive } from "./helpers";

// Each clinic writes dates and times its own way (issue 12, point 8): the
// demo's Northside (New York) in US style with a 12-hour clock, Harbour
// Dental (Sydney) in Australian order with "am"/"pm".

const US_TIME = /^\d{1,2}:\d{2} (AM|PM)$/;
const AU_TIME = /^\d{1,2}:\d{2} (am|pm)$/;
const H24_TIME = /^\d{2}:\d{2}$/;

/** Opens a clinic's booking page with a service chosen (logged in, so
 * the page's live stream says when it is hydrated). */
async function bookingPage(page: Page, slug: string, heading: string, service: RegExp) {
  await page.goto(`/book/${slug}`);
  await expect(page.getByRole("heading", { name: heading })).toBeVisible();
  await waitLive(page);
  await page.getByRole("radio", { name: service }).check();
  await expect(page.locator("button.slot").first()).toBeVisible();
}

/** The free times shown for the day on screen, as their text. */
async function slotTimes(page: Page): Promise<string[]> {
  return (await page.locator("button.slot").allTextContents()).map((t) => t.trim());
}

test("Northside's booking page and Schedule show 12-hour US times", async ({ page, browser }) => {
  await login(page, "ann@patients.test");
  await bookingPage(page, "northside", "Northside Telehealth", /Video consultation/);
  const times = await slotTimes(page);
  expect(times.length).toBeGreaterThan(0);
  for (const t of times) expect(t).toMatch(US_TIME);
  // The day reads "Mon, Nov 30 · 12 free times".
  await expect(page.locator(".day-nav h3")).toHaveText(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [A-Z][a-z]{2} \d{1,2} · \d+ free times?$/);

  const staff = await (await browser.newContext()).newPage();
  await login(staff, "scheduler@northside.test");
  await staff.goto("/schedule");
  await waitLive(staff);
  await expect(staff.locator(".sched-title")).toHaveText(/^Week of Mon, [A-Z][a-z]{2} \d{1,2}, \d{4}$/);
  const hours = (await staff.locator(".sched-hour").allTextContents()).map((t) => t.trim());
  expect(hours.length).toBeGreaterThan(0);
  for (const h of hours) expect(h).toMatch(/^\d{1,2} (AM|PM)$/);
});

test("Harbour Dental's booking page shows Australian times, and its admin can switch to 24-hour", async ({ page }) => {
  await login(page, "admin@harbour.test");
  await bookingPage(page, "harbour", "Harbour Dental", /Check-up/);
  for (const t of await slotTimes(page)) expect(t).toMatch(AU_TIME);
  // The day reads "Mon 30 Nov · 12 free times".
  await expect(page.locator(".day-nav h3")).toHaveText(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} · \d+ free times?$/);

  // The admin chooses the 24-hour style under Clinic; the page follows.
  await page.goto("/settings");
  await waitLive(page);
  const style = page.getByLabel("How pages and messages write dates and times");
  await expect(style).toHaveValue("en-AU");
  await style.selectOption("24h");
  await page.getByRole("button", { name: "Save date and time style" }).click();
  await expect(page.getByRole("status")).toContainText("Date and time style saved.");
  try {
    await bookingPage(page, "harbour", "Harbour Dental", /Check-up/);
    for (const t of await slotTimes(page)) expect(t).toMatch(H24_TIME);
  } finally {
    // Other specs expect the demo's Australian style.
    await page.goto("/settings");
    await waitLive(page);
    await page.getByLabel("How pages and messages write dates and times").selectOption("en-AU");
    await page.getByRole("button", { name: "Save date and time style" }).click();
    await expect(page.getByRole("status")).toContainText("Date and time style saved.");
  }
  await bookingPage(page, "harbour", "Harbour Dental", /Check-up/);
  for (const t of await slotTimes(page)) expect(t).toMatch(AU_TIME);
});
