import { expect, Page, test } from "@playwright/test";
import { createAppointment, login, nyDate, waitLive } from "./helpers";

function gridItem(page: Page, text: string, host: string) {
  return page.getByRole("listitem").filter({ hasText: text }).filter({ hasText: host });
}

test("create a weekly series and cancel one meeting with the red X in the Week view", async ({ page }) => {
  const day = nyDate(14);
  await login(page, "scheduler@northside.test");
  await page.goto(`/schedule?date=${day}`);
  await waitLive(page);
  await expect(page.getByText("Times in America/New_York")).toBeVisible();
  await createAppointment(page, {
    host: "Dr. Min-jun Kim",
    patient: "Ann Archer",
    date: day,
    start: "07:00",
    weeklyCount: 3,
  });
  await expect(page.getByRole("status")).toHaveText("3 appointments were created.");
  const item = gridItem(page, "7:00 AM Ann Archer", "Dr. Min-jun Kim");
  await expect(item).toHaveCount(1);

  await item.getByRole("button", { name: /^Cancel Meeting/ }).click();
  const dialog = page.getByRole("dialog", { name: "Cancel Meeting" });
  await expect(dialog.getByText("This action cannot be undone.")).toBeVisible();
  await dialog.getByLabel("Reason").selectOption({ label: "Patient requested" });
  await dialog.getByRole("button", { name: "Cancel This Meeting Only" }).click();
  await expect(page.getByRole("status")).toHaveText("The meeting was cancelled.");
  await expect(item).toHaveCount(0);

  // The rest of the series is still booked the week after.
  await page.getByRole("button", { name: "Next" }).click();
  await expect(gridItem(page, "7:00 AM Ann Archer", "Dr. Min-jun Kim")).toHaveCount(1);
});

test("cancel from the Day view, where each provider has a column", async ({ page }) => {
  const day = nyDate(15);
  await login(page, "scheduler@northside.test");
  await page.goto(`/schedule?view=day&date=${day}`);
  await waitLive(page);
  await createAppointment(page, { host: "Dr. Priya Patel", patient: "Ben Brooks", date: day, start: "07:30" });
  const column = page.getByRole("list", { name: "Dr. Priya Patel" });
  const item = column.getByRole("listitem").filter({ hasText: "7:30 AM Ben Brooks" });
  await expect(item).toHaveCount(1);
  await expect(page.getByRole("list", { name: "Dr. Jordan Lee" }).getByText("7:30 AM Ben Brooks")).toHaveCount(0);

  await item.getByRole("button", { name: /^Cancel Meeting/ }).click();
  const dialog = page.getByRole("dialog", { name: "Cancel Meeting" });
  const confirm = dialog.getByRole("button", { name: "Cancel Meeting" });
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel("Reason").selectOption({ label: "Provider unavailable" });
  await confirm.click();
  await expect(item).toHaveCount(0);
  // It stays in Bookings as Cancelled.
  await page.goto("/bookings");
  await page.getByLabel("Status").selectOption({ label: "Cancelled" });
  await expect(page.getByRole("row").filter({ hasText: "Ben Brooks" }).filter({ hasText: "Dr. Priya Patel" }).first()).toBeVisible();
});

test("reschedule from the appointment's details, and the invited provider can decline", async ({ browser }) => {
  const day = nyDate(16);
  const schedCtx = await browser.newContext();
  const sched = await schedCtx.newPage();
  await login(sched, "scheduler@northside.test");
  await sched.goto(`/schedule?view=day&date=${day}`);
  await waitLive(sched);
  await createAppointment(sched, {
    host: "Dr. Jordan Lee",
    patient: "Ann Archer",
    date: day,
    start: "07:00",
    invite: "Dr. Priya Patel",
  });
  const lee = sched.getByRole("list", { name: "Dr. Jordan Lee" });
  await lee.getByRole("button", { name: /7:00 AM Ann Archer/ }).click();
  const details = sched.getByRole("dialog");
  await expect(details).toContainText("Dr. Priya Patel · invited");
  await expect(details).toContainText("https://meet.slotwise.test/j/");
  await details.getByRole("button", { name: "Reschedule" }).click();
  const dialog = sched.getByRole("dialog", { name: "Reschedule" });
  await dialog.getByLabel(/New start time/).fill("08:15");
  await dialog.getByLabel("Location").fill("Room 2");
  await dialog.getByRole("button", { name: "Reschedule" }).click();
  await expect(sched.getByRole("status")).toHaveText("The meeting was rescheduled.");
  await expect(lee.getByRole("listitem").filter({ hasText: "8:15 AM Ann Archer" })).toHaveCount(1);
  await expect(lee.getByRole("listitem").filter({ hasText: "7:00 AM Ann Archer" })).toHaveCount(0);

  // Dr. Patel sees the invitation in her week and declines; the host's view shows it live.
  const patelCtx = await browser.newContext();
  const patel = await patelCtx.newPage();
  await login(patel, "dr.patel@northside.test");
  await patel.goto(`/schedule?date=${day}`);
  await waitLive(patel);
  const invite = patel.getByRole("listitem").filter({ hasText: "8:15 AM Ann Archer" });
  await expect(invite).toContainText("Invited");
  await expect(invite.getByRole("button", { name: /^Cancel Meeting/ })).toHaveCount(0);
  await invite.getByRole("button", { name: /8:15 AM Ann Archer/ }).click();
  await patel.getByRole("dialog").getByRole("button", { name: "Decline" }).click();
  await expect(patel.getByRole("status")).toContainText("You declined the invitation");
  await expect(invite).toContainText("Declined");

  await lee.getByRole("button", { name: /8:15 AM Ann Archer/ }).click();
  await expect(sched.getByRole("dialog")).toContainText("Dr. Priya Patel · declined");
  await schedCtx.close();
  await patelCtx.close();
});

test("an appointment cancelled in one browser leaves another browser's Schedule without reload", async ({ browser }) => {
  const day = nyDate(17);
  const schedCtx = await browser.newContext();
  const sched = await schedCtx.newPage();
  await login(sched, "scheduler@northside.test");
  await sched.goto(`/schedule?view=day&date=${day}`);
  await waitLive(sched);
  await createAppointment(sched, { host: "Dr. Jordan Lee", patient: "Ben Brooks", date: day, start: "07:45" });

  // Dr. Lee watches his own Week view.
  const leeCtx = await browser.newContext();
  const lee = await leeCtx.newPage();
  await login(lee, "dr.lee@northside.test");
  await lee.goto(`/schedule?date=${day}`);
  await waitLive(lee);
  const watched = lee.getByRole("listitem").filter({ hasText: "7:45 AM Ben Brooks" });
  await expect(watched).toHaveCount(1);

  const item = sched.getByRole("list", { name: "Dr. Jordan Lee" }).getByRole("listitem").filter({ hasText: "7:45 AM Ben Brooks" });
  await item.getByRole("button", { name: /^Cancel Meeting/ }).click();
  const dialog = sched.getByRole("dialog", { name: "Cancel Meeting" });
  await dialog.getByLabel("Reason").selectOption({ label: "Provider unavailable" });
  await dialog.getByRole("button", { name: "Cancel Meeting" }).click();
  await expect(item).toHaveCount(0);

  await expect(watched).toHaveCount(0);
  await schedCtx.close();
  await leeCtx.close();
});
