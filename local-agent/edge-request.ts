/** What the edge answered a call from this machine (pairing, the share API): the status and the body, parsed when it is JSON. */
export interface EdgeAnswer {
  status: number
  ok: boolean
  json: any
  text: string
}

export async function edgeRequest(url: string, init: RequestInit): Promise<EdgeAnswer> {
  const response = await fetch(url, init)
  const text = await response.text()
  let json: any
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, ok: response.ok, json, text }
}
