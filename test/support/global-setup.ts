/** Once per test run: the local agent's bundle, which every test starts (`AGENT_CLI`), built from the current source. */
import { buildAgent } from "../../local-agent/build.ts"

export default async function setup() {
  await buildAgent()
}
