import { z } from "zod"

/** The `tui.*` events: what the TUI remote-control routes publish for an attached TUI to act on. */
export const TuiEventDefinitions = {
  "tui.prompt.append": z.object({ text: z.string() }),
  "tui.command.execute": z.object({
    command: z.union([
      z.enum([
        "session.list",
        "session.new",
        "session.share",
        "session.interrupt",
        "session.compact",
        "session.page.up",
        "session.page.down",
        "session.line.up",
        "session.line.down",
        "session.half.page.up",
        "session.half.page.down",
        "session.first",
        "session.last",
        "prompt.clear",
        "prompt.submit",
        "agent.cycle",
      ]),
      z.string(),
    ]),
  }),
  "tui.toast.show": z.object({
    title: z.string().optional(),
    message: z.string(),
    variant: z.enum(["info", "success", "warning", "error"]),
    duration: z.number().optional().describe("Duration in milliseconds"),
  }),
  "tui.session.select": z.object({ sessionID: z.string().startsWith("ses").describe("Session ID to navigate to") }),
} as const

export type TuiEventType = keyof typeof TuiEventDefinitions

/** A request the server puts to the TUI through the control queue, and what `GET /tui/control/next` answers. */
export const TuiRequest = z.object({ path: z.string(), body: z.unknown() }).meta({ ref: "TuiRequest" })
export type TuiRequest = { path: string; body: unknown }
