import { expect, test } from "@playwright/test";
import { login, waitLive } from "./helpers";

test("an invited provider can decline but not cancel another host's meeting", async ({ page }) => {
  // Dr. Kim is invited to Dr. Lee's meeting with Ann tomorrow (demo data).
  await login(page, "dr.kim@northside.test");
  await page.goto("/consultations");
  await waitLive(page);
  const item = page.getByRole("listitem").filter({ hasText: "Dr. Jordan Lee" }).filter({ hasText: "You are invited" });
  await expect(item).toHaveCount(1);
  await expect(item.getByRole("button", { name: "X Cancel Meeting" })).toHaveCount(0);
  await item.getByRole("button", { name: "Decline" }).click();
  await expect(page.getByRole("status")).toContainText("You declined the invitation");
  const declined = page.getByRole("listitem").filter({ hasText: "Dr. Jordan Lee" }).filter({ hasText: "You declined" });
  await expect(declined).toHaveCount(1);
  await expect(declined.getByRole("button", { name: "Decline" })).toHaveCount(0);
});

test("a host cancels from Consultations and the meeting leaves the list live elsewhere", async ({ browser }) => {
  // The scheduler watches Consultations while Dr. Kim (the host) cancels.
  const schedCtx = await browser.newContext();
  const sched = await schedCtx.newPage();
  await login(sched, "scheduler@northside.test");
  await sched.goto("/consultations");
  await waitLive(sched);
  const theirs = sched.getByRole("listitem").filter({ hasText: "Ben Brooks" }).filter({ hasText: "Dr. Min-jun Kim" });
  await expect(theirs).toHaveCount(1);

  const kimCtx = await browser.newContext();
  const kim = await kimCtx.newPage();
  await login(kim, "dr.kim@northside.test");
  await kim.goto("/consultations");
  await waitLive(kim);
  const mine = kim.getByRole("listitem").filter({ hasText: "Ben Brooks" });
  await mine.getByRole("button", { name: "X Cancel Meeting" }).click();
  const dialog = kim.getByRole("dialog", { name: "Cancel Meeting" });
  await dialog.getByLabel("Reason").selectOption({ label: "Provider unavailable" });
  await dialog.getByRole("button", { name: "Cancel Meeting" }).click();
  await expect(kim.getByRole("status")).toHaveText("The meeting was cancelled.");
  await expect(mine).toHaveCount(0);

  // Without a reload, the scheduler's list drops it too.
  await expect(theirs).toHaveCount(0);
  await schedCtx.close();
  await kimCtx.close();
});
