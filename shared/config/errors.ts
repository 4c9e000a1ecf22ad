import { z } from "zod"
import { defineError } from "../error.ts"

/** A config file is not valid JSONC; the message gives `line:column` of each syntax error. Upstream's name. */
export const ConfigJsonError = defineError("ConfigJsonError", z.object({ path: z.string(), message: z.string() }), 400)

/** A markdown agent or command file's YAML frontmatter does not parse; the message gives `line:column`. Upstream's name. */
export const ConfigFrontmatterError = defineError("ConfigFrontmatterError", z.object({ path: z.string(), message: z.string() }), 400)

/**
 * A config file parses but breaks the config schema (`issues` names each field), or a `{file:}` it references
 * cannot be read (no issues then). Upstream's name.
 */
export const ConfigInvalidError = defineError(
  "ConfigInvalidError",
  z.object({
    path: z.string(),
    message: z.string(),
    issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })).optional(),
  }),
  400,
)

/** Every error reading the config files can give, for the routes' OpenAPI descriptions. */
export const CONFIG_FILE_ERRORS = [ConfigJsonError, ConfigFrontmatterError, ConfigInvalidError] as const
