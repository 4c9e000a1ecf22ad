import { Hono } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { BadRequestError, NotFoundError, TooManyRequestsError, TuiControlTimeoutError } from "../error.ts"
import { TuiEventDefinitions, TuiRequest, type TuiEventType } from "../schema/tui.ts"
import { Bus } from "../domain/bus.ts"
import { Sessions } from "../domain/session.ts"
import { TuiControl } from "../domain/tui-control.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"

/** `execute-command`'s names, as upstream maps them to TUI commands; other names pass through unchanged. */
const COMMANDS: Record<string, string> = {
  session_new: "session.new",
  session_share: "session.share",
  session_interrupt: "session.interrupt",
  session_compact: "session.compact",
  messages_page_up: "session.page.up",
  messages_page_down: "session.page.down",
  messages_line_up: "session.line.up",
  messages_line_down: "session.line.down",
  messages_half_page_up: "session.half.page.up",
  messages_half_page_down: "session.half.page.down",
  messages_first: "session.first",
  messages_last: "session.last",
  agent_cycle: "agent.cycle",
}

/** Bounded long-poll of `GET /tui/control/next` (upstream waits forever; proxies and Workers do not). */
export const CONTROL_WAIT_MS = 30_000
/** The longest `POST /tui/control/request` waits for the TUI's answer (a person may be answering). */
export const CONTROL_REQUEST_MAX_MS = 600_000

const TuiControlRequestInput = z.object({
  path: z.string().startsWith("/").describe("What the TUI is asked to do, as a route path (e.g. /tui/open-help)"),
  body: z.unknown().optional().describe("The request's body, handed to the TUI as is (default {})"),
  timeout: z
    .number()
    .int()
    .min(1)
    .max(CONTROL_REQUEST_MAX_MS)
    .optional()
    .describe(`Milliseconds to wait for the TUI's answer (default ${CONTROL_WAIT_MS})`),
})

const TuiPublishInput = z.discriminatedUnion(
  "type",
  (Object.keys(TuiEventDefinitions) as TuiEventType[]).map((type) =>
    z.object({ type: z.literal(type), properties: TuiEventDefinitions[type] }),
  ) as unknown as [z.ZodObject<{ type: z.ZodLiteral<TuiEventType>; properties: z.ZodType }>],
)

/** `/tui/*`: remote control of an attached TUI through `tui.*` events, and the control queue. */
export function tuiRoutes(ports: Ports) {
  const done = (description: string) => ({ 200: json(description, z.boolean()) })
  const app = new Hono<AppEnv>()

  // The dialog and prompt commands, with upstream's command names (open-themes publishes session.list there too).
  for (const [path, operationId, summary, command] of [
    ["/open-help", "tui.openHelp", "Open the help dialog", "help.show"],
    ["/open-sessions", "tui.openSessions", "Open the session dialog", "session.list"],
    ["/open-themes", "tui.openThemes", "Open the theme dialog", "session.list"],
    ["/open-models", "tui.openModels", "Open the model dialog", "model.list"],
    ["/submit-prompt", "tui.submitPrompt", "Submit the prompt", "prompt.submit"],
    ["/clear-prompt", "tui.clearPrompt", "Clear the prompt", "prompt.clear"],
  ] as const) {
    app.post(path, describeInstanceRoute({ operationId, summary, description: `Publishes tui.command.execute {command: "${command}"}.`, responses: done("Published") }), async (c) => {
      await Bus.publish(ports, c.var.directory, "tui.command.execute", { command })
      return c.json(true)
    })
  }

  return app
    .post(
      "/append-prompt",
      describeInstanceRoute({ operationId: "tui.appendPrompt", summary: "Append text to the TUI's prompt", responses: { ...done("Published"), ...errors() } }),
      validate("json", TuiEventDefinitions["tui.prompt.append"]),
      async (c) => {
        await Bus.publish(ports, c.var.directory, "tui.prompt.append", c.req.valid("json"))
        return c.json(true)
      },
    )
    .post(
      "/execute-command",
      describeInstanceRoute({
        operationId: "tui.executeCommand",
        summary: "Execute a TUI command (e.g. agent_cycle)",
        responses: { ...done("Published"), ...errors() },
      }),
      validate("json", z.object({ command: z.string().min(1) })),
      async (c) => {
        const { command } = c.req.valid("json")
        await Bus.publish(ports, c.var.directory, "tui.command.execute", { command: COMMANDS[command] ?? command })
        return c.json(true)
      },
    )
    .post(
      "/show-toast",
      describeInstanceRoute({ operationId: "tui.showToast", summary: "Show a toast in the TUI", responses: { ...done("Published"), ...errors() } }),
      validate("json", TuiEventDefinitions["tui.toast.show"]),
      async (c) => {
        await Bus.publish(ports, c.var.directory, "tui.toast.show", c.req.valid("json"))
        return c.json(true)
      },
    )
    .post(
      "/publish",
      describeInstanceRoute({
        operationId: "tui.publish",
        summary: "Publish a TUI event",
        description: "Only `tui.*` events, with their properties validated.",
        responses: { ...done("Published"), ...errors() },
      }),
      validate("json", TuiPublishInput),
      async (c) => {
        const event = c.req.valid("json")
        if (!(event.type in TuiEventDefinitions)) throw new BadRequestError({ message: `Not a TUI event: ${event.type}` })
        await Bus.publish(ports, c.var.directory, event.type, event.properties as never)
        return c.json(true)
      },
    )
    .post(
      "/select-session",
      describeInstanceRoute({
        operationId: "tui.selectSession",
        summary: "Navigate the TUI to a session",
        responses: { ...done("Published"), ...errors(NotFoundError) },
      }),
      validate("json", TuiEventDefinitions["tui.session.select"]),
      async (c) => {
        const { sessionID } = c.req.valid("json")
        await Sessions.get(ports, sessionID)
        await Bus.publish(ports, c.var.directory, "tui.session.select", { sessionID })
        return c.json(true)
      },
    )
    .get(
      "/control/next",
      describeInstanceRoute({
        operationId: "tui.control.next",
        summary: "Next request for the TUI",
        description:
          `Long-polls until server-side code puts a request to the TUI and answers it as {path, body}; after ` +
          `\`timeout\` ms (default ${CONTROL_WAIT_MS}, at most that) without one it answers 204 with no body, and the TUI polls again.`,
        responses: { 200: json("The next request", TuiRequest), 204: { description: "No request within the wait" } },
      }),
      validate("query", z.object({ timeout: z.coerce.number().int().min(0).max(CONTROL_WAIT_MS).optional() })),
      async (c) => {
        const request = await ports.tuiControl.next(c.req.valid("query").timeout ?? CONTROL_WAIT_MS)
        return request ? c.json(request) : c.body(null, 204)
      },
    )
    .post(
      "/control/request",
      describeInstanceRoute({
        operationId: "tui.control.request",
        summary: "Put a request to the attached TUI and wait for its answer",
        description:
          "The server-side end of the control queue (upstream's callTui) as a route, so an editor or script can drive a " +
          "TUI that long-polls /tui/control/next and learn its answer: queues {path, body}, and answers with the body the " +
          "TUI posts to /tui/control/response; 504 TuiControlTimeoutError when none comes within `timeout`.",
        responses: { 200: json("The TUI's answer", z.unknown()), ...errors(TooManyRequestsError, TuiControlTimeoutError) },
      }),
      validate("json", TuiControlRequestInput),
      async (c) => {
        const { path, body, timeout } = c.req.valid("json")
        return c.json(await TuiControl.call(ports.tuiControl, path, body ?? {}, timeout ?? CONTROL_WAIT_MS))
      },
    )
    .post(
      "/control/response",
      describeInstanceRoute({
        operationId: "tui.control.response",
        summary: "Answer the TUI's current request",
        description: "Any JSON body; it is handed to the server-side caller of the oldest request fetched and not yet answered.",
        responses: done("Accepted"),
      }),
      async (c) => {
        const body = await c.req.json().catch(() => {
          throw new BadRequestError({ message: "Invalid body: not JSON", kind: "Body" })
        })
        await ports.tuiControl.respond(body)
        return c.json(true)
      },
    )
}
