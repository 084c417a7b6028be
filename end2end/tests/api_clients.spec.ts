import { expect, Page, test } from "@playwright/test";
import { readFileSync } from "fs";
import { login, waitLive } from "./helpers";

/** axe-core on the page as it is now (as a11y.spec.ts runs it): no
 * "serious" or "critical" violation. */
async function expectAccessible(page: Page, what: string) {
  // Evaluated rather than added as a <script>: the CSP runs inline script
  // only with its nonce.
  await page.evaluate(readFileSync(require.resolve("axe-core"), "utf8"));
  const violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] =
    await page.evaluate(async () => {
      const result = await (window as any).axe.run(document, { resultTypes: ["violations"] });
      return result.violations;
    });
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = bad
    .map((v) => `[${v.impact}] ${v.id}: ${v.help}\n    ${v.nodes.map((n) => n.target.join(" ")).join("\n    ")}`)
    .join("\n");
  expect(bad, `${what}:\n${report}`).toEqual([]);
}

// Issue 16, part 1: a clinic admin makes a read-write API client, sees its
// token once, the token works against the FHIR API, and after Revoke
// (confirmed in the dialog, with the keyboard) it no longer does.
test("an admin creates an API client, uses its token and revokes it", async ({ page, request }) => {
  await login(page, "admin@northside.test");
  // The admin's user menu leads there.
  await page.getByRole("button", { name: /user menu/ }).click();
  await page.getByRole("menuitem", { name: "API clients" }).click();
  await expect(page).toHaveURL(/\/api-clients$/);
  await expect(page.getByRole("heading", { name: "API clients", level: 1 })).toBeVisible();
  await waitLive(page);

  const name = `E2E booker ${Date.now() % 100000}`;
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Access", { exact: true }).selectOption({ label: "Read and write" });
  await page.getByRole("button", { name: "Create API client" }).click();

  // The token, once, with the warning.
  const shown = page.locator(".new-token");
  await expect(shown).toContainText(`“${name}” was created (read and write)`);
  await expect(shown).toContainText("it will not be shown again");
  const token = await page.getByLabel("Token").inputValue();
  expect(token).toMatch(/^swk_[A-Za-z0-9_-]{43}$/);
  await expectAccessible(page, "API clients, the new token shown");

  const table = page.getByRole("table", { name: "API clients" });
  const row = table.getByRole("row").filter({ hasText: name });
  await expect(row).toContainText("Read and write");
  await expect(row).toContainText("Never");
  await expect(row).toContainText("Active");

  // The token works against the FHIR API; without it, nothing.
  const auth = { Authorization: `Bearer ${token}` };
  const meta = await request.get("/fhir/metadata", { headers: auth });
  expect(meta.status()).toBe(200);
  expect((await meta.json()).resourceType).toBe("CapabilityStatement");
  const practitioners = await request.get("/fhir/Practitioner", { headers: auth });
  expect(practitioners.status()).toBe(200);
  const bundle = await practitioners.json();
  expect(bundle.resourceType).toBe("Bundle");
  expect(JSON.stringify(bundle)).toContain("Lee");
  expect((await request.get("/fhir/Practitioner")).status()).toBe(401);

  // Dismissed, it is gone for good: not on the page after a reload either.
  await page.getByRole("button", { name: "I have copied it" }).click();
  await expect(shown).toHaveCount(0);
  await page.reload();
  await waitLive(page);
  await expect(row).toBeVisible();
  expect(await page.content()).not.toContain(token.slice(4));
  await expect(row).not.toContainText("Never");

  // Revoke, with the keyboard: Escape keeps it, Enter on Revoke confirms.
  const revokeButton = row.getByRole("button", { name: `Revoke ${name}` });
  await revokeButton.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: `Revoke “${name}”?` });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("cannot be undone");
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await expect(revokeButton).toBeFocused();
  await expect(row).toContainText("Active");

  await page.keyboard.press("Enter");
  await expect(dialog).toBeVisible();
  await expectAccessible(page, "API clients, the Revoke dialog open");
  await page.keyboard.press("Tab");
  await expect(dialog.getByRole("button", { name: "Revoke", exact: true })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole("status").filter({ hasText: "was revoked" })).toContainText(
    `“${name}” was revoked`,
  );
  await expect(row).toContainText("Revoked");
  await expect(row).not.toContainText("Active");
  await expect(row.getByRole("button")).toHaveCount(0);

  // The revoked token is refused.
  const refused = await request.get("/fhir/Practitioner", { headers: auth });
  expect(refused.status()).toBe(401);
  expect(await refused.text()).toContain("revoked");
});

test("a scheduler cannot see or make API clients", async ({ page }) => {
  await login(page, "scheduler@northside.test");
  await page.goto("/api-clients");
  await waitLive(page);
  await expect(page.getByRole("alert")).toContainText("Only clinic admins manage API clients.");
  await expect(page.getByLabel("Name", { exact: true })).toHaveCount(0);
  await page.getByRole("button", { name: /user menu/ }).click();
  await expect(page.getByRole("menuitem", { name: "API clients" })).toHaveCount(0);
});
