import { expect, test } from "@playwright/test";
import { login, waitLive } from "./helpers";

test("the Bookings list downloads as CSV for the filter on screen", async ({ page }) => {
  await login(page, "scheduler@northside.test");
  await page.goto("/bookings");
  await waitLive(page);
  await page.getByLabel("Status").selectOption({ label: "All" });
  await page.getByLabel("Patient name").fill("Ann");
  const link = page.getByRole("link", { name: "Download CSV" });
  await expect(link).toHaveAttribute("href", "/export/bookings.csv?status=all&search=Ann");

  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  expect(download.suggestedFilename()).toMatch(/^bookings-all-\d{4}-\d{2}-\d{2}\.csv$/);
  const stream = await download.createReadStream();
  let text = "";
  for await (const chunk of stream) text += chunk.toString();
  const lines = text.trim().split("\r\n");
  expect(lines[0]).toBe(
    "Booking,Clinic,When,Date,Start,Minutes,Time zone,Patient,Practitioner,Service,Status,Cancellation reason,Where,PMS sync",
  );
  expect(lines.length).toBeGreaterThan(1);
  // Only Ann's bookings, as the list shows them.
  for (const line of lines.slice(1)) expect(line).toContain("Ann Archer");
  const rows = page.getByRole("row").filter({ hasText: "Ann Archer" });
  await expect(rows.first()).toBeVisible();
});
