/**
 * The `strayAnswers` fault: a campaign about to get its first real answer first gets answers from
 * hosts it did not target (an existing host outside its targets, or a host id that does not exist),
 * each a copy of that real answer's rows. Fleet itself publishes any enrolled host's answer named
 * after a campaign id without checking the campaign's targets (ingestDistributedQuery), so a hostile
 * host, or a buggy server or proxy, can do this to a real client.
 */
import type { Campaign, CampaignResult, Campaigns } from './campaigns.js';
import type { FaultEngine } from './faults.js';
import type { HostRec } from './store.js';

export function injectStrays(
  campaigns: Campaigns,
  faults: FaultEngine,
  campaignId: number,
  real: CampaignResult,
  hostByName: (hostname: string) => HostRec | undefined,
  hostById: (id: number) => HostRec | undefined,
): void {
  const c: Campaign | undefined = campaigns.get(campaignId);
  // Only before a campaign's first real answer (once per campaign), and only for a real one.
  if (!faults.current.strayAnswers || !c || c.state === 'completed' || c.answered.size > 0 || !c.targets.has(real.hostId)) return;
  for (const spec of faults.strayHosts()) {
    let r: CampaignResult;
    if (typeof spec === 'string') {
      const h = hostByName(spec);
      if (!h || c.targets.has(h.id)) continue;
      r = { hostId: h.id, rows: real.rows.map((row) => ({ ...row })), error: null, stats: null };
    } else {
      if (hostById(spec.id) || c.targets.has(spec.id)) continue;
      r = { hostId: spec.id, rows: real.rows.map((row) => ({ ...row })), error: null, stats: null, phantom: { hostname: spec.hostname } };
    }
    campaigns.deliverStray(c, r);
  }
}

/** A host record for a stray answer's invented host, so its `result` message has the dialect's shape. */
export function phantomHost(id: number, hostname: string): HostRec {
  return {
    id, nodeKey: '', osqueryHostId: hostname, uuid: '', hostname, computerName: '', platform: '', platformLike: '', osVersion: '', build: '',
    codeName: '', osqueryVersion: '', cpuType: '', cpuSubtype: '', cpuBrand: '', cpuPhysicalCores: 0, cpuLogicalCores: 0, hardwareVendor: '',
    hardwareModel: '', hardwareVersion: '', hardwareSerial: '', memory: 0, uptimeNs: 0, primaryIp: '', primaryMac: '', distributedInterval: 0,
    configTlsRefresh: 0, loggerTlsPeriod: 0, enrollSecretName: '', createdAt: 0, updatedAt: 0, detailUpdatedAt: 0, labelUpdatedAt: 0,
    lastEnrolledAt: 0, seenTime: 0,
  };
}
