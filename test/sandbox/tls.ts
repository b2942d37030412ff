// A throwaway CA generated at start, and one server certificate for every name the
// sandbox answers to: 127.0.0.1 and localhost, and the real Azure/GitHub host names so a
// CONNECT proxy can later route unmodified clients on their default endpoints here.
// Real clients then trust it through NODE_EXTRA_CA_CERTS or the kubeconfig's CA data —
// no SDK is patched and nothing runs with TLS verification off.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface SandboxTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export const REAL_HOST_NAMES = [
  'login.microsoftonline.com',
  'management.azure.com',
  'api.github.com',
  '*.oic.prod-aks.azure.com',
  '*.sandbox.local',
];

function keyPair(): { publicKey: forge.pki.PublicKey; privateKey: forge.pki.PrivateKey; privatePem: string } {
  // Node's keygen is native and fast; forge's pure-JS RSA keygen takes seconds.
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    privateKey: forge.pki.privateKeyFromPem(privatePem),
    privatePem,
  };
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f; // positive
  return bytes.toString('hex');
}

export function createSandboxTls(extraNames: string[] = []): SandboxTls {
  const now = new Date(Date.now() - 60_000);
  const later = new Date(Date.now() + 7 * 24 * 3600_000);

  const ca = keyPair();
  const caCert = forge.pki.createCertificate();
  caCert.publicKey = ca.publicKey;
  caCert.serialNumber = serial();
  caCert.validity.notBefore = now;
  caCert.validity.notAfter = later;
  // A unique name per sandbox: when a process trusts two sandbox CAs (two sandboxes in one
  // test file), OpenSSL picks the issuer by name, and a shared name fails the chain.
  const caName = [{ name: 'commonName', value: `workload-identity sandbox CA ${serial().slice(0, 8)}` }];
  caCert.setSubject(caName);
  caCert.setIssuer(caName);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(ca.privateKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());

  const leaf = keyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = leaf.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = now;
  cert.validity.notAfter = later;
  cert.setSubject([{ name: 'commonName', value: 'sandbox' }]);
  cert.setIssuer(caName);
  const dns = ['localhost', ...REAL_HOST_NAMES, ...extraNames];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [...dns.map((value) => ({ type: 2, value })), { type: 7, ip: '127.0.0.1' }],
    },
  ]);
  cert.sign(ca.privateKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());

  return {
    caPem: forge.pki.certificateToPem(caCert),
    certPem: forge.pki.certificateToPem(cert),
    keyPem: leaf.privatePem,
  };
}
