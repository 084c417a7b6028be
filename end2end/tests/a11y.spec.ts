import { expect, Page, test } from "@playwright/test";
import { readFileSync } from "fs";
import { login, openBookingPage, STAFF_PAGES, waitLive } from "./helpers";

// axe-core on every page each role can reach: no "serious" or "critical"
// violation (WCAG 2.x A/AA and best practices, as axe runs by default).

type Violation = {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: string[]; failureSummary?: string }[];
};

async function expectAccessible(page: Page, what: string) {
  // Evaluated rather than added as a <script>: the page's CSP runs inline
  // script only with its nonce.
  await page.evaluate(readFileSync(require.resolve("axe-core"), "utf8"));
  const violations: Violation[] = await page.evaluate(async () => {
    const result = await (window as any).axe.run(document, { resultTypes: ["violations"] });
    return result.violations;
  });
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = bad
    .map(
      (v) =>
        `[${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
        v.nodes.map((n) => `    ${n.target.join(" ")}\n      ${(n.failureSummary ?? "").replace(/\n/g, "\n      ")}`).join("\n"),
    )
    .join("\n");
  expect(bad, `${what}:\n${report}`).toEqual([]);
}

/** What went wrong in the page's script (a panic while hydrating, say). */
const pageErrors = new WeakMap<Page, string[]>();

/** Opens a page of a logged-in user and waits until it is hydrated and
 * live, with no error in its script (a page whose hydration panicked looks
 * right but does nothing). */
async function visit(page: Page, path: string) {
  if (!pageErrors.has(page)) {
    const seen: string[] = [];
    page.on("pageerror", (e) => seen.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error" && m.text().includes("panicked")) seen.push(m.text());
    });
    pageErrors.set(page, seen);
  }
  await page.goto(path);
  await waitLive(page);
  await expect(page.getByText("Loading…")).toHaveCount(0);
  expect(pageErrors.get(page), `script errors on ${path}`).toEqual([]);
}

test("logged-out pages have no serious accessibility violations", async ({ page }) => {
  for (const path of ["/login", "/register"]) {
    await page.goto(path);
    await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
    await expectAccessible(page, path);
  }
  // Logged out there is no live stream: wait for the page itself.
  await page.goto("/book/northside");
  await expect(page.getByRole("heading", { name: "Northside Telehealth" })).toBeVisible();
  await expect(page.getByText("Loading…")).toHaveCount(0);
  await expectAccessible(page, "/book/northside");
});

test("a patient's pages have no serious accessibility violations", async ({ page }) => {
  await login(page, "ann@patients.test");
  for (const path of ["/portal", "/account", "/mailbox", "/waitlist/join?clinic=1"]) {
    await visit(page, path);
    await expectAccessible(page, path);
  }
  await openBookingPage(page);
  await expectAccessible(page, "/book/northside (patient)");
});

for (const [role, email, extra] of [
  ["provider", "dr.lee@northside.test", []],
  ["scheduler", "scheduler@northside.test", ["/waitlist"]],
  ["admin", "admin@northside.test", ["/settings", "/outbox", "/waitlist", "/audit", "/api-clients"]],
] as const) {
  test(`a ${role}'s pages have no serious accessibility violations`, async ({ page }) => {
    await login(page, email);
    for (const path of [...STAFF_PAGES, "/mailbox", ...extra]) {
      await visit(page, path);
      await expectAccessible(page, `${path} (${role})`);
    }
  });
}

test("open dialogs and menus have no serious accessibility violations", async ({ page }) => {
  await login(page, "scheduler@northside.test");
  await visit(page, "/bookings");

  // The user menu, open.
  await page.getByRole("button", { name: /user menu/ }).click();
  await expect(page.getByRole("menu")).toBeVisible();
  await expectAccessible(page, "/bookings with the user menu open");
  await page.keyboard.press("Escape");
  await expect(page.getByRole("menu")).toHaveCount(0);

  // A row's ⋯ menu, open.
  const row = page.getByRole("row").filter({ hasText: "Upcoming" }).first();
  await row.getByRole("button", { name: /Actions for booking/ }).click();
  await expect(row.getByRole("menu")).toBeVisible();
  await expectAccessible(page, "/bookings with a row menu open");

  // The Cancel dialog, open.
  await row.getByRole("menuitem", { name: "Cancel" }).click();
  const dialog = page.getByRole("dialog", { name: "Cancel Meeting" });
  await expect(dialog).toBeVisible();
  await expectAccessible(page, "/bookings with the Cancel dialog open");
  await dialog.getByRole("button", { name: "Keep the booking" }).click();
  await expect(dialog).toHaveCount(0);

  // The New appointment dialog on the Schedule.
  await visit(page, "/schedule");
  await page.getByRole("button", { name: "New appointment" }).click();
  const create = page.getByRole("dialog", { name: "New appointment" });
  await expect(create.getByLabel("Host provider")).toBeVisible();
  await expectAccessible(page, "/schedule with the New appointment dialog open");
});
