import { expect, test } from "@playwright/test";
import { login, openBookingPage, registerPatient, waitLive } from "./helpers";

test("a patient asks for two times; dispatch assigns one live and the patient sees the meeting", async ({ browser }) => {
  // The scheduler watches the Dispatch board.
  const staffCtx = await browser.newContext();
  const staff = await staffCtx.newPage();
  await login(staff, "scheduler@northside.test");
  await staff.goto("/dispatch");
  await waitLive(staff);
  // The clinic filter keeps this clinic's requests.
  await staff.getByLabel("Clinic").selectOption({ label: "Northside Telehealth" });
  await expect(staff.getByLabel("Clinic")).toHaveValue(/^[1-9]\d*$/);
  // Demo requests have waited long: their counters are red.
  await expect(staff.locator("tr", { hasText: "Ben Brooks" }).locator(".waited.late").first()).toBeVisible();

  // A new patient picks two free times from the booking page.
  const patientCtx = await browser.newContext();
  const patient = await patientCtx.newPage();
  await registerPatient(patient, "Gil Booker");
  await openBookingPage(patient);
  await expect(patient.getByText("America/New_York")).toBeVisible();
  await patient.getByRole("radio", { name: /Video consultation/ }).check();
  await patient.getByLabel("Request To").selectOption({ label: "Dr. Priya Patel" });
  // The eighth day with free times is past this week's busy days.
  await patient.getByRole("group", { name: "Day" }).getByRole("button").nth(7).click();
  const slots = patient.locator("button.slot");
  await slots.nth(0).click();
  await slots.nth(3).click();
  await expect(patient.locator(".chosen .chip")).toHaveCount(2);
  const firstTime = (await patient.locator(".chosen .chip").first().textContent())!.replace(" ×", "").trim();
  await patient.getByLabel("What would you like to discuss?").fill("Recurring migraines");
  await patient.getByLabel(/Is this your first visit/).selectOption("Yes");
  await patient.getByRole("button", { name: "Send request" }).click();
  await expect(patient.getByRole("status")).toContainText("sent");
  const requestNo = (await patient.getByRole("status").textContent())!.match(/#(\d+)/)![1];

  // It appears on the board without a reload, green, and ticking.
  const row = staff.locator(`tr[data-request="${requestNo}"]`);
  await expect(row).toBeVisible();
  await expect(row).toContainText("Gil Booker");
  await expect(row).toContainText("Scheduled");
  await expect(row).toContainText("Dr. Priya Patel");
  await expect(row).toContainText("Recurring migraines");
  const counter = row.locator(".waited");
  await expect(counter).toHaveClass(/fresh/);
  const t1 = await counter.textContent();
  await expect(counter).not.toHaveText(t1!, { timeout: 5_000 });

  // The patient follows it in the portal.
  await patient.goto("/portal");
  await waitLive(patient);
  const card = patient.locator(`li[data-request="${requestNo}"]`);
  await expect(card).toContainText("Pending");

  // Assign: Dr. Patel (requested, available) at the first time, with a response.
  await row.getByRole("button", { name: "Assign" }).click();
  const dialog = staff.getByRole("dialog");
  await expect(dialog.getByText("Possible Conflicting Sessions")).toBeVisible();
  const patelRow = dialog.locator("tr", { hasText: "Dr. Priya Patel" });
  await expect(patelRow).toContainText("Requested");
  await expect(patelRow).toContainText("Available");
  await patelRow.getByRole("radio").check();
  await dialog.getByRole("radio").first().check();
  await dialog.getByLabel("Response to Requester").fill("Dr Patel will see you then.");
  await dialog.getByRole("button", { name: "Accept" }).click();
  await expect(staff.getByRole("status")).toContainText("Accepted");
  await expect(row).toHaveCount(0);

  // The patient sees the answer and the meeting without a reload.
  await expect(card).toContainText("Accepted");
  await expect(card).toContainText("Dr Patel will see you then.");
  await expect(card.locator(".meeting")).toContainText("Dr. Priya Patel");
  await expect(card.locator(".meeting")).toContainText(firstTime.split(", ").pop()!);
  await expect(card.getByRole("link", { name: /https:\/\/meet/ })).toBeVisible();

  await staffCtx.close();
  await patientCtx.close();
});

test("a provider declines a request addressed to the host group with a response", async ({ browser }) => {
  const patientCtx = await browser.newContext();
  const patient = await patientCtx.newPage();
  await registerPatient(patient, "Hal Decline");
  await openBookingPage(patient);
  await patient.getByRole("radio", { name: /Follow-up/ }).check();
  await patient.getByRole("group", { name: "Day" }).getByRole("button").nth(7).click();
  await patient.locator("button.slot").nth(5).click();
  await patient.getByLabel("What would you like to discuss?").fill("A second opinion");
  await patient.getByRole("button", { name: "Send request" }).click();
  await expect(patient.getByRole("status")).toContainText("sent");
  const requestNo = (await patient.getByRole("status").textContent())!.match(/#(\d+)/)![1];

  const drCtx = await browser.newContext();
  const dr = await drCtx.newPage();
  await login(dr, "dr.lee@northside.test");
  await dr.goto("/dispatch");
  const row = dr.locator(`tr[data-request="${requestNo}"]`);
  await row.getByRole("button", { name: "Assign" }).click();
  const dialog = dr.getByRole("dialog");
  // A provider answers for themself only.
  await expect(dialog.locator("tbody tr")).toHaveCount(1);
  await expect(dialog.locator("tbody tr")).toContainText("Dr. Jordan Lee");
  await dialog.getByLabel("Response to Requester").fill("Please ask Dr Patel, who knows your case.");
  await dialog.getByRole("button", { name: "Decline" }).click();
  await expect(dr.getByRole("status")).toContainText("declined");

  await patient.goto("/portal");
  const card = patient.locator(`li[data-request="${requestNo}"]`);
  await expect(card).toContainText("Declined");
  await expect(card).toContainText("Please ask Dr Patel, who knows your case.");
  await drCtx.close();
  await patientCtx.close();
});

test("a provider edits weekly slots and the Available now toggle", async ({ page }) => {
  await login(page, "dr.patel@northside.test");
  await page.goto("/availability");
  await waitLive(page);
  await expect(page.getByText("America/New_York")).toBeVisible();
  const saturday = page.locator("tr", { hasText: "Saturday" });
  await expect(saturday).toContainText("Not available");
  await page.getByLabel("Day", { exact: true }).selectOption({ label: "Saturday" });
  await page.getByLabel("From", { exact: true }).fill("10:00");
  await page.getByLabel("To", { exact: true }).fill("12:00");
  await page.getByRole("button", { name: "Add slot" }).click();
  await expect(saturday).toContainText("10:00 AM–12:00 PM");
  // An overlapping slot is refused with the reason.
  await page.getByLabel("Day", { exact: true }).selectOption({ label: "Saturday" });
  await page.getByLabel("From", { exact: true }).fill("11:00");
  await page.getByLabel("To", { exact: true }).fill("13:00");
  await page.getByRole("button", { name: "Add slot" }).click();
  await expect(page.getByRole("alert")).toContainText("overlaps the Saturday slot 10:00 AM–12:00 PM");
  await saturday.getByRole("button", { name: /Remove Saturday/ }).click();
  await expect(saturday).toContainText("Not available");

  const toggle = page.getByRole("checkbox", { name: /available now/i });
  await expect(toggle).not.toBeChecked();
  await toggle.check();
  await expect(page.getByText("Available now: Dispatch can send on-demand requests.")).toBeVisible();
  await page.getByRole("checkbox", { name: /available now/i }).uncheck();
  await expect(page.getByText("Not available now.")).toBeVisible();
});

test("an admin adds a service and a question, and the booking page offers them", async ({ page }) => {
  await login(page, "admin@northside.test");
  await page.goto("/settings");
  await waitLive(page);
  const name = `Phone call ${Date.now() % 100000}`;
  const form = page.getByRole("form", { name: "Add a service" });
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Duration (minutes)").fill("20");
  await form.getByLabel("Payment required").check();
  await form.getByRole("button", { name: "Add service" }).click();
  await expect(page.getByRole("alert")).toContainText("needs a price");
  await form.getByLabel("Price").fill("12.50");
  await form.getByRole("button", { name: "Add service" }).click();
  await expect(page.locator("tr", { hasText: name })).toContainText("$12.50");

  const q = page.getByRole("form", { name: "Add a question" });
  await q.getByLabel("Question").fill("Preferred pharmacy");
  await q.getByRole("button", { name: "Add question" }).click();
  await expect(page.locator(".questions")).toContainText("Preferred pharmacy");

  await page.goto("/book/northside");
  await expect(page.getByRole("radio", { name: new RegExp(name) })).toBeVisible();
  await expect(page.getByLabel("Preferred pharmacy (optional)")).toBeVisible();
  // Clean up the question so other tests see the demo form.
  await page.goto("/settings");
  await page.locator(".questions li", { hasText: "Preferred pharmacy" }).getByRole("button", { name: "Remove" }).click();
  await expect(page.locator(".questions")).not.toContainText("Preferred pharmacy");
});

test("visitors can browse a booking page but must log in to send", async ({ page }) => {
  await page.goto("/book/northside");
  await expect(page.getByRole("heading", { name: "Northside Telehealth" })).toBeVisible();
  await expect(page.locator("button.slot").first()).toBeVisible();
  // Two: to send a request, and to join the waitlist.
  await expect(page.getByRole("link", { name: "log in", exact: true })).toHaveCount(2);
  await expect(page.getByRole("link", { name: "log in", exact: true }).first()).toHaveAttribute("href", "/login?next=/book/northside");
  await expect(page.getByRole("button", { name: "Send request" })).toHaveCount(0);
});
