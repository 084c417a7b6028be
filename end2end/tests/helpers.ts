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
