// Page weight and time to interactive on a slow phone connection.
//
// Drives Debian's Chromium (Playwright) against a running Slotwise server
// with DevTools' "Slow 4G" network preset and 4x CPU throttling, and reports
// for each page: the bytes transferred (everything, as sent on the wire:
// HTML, js, css, wasm, data; compressed where the server compresses) on a
// first visit (empty cache) and on a repeat visit (same browser), and the
// time from navigation until a click does what it says.
//
// "A click works" is measured with real clicks: every 100 ms the bench
// clicks a control whose effect needs the app's code (a toggle button, a
// demo-login button) and checks the effect, so a page that looks ready but
// is not hydrated does not count.
//
// Usage: node end2end/bench/page-weight.mjs http://127.0.0.1:3300 [runs] [--plain]
// (end2end/bench/run.sh builds the site, starts a server and calls this).
// `--plain` asks for everything uncompressed and keeps nothing in the
// browser's cache: what a browser got before the server compressed and
// cached (the "before" figures of issue 11), on today's build.

import { chromium } from "@playwright/test";

const BASE = process.argv[2] ?? "http://127.0.0.1:3300";
const RUNS = Number(process.argv[3] ?? 3);
const PLAIN = process.argv.includes("--plain");
const PASSWORD = "slotwise-demo";

// DevTools' "Slow 4G" preset (Chromium 156): 562.5 ms latency, 1.44 Mbit/s
// down, 675 kbit/s up; CPU 4x slower than this machine.
const SLOW_4G = {
  offline: false,
  latency: 562.5,
  downloadThroughput: (1.6 * 1000 * 1000 * 0.9) / 8,
  uploadThroughput: (750 * 1000 * 0.9) / 8,
};
const CPU_SLOWDOWN = 4;

// A control that only works once the app runs, and how to see it worked.
const firstUnpressed = {
  // Toggle buttons (slots, tabs, view switches) say whether they are on.
  selector: "main button[aria-pressed='false']:not([disabled])",
  worked: (el) => el.getAttribute("aria-pressed") === "true",
};

const PAGES = [
  { name: "Booking page", path: "/book/northside", user: null, click: firstUnpressed },
  {
    name: "Login",
    path: "/login",
    user: null,
    click: {
      // A demo account fills the form in (demo mode lists them).
      selector: ".demo-list button",
      worked: () => document.querySelector("#login-email")?.value !== "",
    },
  },
  { name: "Portal", path: "/portal", user: "ann@patients.test", click: firstUnpressed },
  { name: "Schedule", path: "/schedule", user: "scheduler@northside.test", click: firstUnpressed },
  {
    name: "Dispatch",
    path: "/dispatch",
    user: "scheduler@northside.test",
    click: {
      // Assign opens a dialog.
      selector: "main button:text-is('Assign')",
      worked: () => document.querySelector("[role=dialog]") !== null,
      closeAfter: true,
    },
  },
];

const LAUNCH = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
  ],
};

/** Counts the bytes a page receives, per request, as they arrive. */
async function meter(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", SLOW_4G);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: CPU_SLOWDOWN });
  if (PLAIN) {
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    await cdp.send("Network.setExtraHTTPHeaders", { headers: { "Accept-Encoding": "identity" } });
  }
  const bytes = new Map();
  const urls = new Map();
  cdp.on("Network.requestWillBeSent", (e) => urls.set(e.requestId, e.request.url));
  // Bytes on the wire (headers and compressed body) so far, per request.
  cdp.on("Network.dataReceived", (e) =>
    bytes.set(e.requestId, (bytes.get(e.requestId) ?? 0) + e.encodedDataLength),
  );
  cdp.on("Network.loadingFinished", (e) =>
    bytes.set(e.requestId, Math.max(bytes.get(e.requestId) ?? 0, e.encodedDataLength)),
  );
  return {
    reset() {
      bytes.clear();
    },
    total() {
      let sum = 0;
      for (const b of bytes.values()) sum += b;
      return sum;
    },
    byUrl() {
      const rows = [];
      for (const [id, b] of bytes) rows.push([urls.get(id) ?? id, b]);
      return rows.sort((a, b) => b[1] - a[1]);
    },
    cdp,
  };
}

/** Navigates and clicks until the click works; returns the milliseconds. */
async function timeToInteractive(page, spec) {
  const t0 = performance.now();
  await page.goto(BASE + spec.path, { waitUntil: "commit" });
  for (;;) {
    if (performance.now() - t0 > 90_000) throw new Error(`${spec.name}: no working click in 90 s`);
    const el = await page.$(spec.click.selector);
    if (el) {
      try {
        await el.click({ timeout: 200, force: true });
        const ok = await page
          .waitForFunction(spec.click.worked, el, { timeout: 100, polling: 20 })
          .then(() => true)
          .catch(() => false);
        if (ok) {
          const ms = performance.now() - t0;
          if (spec.click.closeAfter) await page.keyboard.press("Escape");
          return ms;
        }
      } catch {
        // Detached or covered while hydrating: try again.
      }
    }
    await page.waitForTimeout(100);
  }
}

async function visit(browser, spec) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  if (spec.user) {
    const r = await context.request.post(`${BASE}/api/login`, {
      form: { email: spec.user, password: PASSWORD, next: "" },
      maxRedirects: 0,
    });
    if (r.status() >= 400) throw new Error(`login ${spec.user}: ${r.status()}`);
  }
  const page = await context.newPage();
  const m = await meter(page);
  const first = await timeToInteractive(page, spec);
  // Let late requests (lazy chunks, images) finish before counting.
  await page.waitForLoadState("networkidle").catch(() => {});
  const firstBytes = m.total();
  const firstTop = m.byUrl().slice(0, 4);
  m.reset();
  const repeat = await timeToInteractive(page, spec);
  await page.waitForLoadState("networkidle").catch(() => {});
  const repeatBytes = m.total();
  await context.close();
  return { first, firstBytes, repeat, repeatBytes, firstTop };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (b) => `${(b / 1024).toFixed(1)} KB`;
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;

const browser = await chromium.launch(LAUNCH);
console.log(`${PLAIN ? "UNCOMPRESSED, NO CACHE: " : ""}Slow 4G (${SLOW_4G.latency} ms, ${((SLOW_4G.downloadThroughput * 8) / 1e6).toFixed(2)} Mbit/s) + ${CPU_SLOWDOWN}x CPU, 390x844, median of ${RUNS} runs`);
console.log("| page | first visit: bytes | first visit: a click works | repeat visit: bytes | repeat visit: a click works |");
console.log("|---|---|---|---|---|");
for (const spec of PAGES) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await visit(browser, spec));
  console.log(
    `| ${spec.name} (${spec.path}) | ${kb(median(runs.map((r) => r.firstBytes)))} | ${s(median(runs.map((r) => r.first)))} | ${kb(median(runs.map((r) => r.repeatBytes)))} | ${s(median(runs.map((r) => r.repeat)))} |`,
  );
  if (process.env.VERBOSE) {
    for (const [url, b] of runs[0].firstTop) console.log(`    ${kb(b)}  ${url}`);
  }
}
await browser.close();
