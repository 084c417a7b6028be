import { expect, test } from "@playwright/test";
import { login, waitLive } from "./helpers";

test("a scheduler cancels a booking from the Bookings list", async ({ page }) => {
  await login(page, "scheduler@northside.test");
  await page.goto("/bookings");
  await waitLive(page);
  await page.getByLabel("Patient name").fill("Ann");
  const row = page.getByRole("row").filter({ hasText: "Dr. Priya Patel" }).filter({ hasText: "Ann Archer" });
  await expect(row).toHaveCount(1);
  await row.getByLabel(/Actions for booking/).click();
  await row.getByRole("menuitem", { name: "Cancel" }).click();

  const dialog = page.getByRole("dialog", { name: "Cancel Meeting" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByText("This action cannot be undone.")).toBeVisible();
  await expect(dialog.getByText("Video consultation")).toBeVisible();
  const confirm = dialog.getByRole("button", { name: "Cancel Meeting" });
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel("Reason").selectOption({ label: "Other" });
  await expect(confirm).toBeDisabled(); // "Other" needs an explanation
  await dialog.getByLabel("Explanation (required)").fill("Clinic closed for a power cut");
  await expect(dialog.getByText("29 / 255")).toBeVisible();
  await expect(confirm).toBeEnabled();
  await dialog.getByLabel("Message to the patient (optional)").fill("We are sorry; please book again.");
  await confirm.click();

  await expect(page.getByRole("status")).toHaveText("The booking was cancelled.");
  await expect(dialog).toHaveCount(0);
  await expect(row).toHaveCount(0);
  await page.getByLabel("Status").selectOption({ label: "Cancelled" });
  const cancelled = page.getByRole("row").filter({ hasText: "Dr. Priya Patel" }).filter({ hasText: "Ann Archer" });
  await expect(cancelled).toHaveCount(1);
  await expect(cancelled).toContainText("Cancelled");
  await expect(cancelled).toContainText("Other");
  // There is no un-cancel: Cancel is disabled with the reason.
  await cancelled.getByLabel(/Actions for booking/).click();
  await expect(cancelled.getByRole("menuitem", { name: "Cancel" })).toBeDisabled();
  await expect(cancelled.getByRole("menuitem", { name: "Cancel" })).toHaveAttribute("title", "This appointment is cancelled.");
});

test("a recurring booking offers this meeting only or the whole series", async ({ page }) => {
  await login(page, "scheduler@northside.test");
  await page.goto("/bookings");
  await waitLive(page);
  // Not one in progress right now (that can no longer be cancelled).
  const row = page.getByRole("row").filter({ hasText: "recurring" }).filter({ hasText: "Upcoming" }).first();
  await row.getByLabel(/Actions for booking/).click();
  await row.getByRole("menuitem", { name: "Cancel" }).click();
  const dialog = page.getByRole("dialog", { name: "Cancel Meeting" });
  await expect(dialog.getByRole("button", { name: "Cancel This Meeting Only" })).toBeDisabled();
  await expect(dialog.getByRole("button", { name: "Cancel All Meetings in This Series" })).toBeDisabled();
  await dialog.getByRole("button", { name: "Keep the booking" }).click();
  await expect(dialog).toHaveCount(0);
});

test("past bookings can be marked FTA or DNA but not cancelled", async ({ page }) => {
  await login(page, "scheduler@northside.test");
  await page.goto("/bookings");
  await waitLive(page);
  await page.getByLabel("Status").selectOption({ label: "Past" });
  // Dr. Patel saw Ben yesterday (demo data): still "booked", so it can be marked.
  // Hosted by Dr. Patel (she may also be invited to others' meetings with Ben).
  const hostedByPatel = page.locator('td[data-label="Practitioner"]', { hasText: /^Dr\. Priya Patel/ });
  const row = page.getByRole("row").filter({ has: hostedByPatel }).filter({ hasText: "Ben Brooks" });
  await expect(row).toHaveCount(1);
  await row.getByLabel(/Actions for booking/).click();
  await expect(row.getByRole("menuitem", { name: "Cancel" })).toBeDisabled();
  await row.getByRole("menuitem", { name: "Mark DNA" }).click();
  // It asks first (issue 12), then says what was marked.
  const confirm = page.getByRole("dialog", { name: "Mark DNA" });
  await confirm.getByRole("button", { name: "Mark DNA" }).click();
  await expect(confirm).toHaveCount(0);
  await expect(page.getByRole("status")).toHaveText(/^Marked DNA \(did not attend\): Ben Brooks, /);
  await page.getByLabel("Status").selectOption({ label: "FTA/DNA" });
  const marked = page.getByRole("row").filter({ hasText: "Ben Brooks" }).filter({ hasText: "DNA" });
  await expect(marked).toHaveCount(1);
});

test("a scheduler reschedules from the Bookings menu and sees who is invited", async ({ page }) => {
  await login(page, "scheduler@northside.test");
  await page.goto("/bookings");
  await waitLive(page);
  const row = page.getByRole("row").filter({ hasText: "Upcoming" }).filter({ hasNotText: "recurring" }).last();
  const patient = (await row.locator('td[data-label="Patient"]').innerText()).trim();
  await row.getByLabel(/Actions for booking/).click();
  await row.getByRole("menuitem", { name: "Reschedule" }).click();
  const dialog = page.getByRole("dialog", { name: "Reschedule" });
  await expect(dialog.getByText(patient)).toBeVisible();
  const day = new Date(Date.now() + 20 * 86_400_000).toLocaleDateString("en-CA", { timeZone: "America/New_York" });
  await dialog.getByLabel("New date").fill(day);
  await dialog.getByLabel(/New start time/).fill("06:45");
  await dialog.getByRole("button", { name: "Reschedule" }).click();
  await expect(page.getByRole("status")).toHaveText("The booking was rescheduled.");
  await expect(page.getByRole("row").filter({ hasText: patient }).filter({ hasText: "6:45 AM–" })).toHaveCount(1);
});
