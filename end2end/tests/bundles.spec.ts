import { expect, Page, test } from "@playwright/test";
import { login, mainNav, openBookingPage, waitLive } from "./helpers";

// Three wasm bundles (app::shell::bundle_for): the pages patients open get
// the patient bundle, which leaves the staff pages out; the staff pages of
// every day get the staff bundle, which leaves out the pages opened seldom
// (settings, availability, account, audit, ...); those get the full one. A
// page reached from a bundle that does not have it loads from the server.

/** What the browser reports blocking under the page's Content-Security-Policy. */
function cspViolations(page: Page): string[] {
  const seen: string[] = [];
  page.on("console", (m) => {
    if (m.text().includes("Content Security Policy")) seen.push(m.text());
  });
  return seen;
}

/** The wasm bundles the page downloads from now on ("slotwise-patient" / "slotwise-staff" / "slotwise"). */
function bundlesOf(page: Page): string[] {
  const seen: string[] = [];
  page.on("request", (req) => {
    const m = new URL(req.url()).pathname.match(/^\/pkg\/(slotwise(?:-patient|-staff)?)\.[\w-]+\.wasm$/);
    if (m) seen.push(m[1]);
  });
  return seen;
}

test("the booking page, login and the portal hydrate with the patient bundle", async ({ page }) => {
  const seen = bundlesOf(page);
  const blocked = cspViolations(page);
  await login(page, "ann@patients.test");
  await expect(page).toHaveURL(/\/portal$/);
  await waitLive(page);
  await openBookingPage(page);
  expect(seen.length).toBeGreaterThan(0);
  expect(new Set(seen)).toEqual(new Set(["slotwise-patient"]));
  expect(blocked, "the CSP lets the app run").toEqual([]);
});

test("staff pages hydrate with the staff bundle, also after a login on the patient bundle", async ({ page }) => {
  const seen = bundlesOf(page);
  const blocked = cspViolations(page);
  await login(page, "scheduler@northside.test");
  await expect(page).toHaveURL(/\/schedule$/);
  await waitLive(page);
  expect(seen).toEqual(["slotwise-patient", "slotwise-staff"]);
  expect(blocked, "the CSP lets the app run").toEqual([]);
});

test("a page opened seldom, reached from a staff-bundle page, loads with the full bundle and works; back on the Schedule, the staff bundle is cached", async ({ page }) => {
  await login(page, "admin@northside.test");
  await expect(page).toHaveURL(/\/schedule$/);
  await waitLive(page);
  const seen = bundlesOf(page);
  await mainNav(page).getByRole("link", { name: "Clinic" }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole("heading", { name: "Clinic settings" })).toBeVisible();
  await waitLive(page);
  expect(seen).toEqual(["slotwise"]);
  // The full bundle has every page: the Schedule from here is routed in the browser.
  await mainNav(page).getByRole("link", { name: "Schedule" }).click();
  await expect(page).toHaveURL(/\/schedule$/);
  await waitLive(page);
  expect(seen).toEqual(["slotwise"]);
});

test("a staff page reached by a link from a patient-bundle page loads and works", async ({ page }) => {
  await login(page, "scheduler@northside.test");
  const seen = bundlesOf(page);
  await page.goto("/mailbox");
  await waitLive(page);
  expect(seen).toEqual(["slotwise-patient"]);

  // A client-side link to a page the patient bundle does not have.
  await mainNav(page).getByRole("link", { name: "Dispatch" }).click();
  await expect(page).toHaveURL(/\/dispatch$/);
  await expect(page.getByRole("heading", { name: "Dispatch" })).toBeVisible();
  await waitLive(page);
  expect(seen).toEqual(["slotwise-patient", "slotwise-staff"]);

  // Back on the patient bundle's page, the history works as usual.
  await page.goBack();
  await expect(page).toHaveURL(/\/mailbox$/);
  await waitLive(page);
});
