import { expect, test, Page } from "@playwright/test";
import { PASSWORD, login, waitLive } from "./helpers";

// What a patient on a slow phone meets before the app's code has arrived:
// the wasm is held back (aborted) so the page stays the server's HTML.
async function withoutTheApp(page: Page) {
  await page.route("**/*.wasm", (route) => route.abort());
}

test("a patient logs in before the app's code has arrived", async ({ page }) => {
  await withoutTheApp(page);
  await page.goto("/login");
  await page.getByLabel("Email").fill("ann@patients.test");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  // A plain form post to the server function, answered with a redirect.
  await expect(page).toHaveURL(/\/portal$/);
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
});

test("a wrong password before the app's code has arrived is answered on the page", async ({ page }) => {
  await withoutTheApp(page);
  await page.goto("/login");
  await page.getByLabel("Email").fill("ann@patients.test");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByRole("alert")).toContainText("Email or password is incorrect.");
});

test("the booking page's controls are visibly disabled until they work", async ({ page }) => {
  await login(page, "ann@patients.test");
  await withoutTheApp(page);
  await page.goto("/book/northside");
  await expect(page.getByRole("heading", { name: "Northside Telehealth" })).toBeVisible();
  // Without the app nothing here can work: it says so instead of ignoring clicks.
  await expect(page.getByRole("button", { name: "Send request" })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Scheduled" })).toBeDisabled();

  // Once the app runs, the same controls work.
  await page.unroute("**/*.wasm");
  await page.reload();
  await waitLive(page);
  await expect(page.getByRole("button", { name: "Scheduled" })).toBeEnabled();
});

test("the portal's appointment actions are visibly disabled until they work", async ({ page }) => {
  await login(page, "ann@patients.test");
  await withoutTheApp(page);
  await page.goto("/portal");
  await expect(page.getByRole("heading", { name: "My appointments" })).toBeVisible();
  const cancel = page.getByRole("button", { name: "Cancel…" }).first();
  await expect(cancel).toBeDisabled();
  await page.unroute("**/*.wasm");
  await page.reload();
  await waitLive(page);
  await expect(page.getByRole("button", { name: "Cancel…" }).first()).toBeEnabled();
});
