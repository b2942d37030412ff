import { describe, expect, it } from 'vitest';
import { isAksApiHost, otherClusterReason } from '../../src/kube/cluster-host.ts';

const prod = {
  name: 'aks-prod',
  hosts: ['aks-prod-dns-1a2b3c4d.hcp.westeurope.azmk8s.io', 'aks-prod-dns-1a2b3c4d.0f1e2d3c-aaaa-bbbb-cccc-1234567890ab.privatelink.westeurope.azmk8s.io', 'aks-prod-dns-1a2b3c4d.portal.hcp.westeurope.azmk8s.io'],
};

describe('the kubeconfig names the environment\'s cluster', () => {
  it('its public, private link and portal host names all match, in any case and with a port', () => {
    for (const host of prod.hosts) {
      expect(otherClusterReason(`https://${host}:443`, prod, 'production')).toBeUndefined();
      expect(otherClusterReason(`https://${host.toUpperCase()}`, prod, 'production')).toBeUndefined();
    }
  });

  it("another cluster's public or private link host is named, with the environment's cluster", () => {
    const dev = otherClusterReason('https://aks-dev-dns-9f8e7d6c.hcp.westeurope.azmk8s.io:443', prod, 'production');
    expect(dev).toBe(
      "The kubeconfig's API server is aks-dev-dns-9f8e7d6c.hcp.westeurope.azmk8s.io, but environment production names cluster aks-prod " +
        `(${prod.hosts.join(', ')}): this run would compare aks-prod's credentials with another cluster's ServiceAccounts and issuer.`,
    );
    expect(otherClusterReason('https://aks-dev-dns-9f8e7d6c.11111111-2222-3333-4444-555555555555.privatelink.westeurope.azmk8s.io', prod, 'production')).toContain('aks-dev-dns');
  });

  it('the sovereign clouds\' API server hosts are judged too', () => {
    expect(isAksApiHost('aks-dns-1.hcp.usgovvirginia.cx.aks.containerservice.azure.us')).toBe(true);
    expect(isAksApiHost('aks-dns-1.hcp.chinaeast2.cx.prod.service.azk8s.cn')).toBe(true);
    expect(otherClusterReason('https://aks-dns-1.hcp.usgovvirginia.cx.aks.containerservice.azure.us', prod, 'production')).toContain('aks-prod');
  });

  it('a server that is not an AKS host (a proxy, an IP address) gets no verdict', () => {
    for (const server of ['https://10.0.0.4:443', 'https://127.0.0.1:6443', 'https://k8s-proxy.contoso.com', 'https://azmk8s.io.evil.example', 'not a url']) {
      expect(otherClusterReason(server, prod, 'production')).toBeUndefined();
    }
  });

  it('no verdict without host names from ARM to compare with', () => {
    expect(otherClusterReason('https://aks-dev-dns-9f8e7d6c.hcp.westeurope.azmk8s.io', { name: 'aks-prod', hosts: [] }, 'production')).toBeUndefined();
  });
});
