import { spawn } from "node:child_process"

/** How long an opener that ran has to fail before the browser counts as opened (as upstream waits). */
const OPEN_GRACE_MS = 500

/**
 * Opens `url` with the desktop's own opener (xdg-open, open, explorer). Rejects when there is none, or it ends
 * with an error at once (no display, no browser); one still running after a moment counts as opened.
 */
export function openInBrowser(url: string): Promise<void> {
  const command = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open"
  return new Promise((resolve, reject) => {
    const child = spawn(command, [url], { detached: true, stdio: "ignore" })
    const opened = setTimeout(() => {
      child.unref()
      resolve()
    }, OPEN_GRACE_MS)
    child.on("error", (error) => {
      clearTimeout(opened)
      reject(new Error(`No browser could be opened (${command}): ${error.message}`))
    })
    child.on("exit", (code) => {
      clearTimeout(opened)
      if (code === 0 || code === null) resolve()
      else reject(new Error(`No browser could be opened (${command} ended with ${code})`))
    })
  })
}
