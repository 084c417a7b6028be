import { expect, Page, test } from "@playwright/test";
import { readFileSync } from "fs";
import { bookAppointment, hoursFromNow, login, openBookingPage, registerPatient, waitLive } from "./helpers";

// Issue 12, point 4: a provider lands on their Dashboard, accepts a request
// at one of its requested times, finds the meeting among their upcoming
// ones, and shares a booking link that opens with them chosen.

async function noSidewaysScroll(page: Page) {
  const { vw, sw } = await page.evaluate(() => ({
    vw: window.innerWidth,
    sw: document.documentElement.scrollWidth,
  }));
  expect(sw, `the Dashboard at ${vw}px is ${sw}px wide`).toBeLessThanOrEqual(vw);
}

test("a provider accepts a request from the dashboard at one of its times", async ({ browser }) => {
  // A new patient asks Dr. Lee for two times.
  const patientCtx = await browser.newContext();
  const patient = await patientCtx.newPage();
  await registerPatient(patient, "Dee Ashboard");
  await openBookingPage(patient);
  await patient.getByRole("radio", { name: /Video consultation/ }).check();
  await patient.getByLabel("Request To").selectOption({ label: "Dr. Jordan Lee" });
  await patient.getByRole("group", { name: "Day" }).getByRole("button").nth(6).click();
  const slots = patient.locator("button.slot");
  await slots.nth(1).click();
  await slots.nth(4).click();
  await expect(patient.locator(".chosen .chip")).toHaveCount(2);
  await patient.getByLabel("What would you like to discuss?").fill("Dashboard check");
  await patient.getByRole("button", { name: "Send request" }).click();
  await expect(patient.getByRole("status")).toContainText("sent");
  const requestNo = (await patient.getByRole("status").textContent())!.match(/#(\d+)/)![1];

  // Dr. Lee logs in, on a phone, and lands on the Dashboard.
  const drCtx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const dr = await drCtx.newPage();
  await login(dr, "dr.lee@northside.test");
  await expect(dr).toHaveURL(/\/dashboard$/);
  await expect(dr.getByRole("heading", { name: "Dashboard", level: 1 })).toBeVisible();
  await waitLive(dr);
  const card = dr.locator(`article[data-request="${requestNo}"]`);
  await expect(card).toContainText("Dee Ashboard");
  await expect(card).toContainText("Dashboard check");
  const accepts = card.getByRole("button", { name: /^Accept / });
  await expect(accepts).toHaveCount(2);
  await noSidewaysScroll(dr);

  // The second requested time.
  const time = (await accepts.nth(1).textContent())!.replace(/^Accept /, "").trim();
  await accepts.nth(1).click();
  await expect(dr.getByRole("status")).toContainText("Accepted");
  await expect(card).toHaveCount(0);
  const upcoming = dr.getByRole("region", { name: "Upcoming" });
  const meeting = upcoming.getByRole("listitem").filter({ hasText: "Dee Ashboard" });
  await expect(meeting).toHaveCount(1);
  await expect(meeting).toContainText(time);
  await noSidewaysScroll(dr);

  // The patient's request is answered with that meeting.
  await patient.goto("/portal");
  await waitLive(patient);
  await expect(patient.locator(`li[data-request="${requestNo}"]`)).toContainText("Accepted");

  await drCtx.close();
  await patientCtx.close();
});

test("a provider's personal booking link opens the booking page with them chosen", async ({ page }) => {
  await login(page, "dr.patel@northside.test");
  await expect(page).toHaveURL(/\/dashboard$/);
  await waitLive(page);
  const links = page.getByRole("region", { name: "Your booking link" });
  const url = await links.getByLabel("Northside Telehealth").inputValue();
  expect(url).toMatch(/\/book\/northside\?provider=\d+$/);
  await links.getByRole("link", { name: "Open my booking page" }).click();
  await expect(page).toHaveURL(/\/book\/northside\?provider=\d+$/);
  await expect(page.getByRole("heading", { name: "Northside Telehealth" })).toBeVisible();
  await expect(page.locator("#book-provider option:checked")).toHaveText(/Dr\. Priya Patel/);

  // The shared address itself, opened afresh, does the same.
  await page.goto(new URL(url).pathname + new URL(url).search);
  await expect(page.locator("#book-provider option:checked")).toHaveText(/Dr\. Priya Patel/);

  // An unknown provider: the clinic's page with anyone in the host group.
  await page.goto("/book/northside?provider=987654");
  await expect(page.getByRole("heading", { name: "Northside Telehealth" })).toBeVisible();
  await expect(page.locator("#book-provider option:checked")).toHaveText(/^Anyone in/);
  await expect(page.locator(".alert.error")).toHaveCount(0);
});

/** axe-core's serious and critical violations on the page (see a11y.spec). */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(readFileSync(require.resolve("axe-core"), "utf8"));
  const violations: { id: string; impact: string | null }[] = await page.evaluate(async () => {
    const result = await (window as any).axe.run(document, { resultTypes: ["violations"] });
    return result.violations;
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id);
}

test("an invited provider accepts an invitation from the dashboard", async ({ browser }) => {
  const patientCtx = await browser.newContext();
  await registerPatient(await patientCtx.newPage(), "Ivy Invite");
  await patientCtx.close();
  // The scheduler books Dr. Patel with Ivy in three days, inviting Dr. Lee.
  const schedCtx = await browser.newContext();
  const sched = await schedCtx.newPage();
  await login(sched, "scheduler@northside.test");
  await bookAppointment(sched, "Dr. Priya Patel", "Ivy Invite", hoursFromNow(72), "Dr. Jordan Lee");
  await schedCtx.close();

  const drCtx = await browser.newContext();
  const dr = await drCtx.newPage();
  await login(dr, "dr.lee@northside.test");
  await waitLive(dr);
  await expect(dr.getByText("Loading…")).toHaveCount(0);
  expect(await seriousViolations(dr)).toEqual([]);
  const invitations = dr.getByRole("region", { name: "Invitations" });
  const invitation = invitations.getByRole("listitem").filter({ hasText: "Ivy Invite" });
  await expect(invitation).toContainText("hosted by Dr. Priya Patel");
  await expect(invitation).toContainText("Awaiting your answer");
  await invitation.getByRole("button", { name: "Accept", exact: true }).click();
  await expect(dr.getByRole("status")).toContainText("Your answer was saved.");
  await expect(invitation).toContainText("Accepted");
  await expect(invitation.getByRole("button", { name: "Accept", exact: true })).toHaveCount(0);
  const meeting = dr.getByRole("region", { name: "Upcoming" }).getByRole("listitem").filter({ hasText: "Ivy Invite" });
  await expect(meeting).toContainText("hosted by Dr. Priya Patel");
  await drCtx.close();
});
