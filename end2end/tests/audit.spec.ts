import { expect, test } from "@playwright/test";
import { readFileSync } from "node:fs";
import { bookAppointment, hoursFromNow, login, registerPatient, waitLive } from "./helpers";

/** RFC 4180 rows (quoted cells, doubled quotes, CRLF line ends). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === "") quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += c;
  }
  return rows;
}

test("an admin filters the audit trail and downloads it as CSV", async ({ browser }) => {
  // Something to find: a new patient, booked by the scheduler.
  const patientCtx = await browser.newContext();
  const patient = await patientCtx.newPage();
  const name = `Audra Audit ${Date.now() % 100000}`;
  const email = await registerPatient(patient, name);
  await patientCtx.close();

  const schedCtx = await browser.newContext();
  const sched = await schedCtx.newPage();
  await login(sched, "scheduler@northside.test");
  await bookAppointment(sched, "Dr. Jordan Lee", name, hoursFromNow(24 * 9 + 5));
  await schedCtx.close();

  const adminCtx = await browser.newContext({ acceptDownloads: true });
  const admin = await adminCtx.newPage();
  await login(admin, "admin@northside.test");
  // The admin's user menu leads there.
  await admin.getByRole("button", { name: /user menu/ }).click();
  await admin.getByRole("menuitem", { name: "Audit trail" }).click();
  await expect(admin).toHaveURL(/\/audit$/);
  await expect(admin.getByRole("heading", { name: "Audit trail" })).toBeVisible();
  await waitLive(admin);

  // The patient's entries: their registration and the booking.
  await admin.getByLabel("Patient", { exact: true }).fill(email);
  const table = admin.getByRole("table", { name: "Audit trail" });
  const rows = table.locator("tbody tr");
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText("Appointment: create");
  await expect(rows.nth(0)).toContainText("scheduler@northside.test");
  await expect(rows.nth(0)).toContainText(`Patient: — → ${name}`);
  await expect(rows.nth(0)).toContainText("Host: — → Dr. Jordan Lee");
  await expect(rows.nth(1)).toContainText("User: register");

  // Narrowed to one action.
  await admin.getByLabel("Action", { exact: true }).selectOption({ label: "Appointment: create" });
  await expect(rows).toHaveCount(1);
  await expect(rows.nth(0)).toContainText("Appointment: create");

  // The download is the current filter.
  const [download] = await Promise.all([
    admin.waitForEvent("download"),
    admin.getByRole("link", { name: "Download CSV" }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^audit-northside-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = parseCsv(readFileSync((await download.path())!, "utf8"));
  expect(csv[0]).toEqual(["id", "time", "actor", "on behalf of", "action", "entity", "entity id", "changes"]);
  expect(csv).toHaveLength(2);
  const [row] = csv.slice(1);
  expect(row[2]).toContain("<scheduler@northside.test>");
  expect(row[3]).toContain("Dr. Jordan Lee");
  expect(row[4]).toBe("appointment.create");
  expect(row[5]).toBe("appointment");
  expect(row[7]).toContain(`Patient: — → ${name}`);
  await adminCtx.close();
});

test("a scheduler is refused the audit trail and its CSV", async ({ page }) => {
  await login(page, "scheduler@northside.test");
  await page.goto("/audit");
  await expect(page.getByRole("alert")).toContainText("Only clinic admins see the audit trail.");
  const resp = await page.request.get("/export/audit.csv");
  expect(resp.status()).toBe(403);
  expect(await resp.text()).not.toContain("appointment.");
});
