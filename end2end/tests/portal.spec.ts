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
