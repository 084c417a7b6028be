import { Browser, expect, Page, test } from "@playwright/test";
import { login, nyParts, registerPatient, waitLive } from "./helpers";

// Reminders (issue 15, point 1). The admin sets Northside's second reminder
// to 10 minutes before the start and books a patient 11 minutes ahead, so
// its reminder falls due within a minute; the server's timers queue it and,
// without an SMTP server, it lands in the Mailbox, where the patient reads
// it on their phone and presses Confirm. The admin's Bookings list shows
// the reminder sent, then the appointment Confirmed, live.

const HOSTS = ["Dr. Min-jun Kim", "Dr. Jordan Lee", "Dr. Priya Patel"];

async function newPage(browser: Browser): Promise<Page> {
  return (await browser.newContext()).newPage();
}

/** Saves Northside's reminder settings on Clinic settings (admin). */
async function setSecondReminder(page: Page, minutes: string) {
  await page.goto("/settings");
  await waitLive(page);
  const second = () => page.getByRole("form", { name: "Reminders" }).getByLabel(/^Second reminder/);
  await second().fill(minutes);
  await page.getByRole("form", { name: "Reminders" }).getByRole("button", { name: "Save reminders" }).click();
  await page.waitForLoadState("networkidle");
  // Saved on the server: a fresh page shows it.
  await page.goto("/settings");
  await expect(second()).toHaveValue(minutes);
}

/** Books `patient` with the first free host, starting at `at` (New York). */
async function bookAt(page: Page, patient: string, at: Date) {
  const { date, time } = nyParts(at);
  await page.goto(`/schedule?date=${date}`);
  await waitLive(page);
  for (const host of HOSTS) {
    await page.getByRole("button", { name: "New appointment" }).click();
    const dialog = page.getByRole("dialog", { name: "New appointment" });
    await dialog.getByLabel("Host provider").selectOption({ label: host });
    await dialog.getByLabel("Patient").selectOption({ label: patient });
    await dialog.getByLabel("Appointment type").selectOption({ label: "Video consultation (30 min)" });
    await dialog.getByLabel("Date").fill(date);
    await dialog.getByLabel("Start").fill(time);
    await dialog.getByRole("button", { name: "Create appointment" }).click();
    const refused = dialog.getByRole("alert");
    await expect(async () => {
      expect((await dialog.count()) === 0 || (await refused.count()) > 0).toBe(true);
    }).toPass();
    if ((await dialog.count()) === 0) return;
    await page.keyboard.press("Escape");
    await expect(dialog).toHaveCount(0);
  }
  throw new Error(`no host free at ${date} ${time}`);
}

test("a reminder's Confirm link marks the appointment Confirmed for staff", async ({ page, browser }) => {
  test.setTimeout(240_000);
  await login(page, "admin@northside.test");
  await setSecondReminder(page, "10");
  try {
    const phone = await newPage(browser);
    const name = `Rhea Remind ${Date.now() % 100000}`;
    const email = await registerPatient(phone, name);
    // 11 minutes ahead, on the minute: its 10-minute reminder is due
    // within the next minute.
    const at = new Date(Date.now() + 11 * 60_000);
    at.setUTCSeconds(0, 0);
    await bookAt(page, name, at);

    // The reminder reaches the patient's Mailbox once the timers queue it.
    const mail = phone.locator(`li.mail[data-to="${email}"]`).filter({ hasText: "Reminder" });
    await expect(async () => {
      await phone.goto("/mailbox");
      await expect(mail).toHaveCount(1, { timeout: 2_000 });
    }).toPass({ timeout: 150_000 });
    await mail.getByRole("button").click();
    const href = await mail
      .frameLocator("iframe.mail-html")
      .getByRole("link", { name: "Confirm you are coming" })
      .getAttribute("href");
    expect(href).toContain("/r/");

    // The admin watches the Bookings list: its reminder went out.
    await page.goto("/bookings");
    await waitLive(page);
    const row = page.getByRole("row").filter({ hasText: name });
    await expect(row).toHaveCount(1);
    await expect(row.locator(".reminder-state")).toContainText("Reminder sent");
    await expect(row.locator(".confirmed")).toHaveCount(0);

    // Opening the link shows the appointment and a button; only the
    // button confirms.
    const path = new URL(href!).pathname;
    await phone.goto(path);
    await expect(phone.getByRole("heading", { name: "Confirm your appointment" })).toBeVisible();
    await expect(phone.getByText("Video consultation")).toBeVisible();
    await expect(row.locator(".confirmed")).toHaveCount(0);
    await phone.getByRole("button", { name: "Confirm appointment" }).click();
    await expect(phone.getByRole("heading", { name: "Appointment confirmed" })).toBeVisible();
    // The admin's list shows it live, without a reload.
    await expect(row.locator(".confirmed")).toHaveText("Confirmed");
    // The same link again is refused.
    await phone.goto(path);
    await expect(phone.getByRole("heading", { name: "Link already used" })).toBeVisible();
  } finally {
    await setSecondReminder(page, "120");
  }
});
