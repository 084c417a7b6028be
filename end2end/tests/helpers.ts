import { expect, Page } from "@playwright/test";

export const PASSWORD = "slotwise-demo";

/** Logs in through the login form and waits for the user's home page. */
export async function login(page: Page, email: string, password = PASSWORD) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

export function mainNav(page: Page) {
  return page.getByRole("navigation", { name: "Main" });
}

/** Waits until the page is hydrated and its live stream is open. */
export async function waitLive(page: Page) {
  await expect(page.getByText("● Live")).toBeVisible();
}

/** Registers a new Northside patient and returns their email. */
export async function registerPatient(page: Page, name: string) {
  const email = `e2e-${Date.now()}-${Math.floor(Math.random() * 1e6)}@patients.test`;
  await page.goto("/register");
  await page.getByLabel("Full name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel(/^Password/).fill("a-long-password");
  await page.getByLabel("Clinic", { exact: true }).selectOption({ label: "Northside Telehealth" });
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/portal$/);
  return email;
}

/** Opens Northside's booking page, ready to use (hydrated). */
export async function openBookingPage(page: Page) {
  await page.goto("/book/northside");
  await expect(page.getByRole("heading", { name: "Northside Telehealth" })).toBeVisible();
  await waitLive(page);
}

/** Asks Northside for a session now from its booking page. */
export async function requestNow(page: Page, service: string, note: string) {
  await openBookingPage(page);
  await page.getByRole("radio", { name: new RegExp(service) }).check();
  await page.getByRole("button", { name: "Now", exact: true }).click();
  await page.getByLabel("What would you like to discuss?").fill(note);
  await page.getByLabel(/^Request Note/).fill(note);
  await page.getByRole("button", { name: "Send request" }).click();
  await expect(page.getByRole("status")).toContainText("sent");
}

/** A local date in the clinic's zone (Northside: New York), days from today. */
export function nyDate(daysAhead: number): string {
  return new Date(Date.now() + daysAhead * 86_400_000).toLocaleDateString("en-CA", {
    timeZone: "America/New_York",
  });
}

/** An instant as New York date ("2026-11-30") and time ("16:00"). */
export function nyParts(at: Date): { date: string; time: string } {
  const date = at.toLocaleDateString("en-CA", { timeZone: "America/New_York" });
  const time = at.toLocaleTimeString("en-GB", {
    timeZone: "America/New_York",
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
  });
  return { date, time };
}

/** "15:00" as Northside writes it on its pages: "3:00 PM" (12-hour, US). */
export function usTime(hhmm: string): string {
  const [h, m] = hhmm.split(":").map(Number);
  return `${h % 12 === 0 ? 12 : h % 12}:${String(m).padStart(2, "0")} ${h < 12 ? "AM" : "PM"}`;
}

export type NewAppt = {
  host: string;
  patient: string;
  date: string;
  start: string;
  invite?: string;
  weeklyCount?: number;
};

/** Creates an appointment through the New appointment dialog (Schedule). */
export async function createAppointment(page: Page, a: NewAppt) {
  await fillNewAppointment(page, a);
  await expect(page.getByRole("dialog", { name: "New appointment" })).toHaveCount(0);
}

async function fillNewAppointment(page: Page, a: NewAppt) {
  await page.getByRole("button", { name: "New appointment" }).click();
  const dialog = page.getByRole("dialog", { name: "New appointment" });
  await dialog.getByLabel("Host provider").selectOption({ label: a.host });
  await dialog.getByLabel("Patient").selectOption({ label: a.patient });
  await dialog.getByLabel("Appointment type").selectOption({ label: "Video consultation (30 min)" });
  await dialog.getByLabel("Date").fill(a.date);
  await dialog.getByLabel("Start").fill(a.start);
  if (a.invite) await dialog.getByRole("checkbox", { name: a.invite }).check();
  if (a.weeklyCount) {
    await dialog.getByLabel("Repeats weekly").check();
    await dialog.getByLabel("Meetings").fill(String(a.weeklyCount));
  }
  await dialog.getByRole("button", { name: "Create appointment" }).click();
}

/**
 * Books a 30-minute Video consultation with `host` for `patient` as the
 * scheduler, at `from` or, when the host is already booked then (the e2e
 * database is shared by every spec), the next free hour. Returns the New
 * York date and time it was booked at.
 */
export async function bookAppointment(
  page: Page,
  host: string,
  patient: string,
  from: Date,
  invite?: string,
): Promise<{ date: string; time: string }> {
  for (let i = 0; i < 8; i++) {
    const at = nyParts(new Date(from.getTime() + i * 3_600_000));
    await page.goto(`/schedule?date=${at.date}`);
    await waitLive(page);
    await fillNewAppointment(page, { host, patient, date: at.date, start: at.time, invite });
    const dialog = page.getByRole("dialog", { name: "New appointment" });
    const refused = dialog.getByRole("alert").filter({ hasText: "already booked" });
    await expect(async () => {
      expect((await dialog.count()) === 0 || (await refused.count()) === 1).toBe(true);
    }).toPass();
    if ((await dialog.count()) === 0) return at;
  }
  throw new Error(`${host} has no free hour from ${from.toISOString()}`);
}

/** An instant `hours` from now, on the hour. */
export function hoursFromNow(hours: number): Date {
  const t = new Date(Date.now() + hours * 3_600_000);
  t.setUTCMinutes(0, 0, 0);
  return t;
}

/** Every page a clinic's staff member (any role) can open. */
export const STAFF_PAGES = [
  "/schedule",
  "/schedule?view=day",
  "/consultations",
  "/bookings",
  "/dispatch",
  "/requests",
  "/availability",
  "/account",
  "/account/notifications",
];
