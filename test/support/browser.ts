import { chromium, type Browser, type Page } from "playwright-core"

/** Debian's Chromium, driven by playwright-core (the tests skip where it is missing). */
export const CHROMIUM = "/usr/bin/chromium"

/** A page load on a loaded 2-core machine (the suite runs files side by side) can take well over 30 s. */
export const NAVIGATION_TIMEOUT_MS = 90_000

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
  })
}

export interface WatchedPage {
  page: Page
  /** Responses of `serverUrl` with status ≥ 400 (`STATUS METHOD URL`) and page errors, in order. */
  failures: string[]
  /** Every request the page made to `serverUrl`, answered: `STATUS METHOD URL`. */
  answered: string[]
}

/**
 * A new page that records what it asked `serverUrl` and what failed, for assertions and diagnostics.
 * `headers` (a target's auth) go with every request the page makes.
 */
export async function watchedPage(
  browser: Browser,
  serverUrl: string,
  headers: Record<string, string> = {},
  viewport = { width: 1280, height: 800 },
): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport, extraHTTPHeaders: headers })
  page.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT_MS)
  const failures: string[] = []
  const answered: string[] = []
  page.on("response", (response) => {
    if (!response.url().startsWith(serverUrl)) return
    const line = `${response.status()} ${response.request().method()} ${response.url()}`
    answered.push(line)
    if (response.status() >= 400) failures.push(line)
  })
  page.on("pageerror", (error) => failures.push(`page error: ${error.message}`))
  return { page, failures, answered }
}
