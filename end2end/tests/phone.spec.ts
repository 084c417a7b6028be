import { Browser, expect, Page, test } from "@playwright/test";
import { bookAppointment, hoursFromNow, login, openBookingPage, registerPatient, STAFF_PAGES, waitLive } from "./helpers";

// Issue 11, phone-first layouts: a phone-sized page never scrolls sideways,
// and a patient books, cancels and answers a proposal on a phone.
test.use({ viewport: { width: 390, height: 844 } });

const PUBLIC = ["/login", "/register", "/book/northside", "/book/harbour"];
const PATIENT = ["/portal", "/account", "/mailbox", "/waitlist/join", "/waitlist/join?clinic=1", "/book/northside", "/book/harbour"];
const ADMIN = [...STAFF_PAGES, "/settings", "/outbox", "/mailbox", "/waitlist", "/audit", "/api-clients"];

const ROLES: { role: string; email?: string; pages: string[] }[] = [
  { role: "visitor", pages: PUBLIC },
  { role: "patient", email: "ann@patients.test", pages: PATIENT },
  { role: "provider", email: "dr.lee@northside.test", pages: [...STAFF_PAGES, "/dashboard"] },
  { role: "scheduler", email: "scheduler@northside.test", pages: STAFF_PAGES },
  { role: "Northside admin", email: "admin@northside.test", pages: ADMIN },
  { role: "Harbour admin", email: "admin@harbour.test", pages: ADMIN },
];

/** How far the page is wider than the window, and the widest elements
 * sticking out (those not inside a container that scrolls or clips). */
async function sideways(page: Page) {
  return page.evaluate(() => {
    const vw = window.innerWidth;
    const scrollWidth = document.documentElement.scrollWidth;
    const clipped = (el: Element) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        if (getComputedStyle(p).overflowX !== "visible") return true;
      }
      return false;
    };
    const describe = (el: Element) => {
      const cls = typeof el.className === "string" && el.className ? `.${el.className.trim().split(/\s+/).join(".")}` : "";
      const text = (el.textContent ?? "").trim().replace(/\s+/g, " ").slice(0, 40);
      return `<${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${cls}> "${text}"`;
    };
    const out: { right: number; what: string }[] = [];
    for (const el of Array.from(document.querySelectorAll("body *"))) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.right <= vw + 0.5 || clipped(el)) continue;
      out.push({ right: Math.round(r.right + window.scrollX), what: `${describe(el)} (${Math.round(r.width)}px wide)` });
    }
    out.sort((a, b) => b.right - a.right);
    return { vw, scrollWidth, widest: out.slice(0, 3).map((o) => `${o.what} reaching ${o.right}px`) };
  });
}

async function expectNoSidewaysScroll(page: Page, what: string) {
  const s = await sideways(page);
  expect(
    s.scrollWidth,
    `${what} at ${s.vw}px scrolls sideways (${s.scrollWidth}px wide); widest: ${s.widest.join("; ") || "?"}`,
  ).toBeLessThanOrEqual(s.vw);
}

/** Waits until a page has its data: hydrated, live, nothing loading. */
async function settle(page: Page) {
  await expect(page.locator("main h1").first()).toBeVisible();
  await waitLive(page);
  await expect(page.locator(".loading")).toHaveCount(0);
}

for (const { role, email, pages } of ROLES) {
  test(`no page scrolls sideways at 360 to 1024 px: ${role}`, async ({ page }) => {
    test.setTimeout(180_000);
    if (email) await login(page, email);
    for (const path of pages) {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(path);
      // Visitors have no live stream: their pages are ready once rendered.
      if (!email) {
        await expect(page.locator("main h1").first()).toBeVisible();
        await expect(page.locator(".loading")).toHaveCount(0);
      } else {
        await settle(page);
      }
      await expectNoSidewaysScroll(page, `${path} (${role})`);
      await page.setViewportSize({ width: 360, height: 740 });
      await expectNoSidewaysScroll(page, `${path} (${role})`);
      // Tablets and small laptops too (the Dispatch board's eleven columns were 1,066 px at 900).
      for (const width of [768, 900, 1024]) {
        await page.setViewportSize({ width, height: 800 });
        await expectNoSidewaysScroll(page, `${path} (${role})`);
      }
    }
  });
}

async function phonePage(browser: Browser): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  return ctx.newPage();
}

function myAppointments(page: Page) {
  return page.locator("section", { has: page.getByRole("heading", { name: "My appointments" }) });
}

function card(page: Page, provider: string) {
  return myAppointments(page).locator("li[data-appointment]").filter({ hasText: provider });
}

function unique(prefix: string) {
  return `${prefix} ${Math.floor(Math.random() * 1e6)}`;
}

test("on a phone a patient picks a day and a time, sends, sees the confirmation by the button, and the form starts afresh", async ({ page }) => {
  await registerPatient(page, unique("Pia Phone"));
  await openBookingPage(page);
  await page.getByRole("radio", { name: /Video consultation/ }).check();

  // One day at a time: choose the third day in the strip, then a time.
  const days = page.getByRole("group", { name: "Day" }).getByRole("button");
  await expect(days.nth(2)).toBeVisible();
  await days.nth(2).click();
  await expect(days.nth(2)).toHaveAttribute("aria-pressed", "true");
  await expect(days.nth(0)).toHaveAttribute("aria-pressed", "false");
  const times = page.getByRole("group", { name: /^Free times on/ }).getByRole("button");
  await times.first().click();
  await expect(times.first()).toHaveAttribute("aria-pressed", "true");
  // The next day, by the arrow, adds a second time.
  await page.getByRole("button", { name: "Next day" }).click();
  await expect(days.nth(3)).toHaveAttribute("aria-pressed", "true");
  await times.nth(1).click();
  await expect(page.locator(".chosen .chip")).toHaveCount(2);
  await expect(days.nth(2)).toHaveClass(/has-chosen/);

  const discuss = page.getByLabel("What would you like to discuss?");
  await discuss.fill("A rash that will not go away");
  await page.getByLabel(/Is this your first visit/).selectOption("Yes");
  await page.getByLabel(/^Request Note/).fill("Mornings are best");
  await expectNoSidewaysScroll(page, "/book/northside with times chosen (patient)");

  const send = page.getByRole("button", { name: "Send request" });
  await send.click();
  const status = page.getByRole("status");
  await expect(status).toContainText("sent");
  // Where the patient is looking: in view, just under the button.
  await expect(status).toBeInViewport();
  const [b, s] = [(await send.boundingBox())!, (await status.boundingBox())!];
  expect(s.y - (b.y + b.height), "the confirmation sits right under Send request").toBeLessThan(60);
  expect(s.y).toBeGreaterThan(b.y);

  // A sent form is reset.
  await expect(page.locator(".chosen .chip")).toHaveCount(0);
  await expect(discuss).toHaveValue("");
  await expect(page.getByLabel(/Is this your first visit/)).toHaveValue("");
  await expect(page.getByLabel(/^Request Note/)).toHaveValue("");
  await expect(send).toBeDisabled();
});

test("on a phone a patient cancels an appointment from the portal and sees the result", async ({ browser }) => {
  const name = unique("Cal Phone");
  const patient = await phonePage(browser);
  await registerPatient(patient, name);
  const staff = await (await browser.newContext()).newPage();
  await login(staff, "scheduler@northside.test");
  await bookAppointment(staff, "Dr. Priya Patel", name, hoursFromNow(24 * 11 + 3));

  await patient.reload();
  await waitLive(patient);
  const mine = card(patient, "Dr. Priya Patel");
  await expect(mine).toContainText("You can cancel or reschedule online until");
  await expectNoSidewaysScroll(patient, "/portal with an appointment (patient)");
  const cancel = mine.getByRole("button", { name: "Cancel…" });
  expect((await cancel.boundingBox())!.height, "Cancel… is a comfortable touch target").toBeGreaterThanOrEqual(44);
  await cancel.click();
  await mine.getByLabel("Reason (optional)").fill("Travelling");
  await mine.getByRole("button", { name: "Cancel appointment" }).click();
  const status = patient.getByRole("status");
  await expect(status).toContainText("Your appointment is cancelled.");
  await expect(status).toBeInViewport();
  await myAppointments(patient).getByRole("group", { name: "Which appointments" }).getByRole("button", { name: "Cancelled" }).click();
  await expect(card(patient, "Dr. Priya Patel")).toContainText("Travelling");
  await staff.context().close();
  await patient.context().close();
});

test("on a phone a patient approves a time the clinic proposed", async ({ browser }) => {
  const name = unique("Pat Propose");
  const patient = await phonePage(browser);
  await registerPatient(patient, name);
  const staff = await (await browser.newContext()).newPage();
  await login(staff, "scheduler@northside.test");
  await bookAppointment(staff, "Dr. Priya Patel", name, hoursFromNow(7));

  // The patient asks to move it (inside the window: the practice decides).
  await patient.reload();
  await waitLive(patient);
  const mine = card(patient, "Dr. Priya Patel");
  await mine.getByRole("button", { name: "Reschedule…" }).click();
  const select = mine.getByLabel("New time (clinic time)");
  await expect(select.locator("option").nth(1)).toBeAttached();
  await select.selectOption({ index: 1 });
  await mine.getByRole("button", { name: "Send request anyway" }).click();
  await expect(patient.getByRole("status")).toContainText("Your request has been sent to the clinic");
  await expect(patient.getByRole("status")).toBeInViewport();

  // The scheduler proposes another time: twelve days out at 06:40, outside
  // every demo provider's hours.
  const date = new Date(Date.now() + 12 * 86_400_000).toLocaleDateString("en-CA", { timeZone: "America/New_York" });
  await staff.goto("/requests");
  await waitLive(staff);
  const request = staff.locator("li[data-request]").filter({ hasText: name });
  await request.getByRole("button", { name: "Propose Changes" }).click();
  const dialog = staff.getByRole("dialog", { name: "Propose Changes" });
  await dialog.getByLabel(/^New date and time/).fill(`${date}T06:40`);
  await dialog.getByLabel(/^Reason/).fill("The doctor is in clinic early that day");
  await dialog.getByRole("button", { name: "Propose Changes" }).click();
  await expect(request).toHaveCount(0);

  // The patient approves on their phone.
  await myAppointments(patient).getByRole("group", { name: "Which appointments" }).getByRole("button", { name: "Tentative" }).click();
  const tentative = card(patient, "Dr. Priya Patel");
  await expect(tentative).toContainText("6:40 AM");
  await expectNoSidewaysScroll(patient, "/portal with a proposal (patient)");
  const approve = tentative.getByRole("button", { name: "Approve new time" });
  expect((await approve.boundingBox())!.height).toBeGreaterThanOrEqual(44);
  await approve.click();
  await expect(patient.getByRole("status")).toContainText("The clinic has your answer.");
  await expect(patient.getByRole("status")).toBeInViewport();
  await myAppointments(patient).getByRole("group", { name: "Which appointments" }).getByRole("button", { name: "Upcoming" }).click();
  await expect(card(patient, "Dr. Priya Patel")).toContainText("6:40 AM");
  await expect(card(patient, "Dr. Priya Patel")).toContainText("Booked");
  await staff.context().close();
  await patient.context().close();
});
