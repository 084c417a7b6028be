import { Browser, expect, Page, test } from "@playwright/test";
import { bookAppointment, hoursFromNow, login, registerPatient, waitLive } from "./helpers";

/** Sets one event's Email and SMS boxes for a provider (as a clinic admin). */
async function setChoice(page: Page, provider: string, event: string, email: boolean, sms: boolean) {
  await page.goto("/account/notifications");
  await waitLive(page);
  await page.getByLabel("Provider", { exact: true }).selectOption({ label: provider });
  const form = page.getByRole("form", { name: "Notification settings" });
  // The form shows the chosen provider once their settings have loaded.
  await expect(page.locator("dl.facts dd").first()).toHaveText(provider.replace(" (you)", ""));
  await form.getByRole("checkbox", { name: `Email: ${event}` }).setChecked(email);
  await form.getByRole("checkbox", { name: `SMS: ${event}` }).setChecked(sms);
  await form.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toHaveText("Notification settings saved.");
}

test("an admin edits a provider's notification settings; a provider sees only their own", async ({ page, browser }) => {
  await login(page, "admin@northside.test");
  await setChoice(page, "Dr. Min-jun Kim", "Proposal made", true, true);
  await page.reload();
  await waitLive(page);
  await page.getByLabel("Provider", { exact: true }).selectOption({ label: "Dr. Min-jun Kim" });
  await expect(page.getByRole("checkbox", { name: "SMS: Proposal made" })).toBeChecked();
  await expect(page.getByText("+12125550105")).toBeVisible();

  const kim = await (await browser.newContext()).newPage();
  await login(kim, "dr.kim@northside.test");
  await kim.goto("/account/notifications");
  await waitLive(kim);
  await expect(kim.getByRole("heading", { name: "Notifications" })).toBeVisible();
  await expect(kim.getByLabel("Provider", { exact: true })).toHaveCount(0);
  await expect(kim.getByRole("checkbox", { name: "SMS: Proposal made" })).toBeChecked();
  // An unknown event sent by hand is refused with a clear message.
  const resp = await kim.request.post("/api/save_notification_settings", {
    form: { user_id: "0", "choices[0][event]": "birthday", "choices[0][channel]": "email" },
    headers: { Origin: new URL(kim.url()).origin },
  });
  expect(resp.status()).toBe(400);
  expect(await resp.text()).toContain("not one of its choices");
});

async function newPatient(browser: Browser, name: string): Promise<string> {
  const page = await (await browser.newContext()).newPage();
  return registerPatient(page, name);
}

test("cancelling a meeting puts messages for exactly the opted-in recipients, the clinic admin among them, in the mailbox", async ({ page, browser }) => {
  const name = `Nora Notify ${Date.now() % 100000}`;
  const email = await newPatient(browser, name);
  await login(page, "admin@northside.test");
  // Kim (the host) hears about cancellations by email; Lee (invited) not at all.
  await setChoice(page, "Dr. Min-jun Kim", "Appointment cancelled", true, false);
  await setChoice(page, "Dr. Jordan Lee", "Appointment cancelled", false, false);
  // The admin asks for the clinic's cancellations by email (issue 12: they
  // used to tick the box and hear nothing).
  await setChoice(page, "Alex Morgan (you)", "Appointment cancelled", true, false);

  // The scheduler books and cancels: whoever cancels is not told of their
  // own act (unless they host it), so the admin's copy comes from opting in.
  const sched = await (await browser.newContext()).newPage();
  await login(sched, "scheduler@northside.test");
  await bookAppointment(sched, "Dr. Min-jun Kim", name, hoursFromNow(50), "Dr. Jordan Lee");
  await sched.goto("/bookings");
  await waitLive(sched);
  await sched.getByLabel("Patient name").fill(name);
  const row = sched.getByRole("row").filter({ hasText: name });
  await expect(row).toHaveCount(1);
  await row.getByLabel(/Actions for booking/).click();
  await row.getByRole("menuitem", { name: "Cancel" }).click();
  const dialog = sched.getByRole("dialog", { name: "Cancel Meeting" });
  await expect(dialog.getByText("Manual update required")).toHaveCount(0);
  await dialog.getByLabel("Reason").selectOption({ label: "Provider unavailable" });
  await dialog.getByLabel("Message to the patient (optional)").fill("Dr. Kim is unwell today.");
  await dialog.getByRole("button", { name: "Cancel Meeting" }).click();
  await expect(sched.getByRole("status")).toHaveText("The booking was cancelled.");

  await page.goto("/mailbox");
  await waitLive(page);
  // The patient's copy names the time; the host's names the patient.
  const forPatient = page.locator(`li.mail[data-to="${email}"]`).filter({ hasText: /cancelled/i });
  const forKim = page.locator('li.mail[data-to="dr.kim@northside.test"]').filter({ hasText: `Cancelled: appointment with ${name}` });
  const forLee = page.locator('li.mail[data-to="dr.lee@northside.test"], li.mail[data-to="+12125550103"]').filter({ hasText: name });
  await expect(forPatient).toHaveCount(1);
  await expect(forKim).toHaveCount(1);
  const forAdmin = page.locator('li.mail[data-to="admin@northside.test"]').filter({ hasText: /cancelled/i }).filter({ hasText: name });
  await expect(forLee.filter({ hasText: /cancelled/i })).toHaveCount(0);
  await expect(forAdmin).toHaveCount(1);
  // Nobody else heard about it: the patient's, Kim's and the admin's copies.
  await expect(page.locator("li.mail").filter({ hasText: /cancelled/i }).filter({ hasText: name })).toHaveCount(3);
  // The admin's copy says who the appointment was with and why it ended.
  await forAdmin.getByRole("button").click();
  await expect(forAdmin.frameLocator("iframe.mail-html").getByText("Provider unavailable")).toBeVisible();

  // The patient's email, as they would see it: reason, message, a new-time link and the calendar cancel.
  await forPatient.getByRole("button").click();
  const html = forPatient.frameLocator("iframe.mail-html");
  await expect(html.getByText("Provider unavailable")).toBeVisible();
  await expect(html.getByText("Dr. Kim is unwell today.")).toBeVisible();
  await expect(html.getByRole("link", { name: "Book a new time" })).toBeVisible();
  await forPatient.getByText("Calendar attachment (invite.ics)").click();
  await expect(forPatient.locator("pre.ics")).toContainText("METHOD:CANCEL");
});

test("a clinic whose PMS lacks automatic cancellation asks for a manual update", async ({ page }) => {
  await login(page, "admin@harbour.test");
  await page.goto("/settings");
  await waitLive(page);
  const form = page.getByRole("form", { name: "Practice-management system" });
  await form.getByLabel("Connected, cancellations updated by hand").check();
  await form.getByLabel("PMS endpoint").fill("http://127.0.0.1:9/pms");
  await form.getByLabel("Signing secret").fill("short");
  await form.getByRole("button", { name: "Save connection" }).click();
  await expect(page.getByRole("alert")).toContainText("16 to 200 characters");
  await form.getByLabel("Signing secret").fill("a-signing-secret-for-e2e");
  await form.getByRole("button", { name: "Save connection" }).click();
  await expect(page.getByRole("status")).toContainText("Practice-management connection saved.");

  try {
    await page.goto("/bookings");
    await waitLive(page);
    const row = page.getByRole("row").filter({ has: page.getByLabel(/Actions for booking/) }).first();
    await row.getByLabel(/Actions for booking/).click();
    await row.getByRole("menuitem", { name: "Cancel" }).click();
    // Harbour Dental's appointments are in person: a "booking".
    const dialog = page.getByRole("dialog", { name: "Cancel Booking" });
    await expect(dialog.getByText("Manual update required")).toBeVisible();
    await dialog.getByRole("button", { name: "Keep the booking" }).click();
  } finally {
    // Leave Harbour without a PMS for the other specs.
    await page.goto("/settings");
    await waitLive(page);
    const again = page.getByRole("form", { name: "Practice-management system" });
    await again.getByLabel("No practice-management system").check();
    await again.getByRole("button", { name: "Save connection" }).click();
    await expect(page.getByRole("status")).toContainText("Practice-management connection saved.");
  }
});

test("a provider makes, replaces and revokes a calendar feed link; the page hydrates every load", async ({ page }) => {
  await login(page, "dr.lee@northside.test");
  const feed = page.getByRole("region", { name: "Calendar feed" });
  // The page used to fail to hydrate on about every other load (dead buttons).
  for (let i = 0; i < 6; i++) {
    await page.goto("/account/notifications");
    await waitLive(page);
    await expect(feed.getByText(/You have (no|a) calendar feed\./)).toBeVisible();
  }
  // Start from no feed (an earlier run may have left one).
  if (await feed.getByRole("button", { name: "Revoke" }).isVisible()) {
    await feed.getByRole("button", { name: "Revoke" }).click();
  }
  await expect(feed.getByText("You have no calendar feed.")).toBeVisible();

  await feed.getByRole("button", { name: "Make a feed link" }).click();
  const link = feed.locator("code.feed-url");
  await expect(link).toHaveText(/\/calendar\/[^/]+\.ics$/);
  await expect(feed.getByText("You have a calendar feed.")).toBeVisible();
  // The path only: the link's origin is SLOTWISE_PUBLIC_URL's (issue 12).
  const pathOf = async () => new URL((await link.textContent())!.trim()).pathname;
  const first = await pathOf();
  const ics = await page.request.get(first);
  expect(ics.status()).toBe(200);
  expect(ics.headers()["content-type"]).toContain("text/calendar");
  const body = await ics.text();
  expect(body).toContain("BEGIN:VCALENDAR");
  expect(body).toContain("BEGIN:VEVENT");

  // A new link ends the old one.
  await feed.getByRole("button", { name: "Make a new link (ends the old one)" }).click();
  await expect(link).not.toHaveText(new RegExp(first.replace(/[.]/g, "\\.") + "$"));
  const second = await pathOf();
  expect((await page.request.get(first)).status()).toBe(404);
  expect((await page.request.get(second)).status()).toBe(200);

  // Revoking ends it and hides the link, which cannot be shown again.
  await feed.getByRole("button", { name: "Revoke" }).click();
  await expect(feed.getByText("You have no calendar feed.")).toBeVisible();
  await expect(link).toHaveCount(0);
  expect((await page.request.get(second)).status()).toBe(404);
});
