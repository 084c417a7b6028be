import { expect, test } from "@playwright/test";
import { login, waitLive } from "./helpers";

test("an admin sets the cancellation policy, and a bad value is refused without losing the form", async ({ page }) => {
  await login(page, "admin@harbour.test");
  await page.goto("/settings");
  await waitLive(page);
  const form = page.getByRole("form", { name: "Cancellation policy" });
  await expect(form.getByLabel(/window for cancelling/)).toHaveValue("24");
  await form.getByLabel(/window for cancelling/).fill("48");
  await form.getByLabel("Late-cancellation fee").fill("25,00");
  await form.getByRole("button", { name: "Save policy" }).click();
  await expect(page.getByRole("alert")).toContainText("Enter the price as an amount");
  await expect(form.getByLabel(/window for cancelling/)).toHaveValue("48");
  await form.getByLabel("Late-cancellation fee").fill("25.00");
  await form.getByLabel(/need the practice's approval/).check();
  await form.getByRole("button", { name: "Save policy" }).click();
  await expect(page.getByRole("status")).toContainText("Cancellation policy saved.");
  await page.reload();
  const saved = page.getByRole("form", { name: "Cancellation policy" });
  await expect(saved.getByLabel(/window for cancelling/)).toHaveValue("48");
  await expect(saved.getByLabel("Late-cancellation fee")).toHaveValue("25.00");
  await expect(saved.getByLabel(/need the practice's approval/)).toBeChecked();
});

// FIXME(next session): this test relies on Ben's demo appointments, which
// earlier specs (Bookings, Schedule) may cancel in the shared e2e database;
// it failed in a full CI run for that reason. Make it book its own
// appointment first (staff Create dialog), then check the portal.
test("a patient sees their appointments by list, in their own time too, with the clinic's policy", async ({ page }) => {
  await login(page, "ben@patients.test");
  await page.goto("/portal");
  await waitLive(page);
  const section = page.locator("section", { has: page.getByRole("heading", { name: "My appointments" }) });
  const lists = section.getByRole("group", { name: "Which appointments" });
  const cards = section.locator("li[data-appointment]");
  // Ben lives in Sydney: his Northside (New York) appointment in three days
  // shows both times, and can still be changed online.
  const northside = cards
    .filter({ hasText: "Northside Telehealth" })
    .filter({ hasText: "You can cancel or reschedule online until" })
    .first();
  await expect(northside).toContainText("America/New_York");
  await expect(northside).toContainText("Your time");
  await expect(northside).toContainText("Australia/Sydney");
  await lists.getByRole("button", { name: "Tentative" }).click();
  await expect(lists.getByRole("button", { name: "Tentative" })).toHaveAttribute("aria-pressed", "true");
  await expect(cards.first()).toContainText("Tentative");
  await lists.getByRole("button", { name: "Past" }).click();
  await expect(cards.filter({ hasText: "Fulfilled" }).first()).toBeVisible();
});
