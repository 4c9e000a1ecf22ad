import { Hono, type Context } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { ForbiddenError, MachineUnavailableError, NotFoundError, UnauthorizedError } from "../error.ts"
import { requireMachine, type PtyAttachment } from "../machine.ts"
import { machineRequired } from "../middleware/machine.ts"
import { Pty, PtyCreateInput, PtyShell, PtyTicket, PtyUpdateInput } from "../schema/machine.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"

const PtyParam = z.object({ ptyID: z.string().startsWith("pty") })
const ConnectQuery = z.object({
  cursor: z.coerce.number().int().min(-1).optional(),
  ticket: z.string().optional(),
})
/** The connect path, for the auth middleware's ticket check. */
export const PTY_CONNECT_PATH = /^\/pty\/(pty_[^/]+)\/connect$/

const notFound = (ptyID: string) => new NotFoundError({ message: `PTY not found: ${ptyID}` })

/** Whether a request is a PTY connect carrying a valid ticket: such a request needs no auth header. */
export async function hasValidPtyTicket(ports: Ports, c: Context<AppEnv>): Promise<boolean> {
  const ptyID = c.req.path.match(PTY_CONNECT_PATH)?.[1]
  const ticket = c.req.query("ticket")
  if (!ptyID || !ticket || !ports.machine) return false
  return ports.machine.pty.checkTicket(ticket, ptyID, c.var.directory, false)
}

export function ptyRoutes(ports: Ports) {
  const pty = () => requireMachine(ports).pty
  return new Hono<AppEnv>()
    .use(machineRequired(ports))
    .get(
      "/shells",
      describeInstanceRoute({
        operationId: "pty.shells",
        summary: "Shells available on the machine",
        responses: { 200: json("Shells", z.array(PtyShell)), ...errors(MachineUnavailableError) },
      }),
      async (c) => c.json(await pty().shells()),
    )
    .get(
      "/",
      describeInstanceRoute({
        operationId: "pty.list",
        summary: "Terminals started from the request's directory",
        responses: { 200: json("Terminals", z.array(Pty)), ...errors(MachineUnavailableError) },
      }),
      async (c) => c.json(await pty().list(c.var.directory)),
    )
    .post(
      "/",
      describeInstanceRoute({
        operationId: "pty.create",
        summary: "Start a terminal (the preferred shell unless a command is given) in the request's directory",
        responses: { 200: json("The new terminal", Pty), ...errors(MachineUnavailableError) },
      }),
      validate("json", PtyCreateInput),
      async (c) => c.json(await pty().create(c.var.directory, c.req.valid("json"))),
    )
    .get(
      "/:ptyID",
      describeInstanceRoute({
        operationId: "pty.get",
        summary: "One terminal",
        responses: { 200: json("The terminal", Pty), ...errors(NotFoundError, MachineUnavailableError) },
      }),
      validate("param", PtyParam),
      async (c) => {
        const { ptyID } = c.req.valid("param")
        const info = await pty().get(ptyID)
        if (!info) throw notFound(ptyID)
        return c.json(info)
      },
    )
    .put(
      "/:ptyID",
      describeInstanceRoute({
        operationId: "pty.update",
        summary: "Rename or resize a terminal",
        responses: { 200: json("The terminal", Pty), ...errors(NotFoundError, MachineUnavailableError) },
      }),
      validate("param", PtyParam),
      validate("json", PtyUpdateInput),
      async (c) => {
        const { ptyID } = c.req.valid("param")
        const info = await pty().update(ptyID, c.req.valid("json"))
        if (!info) throw notFound(ptyID)
        return c.json(info)
      },
    )
    .delete(
      "/:ptyID",
      describeInstanceRoute({
        operationId: "pty.remove",
        summary: "Kill a terminal and close its connections",
        responses: { 200: json("Removed", z.boolean()), ...errors(NotFoundError, MachineUnavailableError) },
      }),
      validate("param", PtyParam),
      async (c) => {
        const { ptyID } = c.req.valid("param")
        if (!(await pty().remove(ptyID))) throw notFound(ptyID)
        return c.json(true)
      },
    )
    .post(
      "/:ptyID/connect-token",
      describeInstanceRoute({
        operationId: "pty.connectToken",
        summary: "A single-use ticket to connect to a terminal from a browser that cannot send auth headers",
        description: "Needs the header `x-opencode-ticket: 1`, so that a plain cross-site form post cannot mint one.",
        responses: { 200: json("The ticket", PtyTicket), ...errors(ForbiddenError, NotFoundError, MachineUnavailableError) },
      }),
      validate("param", PtyParam),
      async (c) => {
        if (c.req.header("x-opencode-ticket") !== "1") {
          throw new ForbiddenError({ message: "A connect ticket needs the header x-opencode-ticket: 1" })
        }
        const { ptyID } = c.req.valid("param")
        if (!(await pty().get(ptyID))) throw notFound(ptyID)
        return c.json(await pty().issueTicket(ptyID, c.var.directory))
      },
    )
    .get(
      "/:ptyID/connect",
      describeInstanceRoute({
        operationId: "pty.connect",
        summary: "A terminal over WebSocket",
        description:
          "Text frames from the client go to stdin; output goes to every connected client as text frames. " +
          "`?cursor=N` replays output from N (`-1`: live only; default 0), then a binary control frame (byte 0x00 and " +
          'JSON `{"cursor": end}`) precedes live output. When the process exits, sockets close with 1000.',
        responses: { 101: { description: "Switching to WebSocket" }, ...errors(NotFoundError, UnauthorizedError, MachineUnavailableError) },
      }),
      validate("param", PtyParam),
      validate("query", ConnectQuery),
      async (c, next) => {
        const { ptyID } = c.req.valid("param")
        // The ticket first: a ticketed request has shown nothing else yet.
        const { ticket } = c.req.valid("query")
        if (ticket !== undefined && !(await pty().checkTicket(ticket, ptyID, c.var.directory, true))) {
          throw new UnauthorizedError({ message: "The connect ticket is unknown, used or expired" })
        }
        if (!(await pty().get(ptyID))) throw notFound(ptyID)
        await next()
      },
      ports.upgradeWebSocket((c) => {
        const ptyID = c.req.param("ptyID")!
        const cursor = Number(c.req.query("cursor") ?? 0)
        // Input that arrives while the attachment is being made is held, then written in order.
        let attachment: Promise<PtyAttachment | undefined> | undefined
        return {
          onOpen(_event, socket) {
            attachment = pty().attach(ptyID, cursor, {
              sendText: (data) => socket.send(data),
              sendBinary: (data) => socket.send(data as Uint8Array<ArrayBuffer>),
              close: (code, reason) => socket.close(code, reason),
            })
            attachment.then(
              (attached) => attached ?? socket.close(1008, "unknown PTY"),
              () => socket.close(1011, "the terminal could not be attached"),
            )
          },
          onMessage(event) {
            const data = event.data
            const text = typeof data === "string" ? data : new TextDecoder().decode(data as ArrayBuffer)
            void attachment?.then((attached) => attached?.write(text))
          },
          onClose() {
            void attachment?.then((attached) => attached?.detach())
          },
        }
      }),
    )
}
