import type { Locator, Page } from "playwright-core"

/**
 * What a person does in the official web app around a turn that changed files: open the review panel on the last
 * turn's changes, undo the last prompt from the prompt box, redo it from the rolled-back dock, and run a custom
 * command typed as `/name`. Shared by the tests of the local server and of the edge.
 */

/** The prompt box, focused and emptied. */
async function emptyPrompt(page: Page): Promise<void> {
  await page.getByRole("textbox", { name: "Prompt" }).click()
  await page.keyboard.press("Control+a")
  await page.keyboard.press("Backspace")
}

/** `/name` typed in the prompt box and chosen from the list the app offers; then `text` and Enter. */
export async function slashCommand(page: Page, name: string, text = ""): Promise<void> {
  await emptyPrompt(page)
  await page.keyboard.type(`/${name}`)
  await page.locator("[data-suggestion-id]", { hasText: `/${name}` }).first().waitFor({ timeout: 15_000 })
  await page.keyboard.press("Enter")
  if (text) await page.keyboard.type(text)
  if (text) await page.keyboard.press("Enter")
}

/** Opens the review panel (if closed) and picks "Last turn changes" (the user message's `summary.diffs`). */
export async function showLastTurnChanges(page: Page): Promise<void> {
  // The panel opens on git's changes in a git project (the app's default mode there), else on the last turn's.
  const mode = page.getByText(/^(Git|Last turn) changes$/).first()
  if (!(await openReview(page, mode, 10_000))) {
    // The app offers its review tab only once it holds the directory's project. When the server answers the page's
    // first requests quickly, the app can lose the project it was told (the same answers, read in another order)
    // and show the panel without the tab; a reload reads the project again and shows it.
    await page.reload()
    await openReview(page, mode, 30_000, true)
  }
  if ((await mode.textContent()) === "Last turn changes") return
  await mode.click()
  await page.getByText("Last turn changes").first().click()
}

/** Opens the side panel (if closed) and waits up to `timeoutMs` for the review tab's mode; false if it never shows. */
async function openReview(page: Page, mode: Locator, timeoutMs: number, required = false): Promise<boolean> {
  const toggle = page.getByRole("button", { name: "Toggle review" }).first()
  await toggle.waitFor({ timeout: 30_000 })
  if ((await toggle.getAttribute("aria-expanded")) !== "true") await toggle.click()
  const shown = mode.waitFor({ timeout: timeoutMs })
  return required ? shown.then(() => true) : shown.then(() => true, () => false)
}
