import { createHash } from "node:crypto"
import { DomUtils, parseDocument } from "htmlparser2"
import { describe, expect, test } from "vitest"
import type { AssistantMessage, Part, UserMessage } from "../../shared/schema/message.ts"
import type { Session } from "../../shared/schema/session.ts"
import { SharePage, type ShareMessage, type ShareSnapshot } from "../../shared/share/render.ts"

/** The share page renderer (shared/share/): what a shared session looks like, and that nothing in it can run. */

type Element = ReturnType<typeof DomUtils.getElementsByTagName>[number]

const SESSION_ID = "ses_share"
const OPTIONS = { url: "https://edge.example/s/abc", eventsPath: "/s/abc/event", lastEventId: "42" }

const XSS = [
  "<script>alert(1)</script>",
  "<img src=x onerror=alert(1)>",
  "[x](javascript:alert(1))",
  "[x](JaVaScRiPt:alert(1))",
  '<a href="javascript:alert(1)">a</a>',
  "[x](data:text/html,<script>alert(1)</script>)",
  "![y](javascript:alert(1))",
  "<javascript:alert(1)>",
  '"><svg onload=alert(1)>',
  "'><iframe src=//evil.example></iframe>",
  "<object data=x></object><embed src=x><form action=//evil.example><input></form>",
  "[rel](/relative) [v](vbscript:msgbox(1)) [f](file:///etc/passwd) [s](java\tscript:alert(1))",
].join("\n\n")

function session(overrides: Partial<Session> = {}): Session {
  return {
    id: SESSION_ID,
    slug: "share",
    projectID: "prj",
    directory: "/work",
    title: "Fix the build",
    version: "1.0.0",
    time: { created: Date.UTC(2026, 10, 30, 9, 0), updated: Date.UTC(2026, 10, 30, 9, 30) },
    ...overrides,
  }
}

function user(id: string, texts: string[], extra: Part[] = []): ShareMessage {
  const info: UserMessage = {
    id,
    sessionID: SESSION_ID,
    role: "user",
    time: { created: Date.UTC(2026, 10, 30, 9, 1) },
    agent: "build",
    model: { providerID: "anthropic", modelID: "claude" },
  }
  const parts: Part[] = texts.map((text, index) => ({ ...partBase(id, index), type: "text", text }))
  return { info, parts: [...parts, ...extra] }
}

function assistant(id: string, parts: Part[], overrides: Partial<AssistantMessage> = {}): ShareMessage {
  const info: AssistantMessage = {
    id,
    sessionID: SESSION_ID,
    role: "assistant",
    time: { created: Date.UTC(2026, 10, 30, 9, 2), completed: Date.UTC(2026, 10, 30, 9, 3) },
    parentID: "msg_0",
    modelID: "claude",
    providerID: "anthropic",
    mode: "build",
    agent: "build",
    path: { cwd: "/work", root: "/work" },
    cost: 0,
    tokens: { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } },
    ...overrides,
  }
  return { info, parts }
}

function partBase(messageID: string, index: number) {
  return { id: `prt_${messageID}_${index}`, sessionID: SESSION_ID, messageID }
}

function text(messageID: string, value: string, index = 0): Part {
  return { ...partBase(messageID, index), type: "text", text: value }
}

/** A session with the payloads in every field that holds untrusted text. */
function hostileSnapshot(): ShareSnapshot {
  const messageID = "msg_2"
  const tool = (index: number, state: Extract<Part, { type: "tool" }>["state"], name = XSS): Part => ({
    ...partBase(messageID, index),
    type: "tool",
    callID: `call_${index}`,
    tool: name,
    state,
  })
  const time = { start: 1, end: 2 }
  return {
    session: session({ title: XSS }),
    busy: true,
    messages: [
      user("msg_1", [XSS], [
        { ...partBase("msg_1", 5), type: "file", mime: "text/plain", filename: XSS, url: "javascript:alert(1)" },
        { ...partBase("msg_1", 6), type: "agent", name: XSS },
      ]),
      assistant(
        messageID,
        [
          { ...partBase(messageID, 0), type: "reasoning", text: XSS, time: { start: 1 } },
          text(messageID, XSS, 1),
          tool(2, { status: "completed", input: { command: XSS, [XSS]: XSS }, output: XSS, title: XSS, metadata: {}, time }),
          tool(3, { status: "error", input: { path: XSS }, error: XSS, time }),
          tool(4, { status: "running", input: {}, title: XSS, time: { start: 1 } }),
          tool(5, { status: "pending", input: {}, raw: XSS }),
          { ...partBase(messageID, 6), type: "subtask", prompt: XSS, description: XSS, agent: XSS },
          {
            ...partBase(messageID, 7),
            type: "retry",
            attempt: 1,
            error: { name: "APIError", data: { message: XSS, isRetryable: true } },
            time: { created: 1 },
          },
        ],
        { error: { name: "UnknownError", data: { message: XSS } }, modelID: XSS, providerID: XSS },
      ),
    ],
  }
}

function elements(html: string): Element[] {
  return DomUtils.getElementsByTagName(() => true, parseDocument(html).children, true)
}

function byId(html: string, id: string): Element {
  const element = DomUtils.getElementById(id, parseDocument(html).children)
  if (!element) throw new Error(`no #${id}`)
  return element
}

function metaContent(html: string, key: string): string | undefined {
  const meta = elements(html).find((element) => element.name === "meta" && (element.attribs.property ?? element.attribs.name) === key)
  return meta?.attribs.content
}

function sha256(text: string): string {
  return `sha256-${createHash("sha256").update(text).digest("base64")}`
}

const FORBIDDEN_TAGS = new Set(["img", "iframe", "svg", "object", "embed", "form", "input", "frame", "math", "base", "meta"])

/** The checks every rendered fragment must pass: nothing from the session becomes an element or attribute that acts. */
function expectInert(fragment: string) {
  for (const element of elements(fragment)) {
    expect(FORBIDDEN_TAGS.has(element.name), `<${element.name}> in content`).toBe(false)
    expect(["script", "style", "link"]).not.toContain(element.name)
    for (const [name, value] of Object.entries(element.attribs)) {
      expect(name.toLowerCase().startsWith("on"), `attribute ${name}`).toBe(false)
      expect(name).not.toBe("style")
      expect(name).not.toBe("src")
      if (name === "href") expect(value).toMatch(/^(https?:|mailto:)/i)
    }
  }
}

describe("share page: untrusted content stays inert", () => {
  const snapshot = hostileSnapshot()
  const page = SharePage.document(snapshot, OPTIONS)

  test("the document holds only its own script and style, and nothing that loads or runs", () => {
    const all = elements(page)
    const scripts = all.filter((element) => element.name === "script")
    expect(scripts).toHaveLength(1)
    expect(Object.keys(scripts[0]!.attribs)).toEqual([])
    expect(all.filter((element) => element.name === "style")).toHaveLength(1)
    expect(all.filter((element) => element.name === "link").map((element) => element.attribs.href)).toEqual(["data:,"])
    for (const element of all) {
      for (const name of Object.keys(element.attribs)) expect(name.toLowerCase().startsWith("on"), name).toBe(false)
    }
    expectInert(DomUtils.getOuterHTML(byId(page, "share")))
  })

  test("the header and every message are inert on their own, as the stream sends them", () => {
    expectInert(SharePage.header(snapshot))
    for (const message of snapshot.messages) expectInert(SharePage.message(message))
  })

  test("the payloads are shown as the text they are", () => {
    const user = DomUtils.textContent(byId(page, "m-msg_1"))
    expect(user).toContain("<script>alert(1)</script>")
    expect(user).toContain("<img src=x onerror=alert(1)>")
    const title = DomUtils.getElementsByTagName("h1", [byId(page, "share-header")])[0]!
    expect(DomUtils.textContent(title)).toBe(XSS)
    const pres = DomUtils.getElementsByTagName("pre", [byId(page, "m-msg_2")]).map((pre) => DomUtils.textContent(pre))
    expect(pres).toContain(XSS) // tool output and error, as plain text
    expect(pres.some((pre) => pre.includes(JSON.stringify(XSS)))).toBe(true) // tool input, as JSON
  })

  test("attribute values from the session and the options are escaped", () => {
    expect(metaContent(page, "og:title")).toBe(XSS)
    const hostile = { url: '"><svg onload=alert(1)>', eventsPath: '"><svg onload=alert(1)>', lastEventId: '"><b onclick=x>' }
    const other = SharePage.document(snapshot, hostile)
    expect(metaContent(other, "og:url")).toBe(hostile.url)
    const main = byId(other, "share")
    expect(main.attribs["data-events"]).toBe(hostile.eventsPath)
    expect(main.attribs["data-last-event-id"]).toBe(hostile.lastEventId)
    expect(elements(other).some((element) => element.name === "svg" || element.name === "b")).toBe(false)
  })

  test("message ids are escaped into the article id", () => {
    const html = SharePage.message(user('msg_"><svg onload=alert(1)>', ["hi"]))
    expectInert(html)
    expect(elements(html)[0]!.attribs.id).toBe('m-msg_"><svg onload=alert(1)>')
  })
})

describe("share page: markdown of assistant text", () => {
  const render = (markdown: string) => SharePage.message(assistant("msg_9", [text("msg_9", markdown)]))

  test("headings, lists, emphasis and code fences render; code is escaped", () => {
    const html = render("# Title\n\n## Sub\n\n- one\n- two\n\n1. first\n\n**bold** and `a<b>`\n\n```ts\nconst x = '<script>'\n```")
    const names = elements(html).map((element) => element.name)
    for (const tag of ["h1", "h2", "ul", "ol", "li", "strong", "code", "pre"]) expect(names).toContain(tag)
    const code = elements(html).find((element) => element.name === "code" && element.attribs.class === "language-ts")
    expect(DomUtils.textContent(code!)).toBe("const x = '<script>'\n")
    expectInert(html)
  })

  test("http(s) and mailto links get rel; other schemes and relative links stay text", () => {
    const html = render("[site](https://example.com/a?b=1&c=2) <http://auto.example> mail@example.com [rel](/x) [js](javascript:alert(1))")
    const links = elements(html).filter((element) => element.name === "a")
    expect(links.map((link) => link.attribs.href)).toEqual([
      "https://example.com/a?b=1&c=2",
      "http://auto.example",
      "mailto:mail@example.com",
    ])
    for (const link of links) expect(link.attribs.rel).toBe("nofollow noopener noreferrer ugc")
    expect(DomUtils.textContent(byId(html, "m-msg_9"))).toContain("[js](javascript:alert(1))")
  })

  test("images are never loaded: an allowed source becomes a link, another becomes its alt text", () => {
    const html = render("![a chart](https://example.com/chart.png) ![bad](data:image/png;base64,AAAA) [![inner](https://example.com/i.png)](https://example.com/page)")
    const links = elements(html).filter((element) => element.name === "a")
    expect(links.map((link) => [link.attribs.href, DomUtils.textContent(link)])).toEqual([
      ["https://example.com/chart.png", "a chart"],
      ["https://example.com/page", "inner"],
    ])
    expect(DomUtils.textContent(byId(html, "m-msg_9"))).toContain("bad")
    expectInert(html)
  })

  test("table alignment is a class, not an inline style (the CSP allows none)", () => {
    const html = render("| a | b |\n|:--|--:|\n| 1 | 2 |")
    const cells = elements(html).filter((element) => element.name === "th" || element.name === "td")
    expect(cells.map((cell) => cell.attribs.class)).toEqual(["align-left", "align-right", "align-left", "align-right"])
    expectInert(html)
  })

  test("user text is not markdown: it is escaped text with its line breaks", () => {
    const html = SharePage.message(user("msg_1", ["# not a heading\nline two\n\n**not bold**"]))
    const body = elements(html).find((element) => element.attribs.class === "user-text")!
    expect(DomUtils.textContent(body)).toBe("# not a heading\nline two\n\n**not bold**")
    expect(elements(html).some((element) => element.name === "h1" || element.name === "strong")).toBe(false)
  })
})

describe("share page: content", () => {
  const tokens = (input: number, output: number, total?: number) => ({
    input,
    output,
    reasoning: 10,
    cache: { read: 5, write: 5 },
    ...(total === undefined ? {} : { total }),
  })
  const snapshot: ShareSnapshot = {
    session: session(),
    busy: false,
    messages: [
      user("msg_1", ["  Please   fix\n\nthe build\tnow  "]),
      assistant("msg_2", [text("msg_2", "Done.")], { cost: 0.5, tokens: tokens(100, 50) }),
      user("msg_3", ["again"]),
      assistant("msg_4", [text("msg_4", "Again.")], { cost: 0.25, tokens: tokens(1, 1, 1000), modelID: "gpt", providerID: "openai" }),
    ],
  }

  test("the header sums tokens and cost over assistant messages and names the models", () => {
    const header = byId(SharePage.header(snapshot), "share-header")
    const stats = DomUtils.textContent(header)
    expect(stats).toContain("1,170 tokens") // 100 + 50 + 10 + 5 + 5, and a provider's own total of 1000
    expect(stats).toContain("$0.75")
    expect(stats).toContain("anthropic/claude, openai/gpt")
    expect(stats).not.toContain("working")
    const times = DomUtils.getElementsByTagName("time", [header]).map((time) => time.attribs.datetime)
    expect(times).toEqual(["2026-11-30T09:00:00.000Z", "2026-11-30T09:30:00.000Z"])
  })

  test("the header says the session is working while it is busy", () => {
    const header = SharePage.header({ ...snapshot, busy: true })
    expect(elements(header).find((element) => element.attribs.class === "busy")?.attribs.role).toBe("status")
  })

  test("link previews: title, description from the first user text, Open Graph and Twitter tags", () => {
    const page = SharePage.document(snapshot, OPTIONS)
    const title = elements(page).find((element) => element.name === "title")!
    expect(DomUtils.textContent(title)).toBe("Fix the build · OpenCode")
    expect(metaContent(page, "og:title")).toBe("Fix the build")
    expect(metaContent(page, "og:description")).toBe("Please fix the build now")
    expect(metaContent(page, "og:type")).toBe("article")
    expect(metaContent(page, "og:url")).toBe(OPTIONS.url)
    expect(metaContent(page, "og:site_name")).toBe("OpenCode")
    expect(metaContent(page, "twitter:card")).toBe("summary")
  })

  test("the description is cut to 200 characters", () => {
    const long = SharePage.document({ ...snapshot, messages: [user("msg_1", ["word ".repeat(100)])] }, OPTIONS)
    const description = metaContent(long, "og:description")!
    expect(description.length).toBeLessThanOrEqual(200)
    expect(description.endsWith("…")).toBe(true)
  })

  test("each assistant message shows its model, times, tokens and cost", () => {
    const footer = elements(SharePage.message(snapshot.messages[1]!)).find((element) => element.name === "footer")!
    const text = DomUtils.textContent(footer)
    expect(text).toContain("anthropic/claude")
    expect(text).toContain("170 tokens")
    expect(text).toContain("$0.50")
    expect(DomUtils.getElementsByTagName("time", [footer]).map((time) => time.attribs.datetime)).toEqual([
      "2026-11-30T09:02:00.000Z",
      "2026-11-30T09:03:00.000Z",
    ])
  })

  test("tool calls and errors are collapsed, with the tool's name and title or the error's name in view", () => {
    const html = SharePage.message(hostileSnapshot().messages[1]!)
    const details = elements(html).filter((element) => element.name === "details")
    const tools = details.filter((element) => element.attribs.class?.startsWith("tool"))
    expect(tools.map((tool) => [tool.attribs.class, "open" in tool.attribs])).toEqual([
      ["tool", false],
      ["tool error", false],
      ["tool", false],
      ["tool", false],
    ])
    const summary = DomUtils.textContent(DomUtils.getElementsByTagName("summary", [tools[0]!])[0]!)
    expect(summary).toBe(`${XSS} ${XSS}`)
    const messageError = details.find((element) => element.attribs.class === "error")!
    expect("open" in messageError.attribs).toBe(false)
    expect(DomUtils.textContent(messageError)).toContain("UnknownError")
  })

  test("reasoning is collapsed; bookkeeping and synthetic parts are not shown", () => {
    const base = partBase("msg_5", 0)
    const html = SharePage.message(
      assistant("msg_5", [
        { ...base, id: "prt_a", type: "step-start" },
        { ...base, id: "prt_b", type: "reasoning", text: "hmm", time: { start: 1 } },
        { ...base, id: "prt_c", type: "text", text: "injected context", synthetic: true },
        { ...base, id: "prt_d", type: "patch", hash: "abc", files: ["/secret/path"] },
        { ...base, id: "prt_e", type: "snapshot", snapshot: "snap" },
        { ...base, id: "prt_f", type: "step-finish", reason: "stop", cost: 0, tokens: tokens(1, 1) },
      ]),
    )
    const reasoning = elements(html).find((element) => element.name === "details")!
    expect(reasoning.attribs.class).toBe("reasoning")
    expect("open" in reasoning.attribs).toBe(false)
    const text = DomUtils.textContent(parseDocument(html))
    expect(text).not.toContain("injected context")
    expect(text).not.toContain("/secret/path")
  })
})

describe("share page: Content-Security-Policy", () => {
  test("allows exactly the inline script and style the document emits, by hash", async () => {
    const page = SharePage.document(hostileSnapshot(), OPTIONS)
    const script = DomUtils.textContent(elements(page).find((element) => element.name === "script")!)
    const style = DomUtils.textContent(elements(page).find((element) => element.name === "style")!)
    const policy = await SharePage.contentSecurityPolicy()
    const directives = new Map(
      policy.split(";").map((directive) => {
        const [name, ...values] = directive.trim().split(/\s+/)
        return [name!, values.join(" ")]
      }),
    )
    expect(Object.fromEntries(directives)).toEqual({
      "default-src": "'none'",
      "script-src": `'${sha256(script)}'`,
      "style-src": `'${sha256(style)}'`,
      "connect-src": "'self'",
      "img-src": "data:",
      "base-uri": "'none'",
      "form-action": "'none'",
      "frame-ancestors": "'none'",
    })
    expect(await SharePage.contentSecurityPolicy()).toBe(policy)
  })

  test("the script is the same on every page (its hash is fixed) and parses", () => {
    const scriptOf = (page: string) => DomUtils.textContent(elements(page).find((element) => element.name === "script")!)
    const a = scriptOf(SharePage.document(hostileSnapshot(), OPTIONS))
    const b = scriptOf(SharePage.document({ session: session(), messages: [], busy: false }, { url: "u", eventsPath: "/e", lastEventId: "1" }))
    expect(a).toBe(b)
    expect(() => new Function(a)).not.toThrow()
  })
})
