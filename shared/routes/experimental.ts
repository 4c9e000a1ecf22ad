import { Hono } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { NotFoundError } from "../error.ts"
import { Projects } from "../domain/project.ts"
import { Mcp } from "../domain/mcp.ts"
import { McpResourceInfo } from "../mcp/schema.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"

const Capabilities = z.object({ backgroundSubagents: z.boolean() }).meta({ ref: "ExperimentalCapabilities" })
const ConsoleState = z
  .object({ consoleManagedProviders: z.array(z.string()), activeOrgName: z.string().optional(), switchableOrgCount: z.number() })
  .meta({ ref: "ConsoleState" })
const Workspace = z
  .object({
    id: z.string(),
    type: z.string(),
    name: z.string(),
    branch: z.string().nullable().optional(),
    directory: z.string().nullable().optional(),
    projectID: z.string(),
    timeUsed: z.number(),
  })
  .meta({ ref: "Workspace" })
const WorkspaceStatus = z
  .object({ workspaceID: z.string(), status: z.enum(["connected", "connecting", "disconnected", "error"]) })
  .meta({ ref: "WorkspaceEventConnectionStatus" })
const ProjectDirectories = z.array(z.object({ directory: z.string(), strategy: z.string().optional() })).meta({ ref: "ProjectDirectories" })

/**
 * What the terminal client asks about at start. Each answer is the truth about this server: no background
 * subagents, no console organisation, no MCP resources and no workspaces (yet).
 */
export function experimentalRoutes(ports: Ports) {
  return new Hono<AppEnv>()
    .get(
      "/experimental/capabilities",
      describeInstanceRoute({
        operationId: "experimental.capabilities.get",
        summary: "Optional features this server has",
        responses: { 200: json("Capabilities", Capabilities) },
      }),
      (c) => c.json({ backgroundSubagents: false }),
    )
    .get(
      "/experimental/console",
      describeInstanceRoute({
        operationId: "experimental.console.get",
        summary: "Console (organisation) state: none on this server",
        responses: { 200: json("Console state", ConsoleState) },
      }),
      (c) => c.json({ consoleManagedProviders: [], switchableOrgCount: 0 }),
    )
    .get(
      "/experimental/resource",
      describeInstanceRoute({
        operationId: "experimental.resource.list",
        summary: "Resources offered by connected MCP servers, by `<server>:<uri>` as upstream keys them",
        responses: { 200: json("Resources by server and URI", z.record(z.string(), McpResourceInfo)) },
      }),
      async (c) => {
        const resources = await Mcp.resources(ports, c.var.directory)
        return c.json(Object.fromEntries(resources.map((resource) => [`${resource.client}:${resource.uri}`, resource])))
      },
    )
    .get(
      "/experimental/workspace",
      describeInstanceRoute({
        operationId: "experimental.workspace.list",
        summary: "Workspaces of the project",
        responses: { 200: json("Workspaces", z.array(Workspace)) },
      }),
      (c) => c.json([]),
    )
    .get(
      "/experimental/workspace/status",
      describeInstanceRoute({
        operationId: "experimental.workspace.status",
        summary: "Connection status of the project's remote workspaces",
        responses: { 200: json("Statuses", z.array(WorkspaceStatus)) },
      }),
      (c) => c.json([]),
    )
    .get(
      "/project/:projectID/directories",
      describeInstanceRoute({
        operationId: "project.directories",
        summary: "The directories a project is worked on in",
        responses: { 200: json("Directories", ProjectDirectories), ...errors(NotFoundError) },
      }),
      validate("param", z.object({ projectID: z.string().min(1) })),
      async (c) => {
        const { projectID } = c.req.valid("param")
        const current = await Projects.current(ports, c.var.directory)
        const project = current.id === projectID ? current : await ports.projects.find(projectID)
        if (!project) throw new NotFoundError({ message: `Project not found: ${projectID}` })
        return c.json([{ directory: project.worktree }])
      },
    )
}
