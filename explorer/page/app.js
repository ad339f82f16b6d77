// The explorer's page: no framework and no build step, so it ships as three files and runs with no internet.
// Every view reads the read-only API (docs/api.md); the URL's hash is the state, so each view can be linked.
const $view = document.getElementById("view")
const $counts = document.getElementById("counts")
const $freshness = document.getElementById("freshness")
const started = performance.now()
const STATUSES = ["all", "failed", "stuck", "in-flight", "delivered", "rejected", "quarantined"]

const el = (tag, attributes = {}, ...children) => {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value))
  }
  for (const child of children.flat())
    node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")))
  return node
}
const table = (headers, attributes, body) =>
  el(
    "table",
    attributes,
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        headers.map((h) => el("th", {}, h)),
      ),
    ),
    body,
  )
const api = async (path) => {
  const response = await fetch(path)
  const body = await response.json()
  if (!response.ok) throw new Error(body.error?.message ?? `HTTP ${response.status}`)
  return body
}
const time = (ms) => {
  // A producer chooses a record's timestamp: one out of range is said, not thrown.
  const date = new Date(ms)
  return Number.isNaN(date.getTime())
    ? `invalid time (${ms})`
    : date.toISOString().replace("T", " ").replace("Z", "")
}
const delay = (ms) => (ms === null ? "" : ms < 1000 ? `+${ms} ms` : `+${(ms / 1000).toFixed(1)} s`)
const short = (id) => `${id.slice(0, 10)}…${id.slice(-4)}`
const route = () => {
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?")
  let parts
  try {
    parts = path.split("/").filter(Boolean).map(decodeURIComponent)
  } catch {
    parts = ["invalid"]
  }
  return { parts, params: new URLSearchParams(query) }
}
// Each render takes a number; a view shows what it fetched only while no later render began, so a slow answer
// never replaces the page the user moved on to.
let generation = 0
const showIf = (token, ...nodes) => {
  if (token === generation) $view.replaceChildren(...nodes)
}

async function refreshSummary() {
  try {
    const { counts, freshness, now } = await api("/api/summary")
    const current = route().parts[0] === undefined ? (route().params.get("status") ?? "all") : null
    $counts.replaceChildren(
      ...STATUSES.map((status) =>
        el(
          "a",
          {
            href: `#/?status=${status}`,
            class: status === current ? "on" : "",
            "data-testid": `count-${status}`,
          },
          `${status} ${counts[status] ?? 0}`,
        ),
      ),
    )
    const age = freshness.caughtUpAt === null ? null : Math.round((now - freshness.caughtUpAt) / 1000)
    $freshness.textContent =
      freshness.caughtUpAt === null
        ? "index: catching up with the log…"
        : `index as of ${time(freshness.caughtUpAt)} (${age} s ago)${freshness.error ? ` · last catch-up failed: ${freshness.error}` : ""}`
    $freshness.className = age === null || age > 10 || freshness.error ? "stale" : ""
  } catch (error) {
    $freshness.textContent = `index: ${error.message}`
    $freshness.className = "stale"
  }
}

async function listView(params, token) {
  const query = new URLSearchParams()
  for (const name of ["status", "lane", "source", "destination", "since", "cursor"]) {
    if (params.get(name)) query.set(name, params.get(name))
  }
  query.set("limit", "50")
  const form = el(
    "form",
    { class: "filters", "data-testid": "filters" },
    el(
      "label",
      {},
      "status",
      el(
        "select",
        { name: "status" },
        ...STATUSES.map((s) =>
          el("option", { value: s, ...(s === (params.get("status") ?? "all") ? { selected: "" } : {}) }, s),
        ),
      ),
    ),
    el("label", {}, "source", el("input", { name: "source", size: 6, value: params.get("source") ?? "" })),
    el(
      "label",
      {},
      "destination",
      el("input", { name: "destination", size: 6, value: params.get("destination") ?? "" }),
    ),
    el("label", {}, "lane", el("input", { name: "lane", size: 30, value: params.get("lane") ?? "" })),
    el(
      "label",
      {},
      "since",
      el("input", { name: "since", size: 10, placeholder: "1h or ISO", value: params.get("since") ?? "" }),
    ),
    el("button", { type: "submit" }, "Filter"),
  )
  form.addEventListener("submit", (event) => {
    event.preventDefault()
    const next = new URLSearchParams()
    for (const [name, value] of new FormData(form))
      if (value && !(name === "status" && value === "all")) next.set(name, value)
    location.hash = `#/?${next}`
  })
  let page
  try {
    page = await api(`/api/messages?${query}`)
  } catch (error) {
    showIf(token, form, el("p", { class: "error", "data-testid": "error" }, error.message))
    return
  }
  const rows = page.messages.map((m) =>
    el(
      "tr",
      { "data-testid": "message-row", "data-status": m.status },
      el("td", {}, el("a", { href: `#/message/${m.id}`, class: "mono" }, short(m.id))),
      el(
        "td",
        {},
        el("a", { href: `#/lane/${encodeURIComponent(m.lane)}` }, `${m.srcChainId} → ${m.dstChainId}`),
      ),
      el("td", {}, m.nonce),
      el("td", { class: `status-${m.status}` }, m.status),
      el("td", {}, m.stage),
      el("td", { class: "mono" }, time(m.observedAt)),
      el("td", {}, m.waitingOn.join("; ")),
    ),
  )
  const next = new URLSearchParams(params)
  if (page.next) next.set("cursor", page.next)
  showIf(
    token,
    form,
    el(
      "p",
      { "data-testid": "total" },
      `${page.total} message(s) match; showing ${rows.length}, newest first.`,
    ),
    table(
      ["message", "lane", "nonce", "status", "stage", "observed", "waiting on"],
      {},
      el("tbody", {}, rows),
    ),
    page.next ? el("p", {}, el("a", { href: `#/?${next}`, "data-testid": "next-page" }, "Next page →")) : "",
  )
}

async function messageView(id, token) {
  if (!/^0x[0-9a-fA-F]{64}$/.test(id)) {
    showIf(
      token,
      el("p", { class: "error", "data-testid": "error" }, `${id.slice(0, 80)} is not a message id`),
    )
    return
  }
  let trace
  try {
    trace = await api(`/api/messages/${encodeURIComponent(id)}`)
  } catch (error) {
    showIf(token, el("p", { class: "error", "data-testid": "error" }, error.message))
    return
  }
  const m = trace.message
  const steps = trace.steps.map((step) =>
    el(
      "tr",
      { "data-testid": "step", "data-stage": step.stage },
      el("td", {}, step.stage),
      el("td", { class: "mono" }, time(step.at)),
      el("td", {}, delay(step.sincePreviousMs)),
      el("td", { "data-testid": "step-summary" }, step.summary),
      el(
        "td",
        { class: "mono" },
        `${step.source.type} · ${step.source.topic}/${step.source.partition}@${step.source.offset}`,
      ),
    ),
  )
  showIf(
    token,
    el("h2", { class: "mono" }, m.id),
    el(
      "div",
      { class: "card" },
      el(
        "p",
        {},
        "Status ",
        el("strong", { class: `status-${trace.status}`, "data-testid": "status" }, trace.status),
        ` · stage ${trace.stage} · lane `,
        el("a", { href: `#/lane/${encodeURIComponent(m.lane)}` }, `${m.srcChainId} → ${m.dstChainId}`),
        ` · nonce ${m.nonce}`,
      ),
      el("p", { class: "mono" }, `sender ${m.sender} → recipient ${m.recipient}`),
    ),
    trace.waiting.length > 0
      ? el(
          "div",
          { class: "card waiting", "data-testid": "waiting" },
          el("strong", {}, "Waits on: "),
          trace.waiting.join("; "),
        )
      : "",
    table(
      ["step", "time", "delay", "what happened", "source record"],
      { "data-testid": "timeline" },
      el("tbody", {}, steps),
    ),
    el(
      "div",
      { class: "card", "data-testid": "retry" },
      el("strong", {}, "Recovery"),
      el("pre", { "data-testid": "retry-command" }, trace.retry.command),
      trace.retry.refused
        ? el(
            "p",
            { class: "error", "data-testid": "retry-refused" },
            `It would be refused: ${trace.retry.refused}`,
          )
        : el(
            "p",
            {},
            "Run it where your keys are; the destination's submitter answers with its own reasons if it cannot deliver.",
          ),
    ),
  )
}

const chart = (series, buckets) => {
  const width = 640
  const height = 160
  const values = Object.values(series)
    .flat()
    .filter((v) => v !== null)
  const max = Math.max(1, ...values)
  const colours = ["#0969da", "#1a7f37", "#9a6700", "#b42318", "#8250df", "#57606a", "#bf3989", "#0a3069"]
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg")
  svg.setAttribute("class", "chart")
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`)
  svg.setAttribute("width", String(width))
  svg.setAttribute("data-testid", "latency-chart")
  Object.entries(series).forEach(([hop, points], i) => {
    const path = points
      .map((v, k) =>
        v === null
          ? null
          : `${(k / Math.max(1, buckets - 1)) * (width - 20) + 10},${height - 10 - (v / max) * (height - 20)}`,
      )
      .filter(Boolean)
      .join(" ")
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline")
    line.setAttribute("points", path)
    line.setAttribute("fill", "none")
    line.setAttribute("stroke", colours[i % colours.length])
    line.setAttribute("stroke-width", "2")
    const title = document.createElementNS("http://www.w3.org/2000/svg", "title")
    title.textContent = hop
    line.append(title)
    svg.append(line)
  })
  const legend = el(
    "p",
    {},
    Object.keys(series)
      .map((hop) => el("span", {}, `■ ${hop} `))
      .map((node, i) => {
        node.style.color = colours[i % colours.length]
        return node
      }),
    ` (median per slice; top of chart ${max} ms)`,
  )
  return el("div", {}, svg, legend)
}

async function laneView(lane, token) {
  let detail
  let latency
  try {
    ;[detail, latency] = await Promise.all([
      api(`/api/lanes/${encodeURIComponent(lane)}`),
      api(`/api/latency?window=1h&buckets=24&lane=${encodeURIComponent(lane)}`),
    ])
  } catch (error) {
    showIf(token, el("p", { class: "error", "data-testid": "error" }, error.message))
    return
  }
  const hops = latency.lanes[0]?.hops ?? []
  showIf(
    token,
    el(
      "h2",
      {},
      `Lane ${detail.srcChainId} → ${detail.dstChainId}`,
      el("span", { class: "mono" }, ` ${detail.lane}`),
    ),
    el(
      "div",
      { class: "card", "data-testid": "lane-summary" },
      `${detail.messages} message(s): ${detail.delivered} delivered, ${detail.failed} failed. `,
      detail.committed
        ? `Committed up to ${detail.committed.count}, root ${detail.committed.root} (tx ${detail.committed.transactionHash}).`
        : "Nothing committed yet.",
      detail.stalled
        ? ` Stalled at ${detail.stalled.count}: ${detail.stalled.reason} ${detail.stalled.why}`
        : "",
    ),
    detail.holdingBack.length > 0 ? el("div", { class: "card waiting" }, detail.holdingBack.join("; ")) : "",
    el("h3", {}, "Latency per hop, last hour"),
    table(
      ["hop", "messages", "p50", "p90", "p99", "max"],
      {},
      el(
        "tbody",
        {},
        hops.map((h) =>
          el(
            "tr",
            { "data-testid": "hop" },
            el("td", {}, h.hop),
            el("td", {}, h.count),
            el("td", {}, `${h.p50} ms`),
            el("td", {}, `${h.p90} ms`),
            el("td", {}, `${h.p99} ms`),
            el("td", {}, `${h.max} ms`),
          ),
        ),
      ),
    ),
    chart(latency.lanes[0]?.series ?? {}, latency.buckets),
    el("h3", {}, "Checkpoints"),
    table(
      ["count", "events"],
      {},
      el(
        "tbody",
        {},
        detail.checkpoints.map((c) =>
          el(
            "tr",
            {},
            el("td", {}, c.count),
            el("td", {}, c.events.map((e) => `${e.stage} ${time(e.at)}`).join(" · ")),
          ),
        ),
      ),
    ),
  )
}

async function lanesView(token) {
  const { lanes } = await api("/api/lanes")
  showIf(
    token,
    table(
      ["lane", "messages", "delivered", "failed", "committed", "stalled"],
      {},
      el(
        "tbody",
        {},
        lanes.map((l) =>
          el(
            "tr",
            { "data-testid": "lane-row" },
            el(
              "td",
              {},
              el("a", { href: `#/lane/${encodeURIComponent(l.lane)}` }, `${l.srcChainId} → ${l.dstChainId}`),
            ),
            el("td", {}, l.messages),
            el("td", {}, l.delivered),
            el("td", {}, l.failed),
            el("td", {}, l.committed ? l.committed.count : "—"),
            el("td", {}, l.stalled ? l.stalled.reason : ""),
          ),
        ),
      ),
    ),
  )
}

async function render() {
  const token = ++generation
  const { parts, params } = route()
  if (parts[0] === "message" && parts[1]) await messageView(parts[1], token)
  else if (parts[0] === "lane" && parts[1]) await laneView(parts[1], token)
  else if (parts[0] === "lanes") await lanesView(token)
  else await listView(params, token)
  await refreshSummary()
  if (!document.body.dataset.firstRenderMs)
    document.body.dataset.firstRenderMs = String(Math.round(performance.now() - started))
  document.body.dataset.rendered = location.hash
}

window.addEventListener("hashchange", render)
let refreshing = false
setInterval(async () => {
  // One refresh at a time: a slow server is not sent a new one every 3 s on top.
  if (refreshing) return
  refreshing = true
  try {
    await refreshSummary()
    const { parts, params } = route()
    if (parts[0] === undefined && !document.activeElement?.closest("form")) await listView(params, generation)
  } finally {
    refreshing = false
  }
}, 3000)
render()
