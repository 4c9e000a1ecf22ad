/**
 * A paired browser's client token, kept in an HttpOnly cookie of the edge's origin: the web app holds the
 * `?auth_token=` it was opened with only in memory, so after a reload the cookie is what signs its requests.
 * SameSite=Strict keeps other sites' requests from carrying it, and it counts only on requests the browser
 * marks as coming from this origin or from the user (Sec-Fetch-Site), so no other origin can act with it.
 */
const NAME = "opencode_edge_token"
/** The longest a browser keeps a cookie (Chromium caps it at 400 days); revoking the token ends it sooner. */
const MAX_AGE_SECONDS = 400 * 24 * 3600

function attributes(request: Request, maxAge: number): string {
  const secure = new URL(request.url).protocol === "https:" ? "; Secure" : ""
  return `Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`
}

export function tokenCookie(request: Request, token: string): string {
  return `${NAME}=${token}; ${attributes(request, MAX_AGE_SECONDS)}`
}

export function clearedTokenCookie(request: Request): string {
  return `${NAME}=; ${attributes(request, 0)}`
}

/** Whether the browser says the request comes from a page of this origin, or from the user (address bar, reload). */
export function isFirstParty(request: Request): boolean {
  const site = request.headers.get("Sec-Fetch-Site")
  return site === "same-origin" || site === "none"
}

/** The token in the request's cookie, when the request is first-party. */
export function cookieToken(request: Request): string | undefined {
  if (!isFirstParty(request)) return undefined
  for (const part of (request.headers.get("Cookie") ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=")
    if (name === NAME) return value.join("=") || undefined
  }
  return undefined
}
