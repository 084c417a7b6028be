import { expect, test } from "@playwright/test";
import { login, mainNav, PASSWORD, registerPatient, requestNow, waitLive } from "./helpers";

const STAFF_LINKS = ["Schedule", "Consultations", "Bookings", "Dispatch", "Requests", "Account"];

const staff = [
  "admin@northside.test",
  "scheduler@northside.test",
  "dr.lee@northside.test",
  "admin@harbour.test",
  "dr.nguyen@harbour.test",
];

for (const email of staff) {
  test(`${email} logs in and sees the staff navigation`, async ({ page }) => {
    await login(page, email);
    // Providers land on their Dashboard, the others on the Schedule.
    const provider = email.startsWith("dr.");
    await expect(page).toHaveURL(provider ? /\/dashboard$/ : /\/schedule$/);
    const nav = mainNav(page);
    for (const name of STAFF_LINKS) {
      await expect(nav.getByRole("link", { name: new RegExp(`^${name}`) })).toBeVisible();
    }
    await expect(nav.getByRole("link", { name: "Portal" })).toHaveCount(0);
    await expect(page.getByRole("heading", { name: provider ? "Dashboard" : "Schedule" })).toBeVisible();
  });
}

for (const email of ["ann@patients.test", "ben@patients.test"]) {
  test(`${email} logs in and sees the patient navigation`, async ({ page }) => {
    await login(page, email);
    await expect(page).toHaveURL(/\/portal$/);
    const nav = mainNav(page);
    await expect(nav.getByRole("link", { name: "Portal" })).toBeVisible();
    for (const name of ["Schedule", "Dispatch", "Bookings"]) {
      await expect(nav.getByRole("link", { name })).toHaveCount(0);
    }
  });
}

test("a wrong password is refused with a message", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Email").fill("dr.lee@northside.test");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Email or password is incorrect.");
  await expect(page).toHaveURL(/\/login/);
});

test("a patient opening a staff page gets the 403 page", async ({ page }) => {
  await login(page, "ann@patients.test");
  const response = await page.goto("/schedule");
  expect(response?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "You don't have access to this page" })).toBeVisible();
  await expect(page.getByText("403")).toBeVisible();
});

test("an unknown address shows the 404 page", async ({ page }) => {
  const response = await page.goto("/no-such-page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});

test("after logout the staff pages redirect to login", async ({ page }) => {
  await login(page, "scheduler@northside.test");
  await page.getByLabel("User menu").click();
  await page.getByRole("menuitem", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  for (const path of ["/schedule", "/dispatch", "/bookings"]) {
    await page.goto(path);
    await expect(page).toHaveURL(new RegExp(`/login\\?next=${path.replace("/", "%2F")}|/login\\?next=${path}`));
    await expect(page.getByRole("button", { name: "Log in" })).toBeVisible();
  }
  // Logging in again returns to the page asked for.
  await page.getByLabel("Email").fill("scheduler@northside.test");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/bookings$/);
});

test("the pending-request count updates live when another session creates a request", async ({
  browser,
}) => {
  // The scheduler watches the Dispatch board.
  const staffCtx = await browser.newContext();
  const staffPage = await staffCtx.newPage();
  await login(staffPage, "scheduler@northside.test");
  await staffPage.goto("/dispatch");
  await waitLive(staffPage);
  const dispatchLink = mainNav(staffPage).getByRole("link", { name: /Dispatch/ });
  const badge = dispatchLink.locator(".badge");
  await expect(badge).toHaveText(/^\d+$/);
  const before = Number(await badge.textContent());

  // A new patient registers in a second browser and asks for a session now.
  const patientCtx = await browser.newContext();
  const patientPage = await patientCtx.newPage();
  await registerPatient(patientPage, "Eve Tester");
  await requestNow(patientPage, "Video consultation", "Headache since this morning");

  // Without a reload, the scheduler's count goes up and the request shows.
  await expect(badge).toHaveText(String(before + 1));
  await expect(staffPage.getByRole("cell", { name: "Eve Tester" })).toBeVisible();
  await expect(staffPage.getByRole("cell", { name: /Headache since this morning/ }).first()).toBeVisible();

  await staffCtx.close();
  await patientCtx.close();
});

test("without the live stream the count still updates by polling", async ({ browser }) => {
  const staffCtx = await browser.newContext();
  const staffPage = await staffCtx.newPage();
  await login(staffPage, "admin@northside.test");
  // The stream is unavailable (a proxy that drops it, say), whatever its
  // query (the first connection names when the page was rendered).
  await staffPage.route(/\/api\/live(\?.*)?$/, (route) => route.abort());
  await staffPage.goto("/dispatch");
  await expect(staffPage.getByText("○ Offline")).toBeVisible();
  const badge = mainNav(staffPage).getByRole("link", { name: /Dispatch/ }).locator(".badge");
  await expect(badge).toHaveText(/^\d+$/);
  const before = Number(await badge.textContent());

  const patientCtx = await browser.newContext();
  const patientPage = await patientCtx.newPage();
  await registerPatient(patientPage, "Fay Fallback");
  await requestNow(patientPage, "Follow-up", "Checking in");

  // The fallback refetches on a timer (every 10 s while the stream is down).
  await expect(badge).toHaveText(String(before + 1), { timeout: 25_000 });
  await staffCtx.close();
  await patientCtx.close();
});
