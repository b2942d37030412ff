// The verification pod (DESIGN §6): admitted under Pod Security "restricted", small but
// with room for Node and one fetch (≈ 60 MB peak, limit 128Mi), Linux nodes only (Windows
// pools exist), service-mesh injection off (a sidecar would keep it from completing),
// its own token not mounted (only the webhook's projected one), and labelled for the
// webhook, this action and this invocation.
import type { PodObject } from '../kube/port.ts';
import { invocationLabels, verificationPodName, type Invocation } from './invocation.ts';
import { EXPECT_ENV, probeSource, type ProbeExpectation } from './probe.ts';

export const USE_LABEL = 'azure.workload.identity/use';
export const PROBE_CONTAINER = 'probe';
/** Node with one fetch peaks near 60 MB; 128Mi leaves room for a larger image's runtime. */
export const RESOURCES = { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '500m', memory: '128Mi' } };
/** A non-root user of the distroless images (and any image: the probe writes nothing). */
const NONROOT = 65532;

export interface VerificationPodInput {
  invocation: Invocation;
  environment: string;
  namespace: string;
  serviceAccount: string;
  image: string;
  /** activeDeadlineSeconds: counts from scheduling, so the runner keeps its own deadline too. */
  timeoutSeconds: number;
  expect: ProbeExpectation;
}

export function verificationPod(input: VerificationPodInput): PodObject {
  return {
    metadata: {
      name: verificationPodName(input.invocation, input.environment, input.namespace, input.serviceAccount),
      namespace: input.namespace,
      labels: { ...invocationLabels(input.invocation), [USE_LABEL]: 'true', 'sidecar.istio.io/inject': 'false' },
      annotations: { 'sidecar.istio.io/inject': 'false', 'linkerd.io/inject': 'disabled' },
    },
    spec: {
      serviceAccountName: input.serviceAccount,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      restartPolicy: 'Never',
      activeDeadlineSeconds: input.timeoutSeconds,
      terminationGracePeriodSeconds: 5,
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      securityContext: { runAsNonRoot: true, runAsUser: NONROOT, runAsGroup: NONROOT, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: PROBE_CONTAINER,
          image: input.image,
          imagePullPolicy: 'IfNotPresent',
          command: ['node', '-e', probeSource()],
          // NODE_USE_ENV_PROXY: AKS injects HTTPS_PROXY into pods of clusters with an egress
          // proxy; Node's fetch follows it only with this set (Node 24).
          env: [
            { name: 'NODE_USE_ENV_PROXY', value: '1' },
            { name: EXPECT_ENV, value: JSON.stringify(input.expect) },
          ],
          resources: RESOURCES,
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ['ALL'] },
          },
        },
      ],
    },
  };
}
