// Reads simulation cases (JSON lines) from the file named on the command line and prints one
// JSON line per case: {"decision": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied"} or
// {"error": ...} when the oracle rejects the case as invalid.
import { readFileSync } from 'node:fs'
import { runSimulation } from '@cloud-copilot/iam-simulate'

const lines = readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.trim())
const out = []
for (const line of lines) {
  const c = JSON.parse(line)
  const simulation = {
    request: {
      // "anonymous" is a request with no principal.
      principal: c.principal === 'anonymous' ? { type: 'Anonymous' } : c.principal,
      action: c.action,
      resource: { resource: c.resource, accountId: c.resourceAccount },
      contextVariables: c.context,
    },
    identityPolicies: c.identity.map((p, i) => ({ name: `identity${i}`, policy: p })),
    // One entry per level, root first; the oracle adds RCPFullAWSAccess to every RCP level.
    serviceControlPolicies: (c.scps || []).map((level, i) => ({
      orgIdentifier: `level${i}`,
      policies: level.map((p, j) => ({ name: `scp${i}-${j}`, policy: p }))
    })),
    resourceControlPolicies: (c.rcps || []).map((level, i) => ({
      orgIdentifier: `level${i}`,
      policies: level.map((p, j) => ({ name: `rcp${i}-${j}`, policy: p }))
    })),
  }
  if (c.resourcePolicy) simulation.resourcePolicy = c.resourcePolicy
  if (c.boundary) simulation.permissionBoundaryPolicies = [{ name: 'boundary', policy: c.boundary }]
  if (c.sessionPolicy) simulation.sessionPolicy = c.sessionPolicy
  if (c.vpcEndpointPolicy) simulation.vpcEndpointPolicies = [{ name: 'vpce', policy: c.vpcEndpointPolicy }]
  try {
    const r = await runSimulation(simulation, {})
    if (r.resultType === 'error') out.push(JSON.stringify({ error: r.errors }))
    else out.push(JSON.stringify({ decision: r.overallResult }))
  } catch (e) {
    out.push(JSON.stringify({ error: String(e) }))
  }
}
process.stdout.write(out.join('\n') + '\n')
