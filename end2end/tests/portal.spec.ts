import { Browser, expect, Page, test } from "@playwright/test";
import { bookAppointment, hoursFromNow, login, registerPatient, usTime, waitLive } from "./helpers";

test("an admin sets the booking and cancellation policy, and a bad value is refused without losing the form", async ({ page }) => {
  await login(page, "admin@harbour.test");
  await page.goto("/settings");
  await waitLive(page);
  const form = page.getByRole("form", { name: "Booking and cancellation policy" });
  await expect(form.getByLabel(/window for cancelling/)).toHaveValue("24");
  await expect(form.getByLabel(/may book up to/)).toHaveValue("90");
  await form.getByLabel(/may book up to/).fill("60");
  await form.getByLabel(/window for cancelling/).fill("48");
  await form.getByLabel("Late-cancellation fee").fill("25,00");
  await form.getByRole("button", { name: "Save policy" }).click();
  await expect(page.getByRole("alert")).toContainText("Enter the price as an amount");
  await expect(form.getByLabel(/window for cancelling/)).toHaveValue("48");
  await form.getByLabel("Late-cancellation fee").fill("25.00");
  await form.getByLabel(/need the practice's approval/).check();
  await form.getByRole("button", { name: "Save policy" }).click();
  await expect(page.getByRole("status")).toContainText("Booking and cancellation policy saved.");
  await page.reload();
  const saved = page.getByRole("form", { name: "Booking and cancellation policy" });
  await expect(saved.getByLabel(/may book up to/)).toHaveValue("60");
  await expect(saved.getByLabel(/window for cancelling/)).toHaveValue("48");
  await expect(saved.getByLabel("Late-cancellation fee")).toHaveValue("25.00");
  await expect(saved.getByLabel(/need the practice's approval/)).toBeChecked();
});

/** A new Northside patient in their own browser, on their portal. */
async function newPatient(browser: Browser, name: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await registerPatient(page, name);
  await waitLive(page);
  return page;
}

/** The scheduler in their own browser. */
async function scheduler(browser: Browser): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await login(page, "scheduler@northside.test");
  return page;
}

function myAppointments(page: Page) {
  return page.locator("section", { has: page.getByRole("heading", { name: "My appointments" }) });
}

function showList(page: Page, name: string) {
  return myAppointments(page).getByRole("group", { name: "Which appointments" }).getByRole("button", { name });
}

function card(page: Page, provider: string) {
  return myAppointments(page).locator("li[data-appointment]").filter({ hasText: provider });
}

function unique(prefix: string) {
  return `${prefix} ${Math.floor(Math.random() * 1e6)}`;
}

test("a patient sees their appointments in their own time and the clinic's, and cancels outside the window at once; the staff schedule updates live", async ({ browser }) => {
  const name = unique("Cass Direct");
  const patient = await newPatient(browser, name);
  const staff = await scheduler(browser);
  const at = await bookAppointment(staff, "Dr. Priya Patel", name, hoursFromNow(24 * 9 + 2));
  const item = staff.getByRole("listitem").filter({ hasText: name });
  await expect(item).toHaveCount(1);

  await patient.reload();
  await waitLive(patient);
  const mine = card(patient, "Dr. Priya Patel");
  await expect(mine).toContainText("America/New_York");
  await expect(mine).toContainText(usTime(at.time));
  await expect(mine).toContainText("You can cancel or reschedule online until");
  await mine.getByRole("button", { name: "Cancel…" }).click();
  await expect(mine).toContainText("Your appointment will be cancelled at once.");
  await mine.getByLabel("Reason (optional)").fill("Feeling better");
  await mine.getByRole("button", { name: "Cancel appointment" }).click();
  await expect(patient.getByRole("status")).toContainText("Your appointment is cancelled.");
  await showList(patient, "Cancelled").click();
  await expect(card(patient, "Dr. Priya Patel")).toContainText("Feeling better");

  // The scheduler's Schedule drops it without a reload.
  await expect(item).toHaveCount(0);
});

test("inside the window the portal explains and blocks; a request sent anyway is flagged for the practice, who approve the late cancellation", async ({ browser }) => {
  const name = unique("Lee Late");
  const patient = await newPatient(browser, name);
  const staff = await scheduler(browser);
  await bookAppointment(staff, "Dr. Priya Patel", name, hoursFromNow(5));

  await patient.reload();
  await waitLive(patient);
  const mine = card(patient, "Dr. Priya Patel");
  await expect(mine).toContainText("within the clinic's notice period");
  await expect(mine).toContainText("+1 212 555 0100");
  await expect(mine).toContainText("A late-cancellation fee of $50.00 may apply.");
  await mine.getByRole("button", { name: "Cancel…" }).click();
  await expect(mine.getByRole("button", { name: "Cancel appointment" })).toHaveCount(0);
  await mine.getByRole("button", { name: "Send request anyway" }).click();
  await expect(patient.getByRole("status")).toContainText("marked as inside the notice period");
  await expect(mine).toContainText("You asked to cancel this appointment.");

  await staff.goto("/requests");
  await waitLive(staff);
  const request = staff.locator("li[data-request]").filter({ hasText: name });
  await expect(request).toContainText("Cancellation");
  await expect(request.getByRole("note")).toContainText("Within the policy window");
  await expect(request.getByRole("note")).toContainText("$50.00");
  await request.getByRole("button", { name: "Approve Cancellation" }).click();
  const dialog = staff.getByRole("dialog", { name: "Approve Cancellation" });
  await expect(dialog.getByRole("button", { name: "Approve Cancellation" })).toBeDisabled();
  await dialog.getByLabel(/^Reason/).fill("Cancelled at your request");
  await dialog.getByLabel(/^Message to the patient/).fill("The late fee applies.");
  await dialog.getByRole("button", { name: "Approve Cancellation" }).click();
  await expect(staff.getByRole("status")).toContainText("Approved");
  await expect(request).toHaveCount(0);

  // The patient's portal follows live.
  await showList(patient, "Cancelled").click();
  await expect(card(patient, "Dr. Priya Patel")).toContainText("Approved — Cancelled at your request — The late fee applies.");
});

/** The patient asks to move their appointment (inside the window, sent
 * anyway so the practice decides) to the first time offered. */
async function askToReschedule(patient: Page) {
  const mine = card(patient, "Dr. Priya Patel");
  await mine.getByRole("button", { name: "Reschedule…" }).click();
  const select = mine.getByLabel("New time (clinic time)");
  await expect(select.locator("option").nth(1)).toBeAttached();
  await select.selectOption({ index: 1 });
  await mine.getByRole("button", { name: "Send request anyway" }).click();
  await expect(patient.getByRole("status")).toContainText("Your request has been sent to the clinic");
  await expect(mine).toContainText("You asked to move this appointment to");
}

async function answer(staff: Page, name: string, action: string, start?: { date: string; time: string }) {
  await staff.goto("/requests");
  await waitLive(staff);
  const request = staff.locator("li[data-request]").filter({ hasText: name });
  await expect(request).toContainText("Requested time");
  await request.getByRole("button", { name: action }).click();
  const dialog = staff.getByRole("dialog", { name: action });
  if (start) await dialog.getByLabel(/^New date and time/).fill(`${start.date}T${start.time}`);
  await dialog.getByLabel(/^Reason/).fill(`${action}: our reason`);
  await dialog.getByRole("button", { name: action }).click();
  await expect(dialog).toHaveCount(0);
  await expect(request).toHaveCount(0);
}

test("a reschedule request, Propose Changes, Tentative on the schedule, the patient approves: booked at the new time on both sides", async ({ browser }) => {
  const name = unique("Pru Proposal");
  const patient = await newPatient(browser, name);
  const staff = await scheduler(browser);
  await bookAppointment(staff, "Dr. Priya Patel", name, hoursFromNow(6));
  await patient.reload();
  await waitLive(patient);
  await askToReschedule(patient);

  // Ten days out at 06:10 is outside every demo provider's hours, so free.
  const proposed = { date: new Date(Date.now() + 10 * 86_400_000).toLocaleDateString("en-CA", { timeZone: "America/New_York" }), time: "06:10" };
  await answer(staff, name, "Propose Changes", proposed);
  await expect(staff.getByRole("status")).toContainText("Tentative until the patient approves");
  await staff.goto(`/schedule?date=${proposed.date}`);
  await waitLive(staff);
  const item = staff.getByRole("listitem").filter({ hasText: name });
  await expect(item).toContainText("Tentative");

  await showList(patient, "Tentative").click();
  const tentative = card(patient, "Dr. Priya Patel");
  await expect(tentative).toContainText("The clinic proposes this new time instead of");
  await expect(tentative).toContainText("6:10 AM");
  // Issue 15: the deadline, after which it returns to the original time.
  await expect(tentative.getByRole("note").filter({ hasText: "Answer by" })).toHaveText(/^Answer by \w{3}, \w{3} \d+, \d+:\d\d [AP]M; after that it returns to your original time, .+, if that time is still free, or is cancelled\.$/);
  await tentative.getByRole("button", { name: "Approve new time" }).click();
  await expect(patient.getByRole("status")).toContainText("The clinic has your answer.");
  await showList(patient, "Upcoming").click();
  await expect(card(patient, "Dr. Priya Patel")).toContainText("6:10 AM");
  await expect(card(patient, "Dr. Priya Patel")).toContainText("Booked");

  // The staff schedule turns it Booked live.
  await expect(item).toHaveCount(1);
  await expect(item).not.toContainText("Tentative");
});

test("Deny keeps the original time; Update Appointment moves it without the patient's approval", async ({ browser }) => {
  const name = unique("Dee Deny");
  const patient = await newPatient(browser, name);
  const staff = await scheduler(browser);
  const at = await bookAppointment(staff, "Dr. Priya Patel", name, hoursFromNow(7));
  await patient.reload();
  await waitLive(patient);
  await askToReschedule(patient);
  await answer(staff, name, "Deny");
  const mine = card(patient, "Dr. Priya Patel");
  await expect(mine).toContainText("Denied — Deny: our reason");
  await expect(mine).toContainText(usTime(at.time));

  await askToReschedule(patient);
  const moved = { date: new Date(Date.now() + 11 * 86_400_000).toLocaleDateString("en-CA", { timeZone: "America/New_York" }), time: "06:40" };
  await answer(staff, name, "Update Appointment", moved);
  await expect(mine).toContainText("Moved by the clinic — Update Appointment: our reason");
  await expect(mine).toContainText("6:40 AM");
  await expect(mine).toContainText("Booked");
});
