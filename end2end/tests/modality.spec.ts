import { expect, test } from "@playwright/test";
import { login, waitLive } from "./helpers";

// Issue 12, parts 1 and 2: Harbour Dental's appointments are in person (its
// address, no video link) and cancelled as a "booking" with an optional
// reason; Northside's are video "meetings" and need a reason. Part 7: Mark
// FTA/DNA asks first.

const HARBOUR_ADDRESS = "Level 2, 18 Harbour Street, Sydney NSW 2000";

test("a dental booking is cancelled from Bookings with Cancel Booking and no reason", async ({ page }) => {
  await login(page, "admin@harbour.test");
  await page.goto("/bookings");
  await waitLive(page);
  await page.getByLabel("Patient name").fill("Ben");
  // Ben's check-up in two days (demo data).
  const row = page.getByRole("row").filter({ hasText: "Check-up" }).filter({ hasText: "Upcoming" });
  await expect(row).toHaveCount(1);
  await row.getByLabel(/Actions for booking/).click();
  await row.getByRole("menuitem", { name: "Cancel" }).click();

  const dialog = page.getByRole("dialog", { name: "Cancel Booking" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByText("Ben Brooks")).toBeVisible();
  await expect(dialog.getByText("This action cannot be undone.")).toBeVisible();
  // No reason list: an optional reason in words, up to 255 characters.
  await expect(dialog.getByLabel("Reason", { exact: true })).toHaveCount(0);
  await expect(dialog.getByLabel("Reason (optional)")).toHaveAttribute("maxlength", "255");
  const confirm = dialog.getByRole("button", { name: "Cancel Booking" });
  await expect(confirm).toBeEnabled();
  await confirm.click();

  await expect(page.getByRole("status")).toHaveText("The booking was cancelled.");
  await expect(dialog).toHaveCount(0);
  await expect(row).toHaveCount(0);
  await page.getByLabel("Status").selectOption({ label: "Cancelled" });
  const cancelled = page.getByRole("row").filter({ hasText: "Check-up" }).filter({ hasText: "Ben Brooks" });
  await expect(cancelled).toHaveCount(1);
});

test("the patient's in-person card shows the clinic's address and no video link", async ({ page }) => {
  await login(page, "ann@patients.test");
  await page.goto("/portal");
  await waitLive(page);
  // Ann's cleaning at Harbour Dental tomorrow (demo data).
  const card = page.locator("li.request-card").filter({ hasText: "Cleaning" });
  await expect(card).toHaveCount(1);
  await expect(card.getByText("Address")).toBeVisible();
  await expect(card.getByText(HARBOUR_ADDRESS)).toBeVisible();
  await expect(card.getByRole("link", { name: /meet\./ })).toHaveCount(0);
  await expect(card.getByText("Join")).toHaveCount(0);
  await expect(card.getByText("Meeting ID")).toHaveCount(0);
  await expect(card).not.toContainText("passcode");
});

test("Northside still cancels a Meeting and requires a reason", async ({ page }) => {
  await login(page, "scheduler@northside.test");
  await page.goto("/bookings");
  await waitLive(page);
  const row = page.getByRole("row").filter({ hasText: "Upcoming" }).filter({ hasNotText: "recurring" }).first();
  await row.getByLabel(/Actions for booking/).click();
  await row.getByRole("menuitem", { name: "Cancel" }).click();
  const dialog = page.getByRole("dialog", { name: "Cancel Meeting" });
  await expect(dialog).toBeVisible();
  const confirm = dialog.getByRole("button", { name: "Cancel Meeting" });
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel("Note (optional)").fill("No reason chosen yet");
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel("Reason", { exact: true }).selectOption({ label: "Provider unavailable" });
  await expect(confirm).toBeEnabled();
  await dialog.getByRole("button", { name: "Keep the booking" }).click();
  await expect(dialog).toHaveCount(0);
});

test("Mark FTA asks for confirmation, Escape keeps the booking, and the banner says what was marked", async ({ page }) => {
  await login(page, "admin@harbour.test");
  await page.goto("/bookings");
  await waitLive(page);
  await page.getByLabel("Status").selectOption({ label: "Past" });
  // Ben's check-up yesterday (demo data).
  const row = page.getByRole("row").filter({ hasText: "Check-up" }).filter({ hasText: "Ben Brooks" });
  await expect(row).toHaveCount(1);
  await row.getByLabel(/Actions for booking/).click();
  await row.getByRole("menuitem", { name: "Mark FTA" }).click();
  const dialog = page.getByRole("dialog", { name: "Mark FTA" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByText("Ben Brooks")).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole("status")).toHaveCount(0);
  await expect(row).toContainText("Past");

  await row.getByLabel(/Actions for booking/).click();
  await row.getByRole("menuitem", { name: "Mark FTA" }).click();
  await dialog.getByRole("button", { name: "Mark FTA" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole("status")).toHaveText(/^Marked FTA \(failed to attend\): Ben Brooks, /);
  await page.getByLabel("Status").selectOption({ label: "FTA/DNA" });
  const marked = page.getByRole("row").filter({ hasText: "Check-up" }).filter({ hasText: "Ben Brooks" });
  await expect(marked).toContainText("FTA");
});
