import { expect, Locator, Page, test } from "@playwright/test";
import { login, waitLive } from "./helpers";

// Keyboard behaviour of dialogs (WAI-ARIA dialog pattern) and menu buttons
// (WAI-ARIA menu button pattern).

/** Whether the focused element is inside `dialog`. */
async function focusInside(page: Page, dialog: Locator): Promise<boolean> {
  const handle = await dialog.elementHandle();
  return page.evaluate((d) => !!d && d.contains(document.activeElement), handle);
}

test("the ⋯ menu opens, moves with the arrows and closes on Escape", async ({ page }) => {
  await login(page, "scheduler@northside.test");
  await page.goto("/bookings");
  await waitLive(page);
  const row = page.getByRole("row").filter({ hasText: "Upcoming" }).first();
  const button = row.getByRole("button", { name: /Actions for booking/ });
  await expect(button).toHaveAttribute("aria-haspopup", "menu");
  await expect(button).toHaveAttribute("aria-expanded", "false");
  await expect(row.getByRole("menu")).toHaveCount(0);

  await button.click();
  await expect(button).toHaveAttribute("aria-expanded", "true");
  const menu = row.getByRole("menu");
  await expect(menu).toBeVisible();
  await expect(menu.getByRole("menuitem", { name: "Cancel" })).toBeFocused();
  await page.keyboard.press("ArrowDown");
  await expect(menu.getByRole("menuitem", { name: "Reschedule" })).toBeFocused();
  await page.keyboard.press("End");
  await expect(menu.getByRole("menuitem", { name: "Mark DNA" })).toBeFocused();
  await page.keyboard.press("ArrowDown"); // wraps around
  await expect(menu.getByRole("menuitem", { name: "Cancel" })).toBeFocused();
  await page.keyboard.press("ArrowUp");
  await expect(menu.getByRole("menuitem", { name: "Mark DNA" })).toBeFocused();

  await page.keyboard.press("Escape");
  await expect(menu).toHaveCount(0);
  await expect(button).toHaveAttribute("aria-expanded", "false");
  await expect(button).toBeFocused();

  // From the keyboard: ArrowDown opens it on the first item.
  await page.keyboard.press("ArrowDown");
  await expect(row.getByRole("menuitem", { name: "Cancel" })).toBeFocused();
  // A click outside closes it.
  await page.getByRole("heading", { name: "Bookings" }).click();
  await expect(row.getByRole("menu")).toHaveCount(0);
  await expect(button).toHaveAttribute("aria-expanded", "false");
});

test("a dialog takes focus, keeps Tab inside, closes on Escape and returns focus", async ({ page }) => {
  await login(page, "scheduler@northside.test");
  await page.goto("/bookings");
  await waitLive(page);
  const row = page.getByRole("row").filter({ hasText: "Upcoming" }).first();
  const button = row.getByRole("button", { name: /Actions for booking/ });
  await button.click();
  await row.getByRole("menuitem", { name: "Cancel" }).click();

  const dialog = page.getByRole("dialog", { name: "Cancel Meeting" });
  await expect(dialog).toBeVisible();
  // Focus moves to the first field.
  await expect(dialog.getByLabel("Reason")).toBeFocused();
  // The page behind is inert.
  await expect(page.locator("header")).toHaveAttribute("inert", "");

  // Shift+Tab from the first stop wraps to the last (the confirm button is
  // disabled until a reason is chosen), Tab from there wraps to the first.
  await page.keyboard.press("Shift+Tab");
  await expect(dialog.getByRole("button", { name: "Keep the booking" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(dialog.getByLabel("Reason")).toBeFocused();
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press("Tab");
    expect(await focusInside(page, dialog)).toBe(true);
  }
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press("Shift+Tab");
    expect(await focusInside(page, dialog)).toBe(true);
  }

  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await expect(page.locator("header")).not.toHaveAttribute("inert", "");
  // Back on the control that opened it (the menu's button).
  await expect(button).toBeFocused();
});

test("the New appointment dialog returns focus to its button", async ({ page }) => {
  await login(page, "scheduler@northside.test");
  await page.goto("/schedule");
  await waitLive(page);
  const open = page.getByRole("button", { name: "New appointment" });
  await open.click();
  const dialog = page.getByRole("dialog", { name: "New appointment" });
  await expect(dialog).toBeVisible();
  await expect.poll(() => focusInside(page, dialog)).toBe(true);
  await expect(dialog.getByLabel("Host provider")).toBeVisible();
  await page.keyboard.press("Shift+Tab");
  await expect(dialog.getByRole("button", { name: "Close" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await expect(open).toBeFocused();
});

test("a provider's New appointment dialog has them as the host, fixed", async ({ page }) => {
  await login(page, "dr.lee@northside.test");
  await page.goto("/schedule");
  await waitLive(page);
  await page.getByRole("button", { name: "New appointment" }).click();
  const dialog = page.getByRole("dialog", { name: "New appointment" });
  await expect.poll(() => focusInside(page, dialog)).toBe(true);
  const host = dialog.getByLabel("Host provider");
  await expect(host).toBeDisabled();
  await expect(host).not.toHaveValue("0");
  await expect(host.locator("option:checked")).toContainText("Lee");
});

test("the user menu is a menu button named by its visible text", async ({ page }) => {
  await login(page, "scheduler@northside.test");
  await page.goto("/bookings");
  await waitLive(page);
  const button = page.getByRole("button", { name: /user menu/ });
  await expect(button).toHaveAttribute("aria-expanded", "false");
  const name = (await button.innerText()).replace("▾", "").trim();
  expect(name.length).toBeGreaterThan(0);
  expect(await button.getAttribute("aria-label")).toContain(name);

  await button.focus();
  await page.keyboard.press("Enter");
  await expect(button).toHaveAttribute("aria-expanded", "true");
  const menu = page.getByRole("menu");
  await expect(menu.getByRole("menuitem", { name: "Account" })).toBeFocused();
  await page.keyboard.press("ArrowUp");
  await expect(menu.getByRole("menuitem", { name: "Log out" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(menu).toHaveCount(0);
  await expect(button).toBeFocused();
});
