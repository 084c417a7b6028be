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
