import { Browser, expect, Page, test } from "@playwright/test";
import { login, registerPatient } from "./helpers";

// Account › Profile and the password reset (issue 12, part 6). Without an
// SMTP server the app keeps every email in the Mailbox, where its recipient
// reads it: the patient's other, still logged-in browser reads the reset
// email there, as someone would on their phone.

const FIRST_PASSWORD = "a-long-password"; // registerPatient's

async function newPage(browser: Browser): Promise<Page> {
  return (await browser.newContext()).newPage();
}

/** Opens the email to `to` with `subject` in the Mailbox and returns its link's path. */
async function linkFromMailbox(page: Page, to: string, subject: string, linkName: string): Promise<string> {
  const mail = page.locator(`li.mail[data-to="${to}"]`).filter({ hasText: subject });
  // Delivered by the outbox worker a moment after the request.
  await expect(async () => {
    await page.goto("/mailbox");
    await expect(mail).toHaveCount(1, { timeout: 2_000 });
  }).toPass();
  await mail.getByRole("button").click();
  const href = await mail.frameLocator("iframe.mail-html").getByRole("link", { name: linkName }).getAttribute("href");
  expect(href).toBeTruthy();
  const url = new URL(href!);
  return url.pathname + url.search;
}

test("a patient resets a forgotten password and logs in with the new one", async ({ page, browser }) => {
  const phone = await newPage(browser);
  const email = await registerPatient(phone, `Rita Reset ${Date.now() % 100000}`);

  await page.goto("/login");
  await page.getByRole("link", { name: "Forgot password?" }).click();
  await expect(page).toHaveURL(/\/forgot-password$/);
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Email me a reset link" }).click();
  const answer = page.getByRole("status");
  await expect(answer).toContainText("If an account uses that address");
  // An unknown address hears exactly the same.
  const said = await answer.textContent();
  await page.getByLabel("Email").fill(`nobody-${Date.now()}@patients.test`);
  await page.getByRole("button", { name: "Email me a reset link" }).click();
  await expect(page.getByRole("status")).toHaveText(said!);

  const link = await linkFromMailbox(phone, email, "Reset your Slotwise password", "Choose a new password");
  expect(link).toMatch(/^\/reset-password\?token=/);

  await page.goto(link);
  const field = page.getByLabel("New password (at least 10 characters)");
  await field.fill("short");
  await field.evaluate((el: HTMLInputElement) => el.removeAttribute("minlength"));
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.getByRole("alert")).toContainText("at least 10 characters");
  await field.fill("my-new-secret-password");
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.getByRole("status")).toContainText("Your password was changed");

  // Every session ended: the phone is logged out.
  await phone.goto("/portal");
  await expect(phone).toHaveURL(/\/login/);
  // The old password no longer works; the new one does.
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(FIRST_PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toContainText("Email or password is incorrect");
  await login(page, email, "my-new-secret-password");
  await expect(page).toHaveURL(/\/portal$/);

  // The link worked once.
  await page.goto(link);
  await page.getByLabel("New password (at least 10 characters)").fill("another-new-password");
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.getByRole("alert")).toContainText("already been used");
});

test("a user edits their profile, email and password", async ({ page }) => {
  const email = await registerPatient(page, `Petra Profile ${Date.now() % 100000}`);
  await page.goto("/account");
  const profile = page.getByRole("form", { name: "Profile" });
  await profile.getByLabel("Mobile").fill("call me");
  await profile.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByRole("alert")).toContainText("mobile number with its country code");

  await profile.getByLabel("Name", { exact: true }).fill("Petra Edited");
  await profile.getByLabel("Mobile").fill("+61 412 345 678");
  await profile.getByLabel("Time zone").fill("Australia/Sydney");
  await profile.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByRole("status")).toHaveText("Profile saved.");
  await page.reload();
  await expect(profile.getByLabel("Name", { exact: true })).toHaveValue("Petra Edited");
  await expect(profile.getByLabel("Mobile")).toHaveValue("+61412345678");
  await expect(profile.getByLabel("Time zone")).toHaveValue("Australia/Sydney");

  // A new email address takes effect when the link sent to it is opened.
  const newEmail = email.replace("@", ".new@");
  const change = page.getByRole("form", { name: "Change email" });
  await change.getByLabel("New email address").fill(newEmail);
  await change.getByLabel("Current password").fill(FIRST_PASSWORD);
  await change.getByRole("button", { name: "Send confirmation link" }).click();
  await expect(page.getByRole("status")).toContainText(`We sent a link to ${newEmail}`);
  await expect(page.getByText(`Your email address is ${email}.`)).toBeVisible();
  const link = await linkFromMailbox(page, newEmail, "Confirm your new email address", "Confirm this email address");
  await page.goto(link);
  await page.getByRole("button", { name: "Confirm email address" }).click();
  await expect(page.getByRole("status")).toHaveText(`Your account's email address is now ${newEmail}.`);
  await page.goto("/account");
  await expect(page.getByText(`Your email address is ${newEmail}.`)).toBeVisible();

  // The password: the current one is required.
  const pw = page.getByRole("form", { name: "Change password" });
  await pw.getByLabel("Current password").fill("not-the-password");
  await pw.getByLabel("New password").fill("petra-new-password");
  await pw.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("alert")).toContainText("current password is not correct");
  await pw.getByLabel("Current password").fill(FIRST_PASSWORD);
  await pw.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("status")).toContainText("Your password was changed");
  // This session stays.
  await page.goto("/portal");
  await expect(page).toHaveURL(/\/portal$/);
});
