import { Browser, expect, Page, test } from "@playwright/test";
import { bookAppointment, hoursFromNow, login, nyDate, registerPatient, waitLive } from "./helpers";

function unique(prefix: string) {
  return `${prefix} ${Math.floor(Math.random() * 1e6)}`;
}

async function newPatient(browser: Browser, name: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await registerPatient(page, name);
  await waitLive(page);
  return page;
}

function waitlist(page: Page) {
  return page.locator("section", { has: page.getByRole("heading", { name: "Waitlist", exact: true }) });
}

async function noSidewaysScroll(page: Page) {
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(wide).toBeLessThanOrEqual(0);
}

test("a waiting patient is offered a time staff cancel, claims it in the portal, and the Schedule shows the booking live", async ({ browser }) => {
  const waiterName = unique("Wanda Wait");
  const ownerName = unique("Otto Owner");
  const patient = await newPatient(browser, waiterName);
  const owner = await newPatient(browser, ownerName);
  await owner.context().close();

  // The patient joins Northside's waitlist for Dr. Patel, in 8 to 12 days,
  // from the portal's "Join a clinic's waitlist".
  await patient.setViewportSize({ width: 390, height: 844 });
  const mine = waitlist(patient);
  await expect(mine).toContainText("You are not on any waitlist.");
  await mine.getByRole("link", { name: "Join a clinic's waitlist" }).click();
  await expect(patient).toHaveURL(/\/waitlist\/join$/);
  await waitLive(patient);
  const form = patient.getByRole("group", { name: "Join the waitlist" });
  await patient.getByLabel("Clinic").selectOption({ label: "Northside Telehealth" });
  await form.getByLabel("Service").selectOption({ label: "Video consultation" });
  await form.getByLabel("Provider").selectOption({ label: "Dr. Priya Patel" });
  await form.getByLabel("From").fill(nyDate(8));
  await form.getByLabel("To").fill(nyDate(12));
  await form.getByRole("button", { name: "Join the waitlist" }).click();
  await expect(form.getByRole("status")).toContainText("You are on the waitlist.");
  await noSidewaysScroll(patient);
  // Joining twice: told so, nothing added.
  await form.getByRole("button", { name: "Join the waitlist" }).click();
  await expect(form.getByRole("alert")).toContainText("already on this waitlist");
  await patient.getByRole("link", { name: "Back to your portal" }).click();
  await expect(patient).toHaveURL(/\/portal$/);
  await waitLive(patient);
  const entry = mine.locator("li[data-entry]");
  await expect(entry).toHaveCount(1);
  await expect(entry).toContainText("Video consultation · Dr. Priya Patel");

  // Staff see the patient waiting.
  const staff = await (await browser.newContext()).newPage();
  await login(staff, "scheduler@northside.test");
  await staff.goto("/waitlist");
  await waitLive(staff);
  await expect(staff.locator("li[data-entry]").filter({ hasText: waiterName })).toContainText("Dr. Priya Patel");

  // Staff book Dr. Patel for another patient in that range, then cancel it.
  const at = await bookAppointment(staff, "Dr. Priya Patel", ownerName, hoursFromNow(24 * 10 + 2));
  await staff.goto(`/schedule?view=day&date=${at.date}`);
  await waitLive(staff);
  const patel = staff.getByRole("list", { name: "Dr. Priya Patel" });
  const booked = patel.getByRole("listitem").filter({ hasText: ownerName });
  await booked.getByRole("button", { name: /^Cancel Meeting/ }).click();
  const dialog = staff.getByRole("dialog", { name: "Cancel Meeting" });
  await dialog.getByLabel("Reason").selectOption({ label: "Provider unavailable" });
  await dialog.getByRole("button", { name: "Cancel Meeting" }).click();
  await expect(booked).toHaveCount(0);

  // The offer reaches the patient's portal (live, or on a reload).
  const offer = mine.locator("li[data-offer]");
  await expect(async () => {
    if ((await offer.count()) === 0) {
      await patient.reload();
      await waitLive(patient);
    }
    await expect(offer).toHaveCount(1, { timeout: 2_000 });
  }).toPass({ timeout: 20_000 });
  await expect(offer).toContainText("Claim by");
  await noSidewaysScroll(patient);
  await offer.getByRole("button", { name: "Claim" }).click();
  await expect(mine.getByRole("status").filter({ hasText: "The time is yours" })).toHaveCount(1);
  await expect(offer).toHaveCount(0);
  await expect(entry).toHaveCount(0);

  // The Schedule shows the booking without a reload.
  await expect(patel.getByRole("listitem").filter({ hasText: waiterName })).toHaveCount(1);
  await staff.context().close();
  await patient.context().close();
});

test("the staff Waitlist page fits a phone, and the booking page's Join the waitlist opens the form for that clinic and service", async ({ browser }) => {
  const page = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await login(page, "admin@northside.test");
  await page.goto("/waitlist");
  await waitLive(page);
  await expect(page.getByRole("heading", { name: "Waiting patients" })).toBeVisible();
  await noSidewaysScroll(page);
  await page.context().close();

  const patient = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await login(patient, "ann@patients.test");
  await patient.goto("/book/northside");
  await waitLive(patient);
  await patient.getByRole("radio", { name: /Video consultation/ }).check();
  await patient.getByRole("link", { name: "Join the waitlist" }).click();
  await expect(patient).toHaveURL(/\/waitlist\/join\?clinic=/);
  await waitLive(patient);
  await expect(patient.getByLabel("Clinic").locator("option:checked")).toHaveText("Northside Telehealth");
  const form = patient.getByRole("group", { name: "Join the waitlist" });
  await expect(form).toBeVisible();
  await expect(form.getByLabel("Service").locator("option:checked")).toHaveText("Video consultation");
  await noSidewaysScroll(patient);
  await patient.context().close();
});
