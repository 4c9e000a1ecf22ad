import { z } from "zod"
import { defineError } from "../shared/error.ts"

const Message = z.object({ message: z.string() })

/** The tunnel dropped while a request was in flight. */
export const TunnelDroppedError = defineError("TunnelDropped", Message, 502)
/** The machine did not answer within the per-request timeout. */
export const TunnelTimeoutError = defineError("TunnelTimeout", Message, 504)
/** The machine has as many requests in flight as the edge allows. */
export const TunnelBusyError = defineError("TunnelBusy", Message, 429)
/** A request body larger than one tunnel frame may carry. */
export const TunnelFrameTooLargeError = defineError("TunnelFrameTooLarge", Message, 413)
