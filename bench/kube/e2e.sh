#!/usr/bin/env bash
# bench/kube/e2e.sh: amp's Indexed Job on a real single-node Kubernetes
# cluster assembled on this machine, offline. No fake API server: etcd,
# containerd and runc come from Debian; kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet and kubectl are built
# from the k8s.io/kubernetes module (cached in $CACHE after the first run).
# amp and a pause binary are built static and imported into containerd as
# scratch images assembled by hand (OCI layout tarballs), so no registry is
# needed either.
#
# The run: `amp kube job` for a recording of the demo site with SHARDS
# shards, `kubectl create`, wait, `amp kube collect`, `amp report --merge`;
# the same Job with the default --cpu, whose pods do not all fit the node;
# then the same replay as SHARDS local processes (bench/shards/run.sh), and
# the figures side by side (bench/kube/README.md).
#
#   bench/kube/e2e.sh                          # 200 users at 40/s for 20 s, 4 shards
#   USERS=400 RATE=80 DUR=30 bench/kube/e2e.sh
#   KEEP=1 bench/kube/e2e.sh                   # leave the state dir (logs) behind
#   RUNC=/path/to/wrapper bench/kube/e2e.sh    # containerd runs this instead of runc
#
# Needs root, Linux with cgroups, go, and the Debian packages etcd-server,
# containerd, runc, containernetworking-plugins, iptables, jq, curl, openssl
# (installed with apt-get when missing). Everything it starts is stopped and
# its state directory removed on exit.
set -euo pipefail

USERS=${USERS:-200}
RATE=${RATE:-40}
DUR=${DUR:-20}
SHARDS=${SHARDS:-4}
LATENCY=${LATENCY:-20ms}
START_IN=${START_IN:-45}      # seconds from amp kube job to the shared start
K8S=${K8S:-1.34.4}            # k8s.io/kubernetes version; staging modules v0.MINOR.PATCH
CACHE=${CACHE:-/var/cache/amp-kube}
NODE=amp-e2e
BRIDGE=ampkube0
NET=10.213.0                  # pod network /24 on $BRIDGE; .1 is the node
SVC_CIDR=10.214.0.0/24
IMAGE=amp.local/amp:e2e
PAUSE=amp.local/pause:e2e
JOB=amp-e2e

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
log() { echo "e2e: $*" >&2; }
die() { echo "e2e: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (the kubelet, containerd and runc need it)"
command -v go >/dev/null || die "go not found"

# --- packages -------------------------------------------------------------
need_pkgs() {
	local missing=()
	command -v etcd >/dev/null || missing+=(etcd-server)
	command -v containerd >/dev/null || missing+=(containerd)
	command -v runc >/dev/null || missing+=(runc)
	[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
	command -v iptables >/dev/null || missing+=(iptables)
	command -v jq >/dev/null || missing+=(jq)
	command -v curl >/dev/null || missing+=(curl)
	command -v openssl >/dev/null || missing+=(openssl)
	command -v ip >/dev/null || missing+=(iproute2)
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
	fi
}
need_pkgs

# --- Kubernetes binaries --------------------------------------------------
# k8s.io/kubernetes replaces its staging modules with ./staging, so it cannot
# be go-installed; a wrapper module requires it and points every staging
# module at its published v0.MINOR.PATCH instead.
kbin=$CACHE/v$K8S/bin
build_k8s() {
	local dir=$CACHE/v$K8S/src v=0.${K8S#1.}
	mkdir -p "$dir" "$kbin"
	log "building Kubernetes v$K8S into $kbin (once: 13 min here from cold caches, under a minute to relink)"
	local mod
	mod=$(cd "$dir" && go mod download -json "k8s.io/kubernetes@v$K8S" | jq -r .GoMod) && [ -f "$mod" ] ||
		die "cannot download k8s.io/kubernetes v$K8S from the module proxy"
	cp "$mod" "$dir/k8s.mod"
	{
		printf 'module local/k8sbuild\n\ngo 1.24.0\n\ngodebug default=go1.24\n\nrequire k8s.io/kubernetes v%s\n\n' "$K8S"
		awk '/^require \(/{f=1;print;next} f&&/^\)/{f=0;print;next} f{print}' "$dir/k8s.mod" |
			sed -E "s#^(\s+k8s\.io/[a-z-]+) v0\.0\.0(\s|$)#\1 v$v\2#"
		printf '\nreplace (\n'
		awk '/^replace/{f=1;next} f&&/=>/{print $1}' "$dir/k8s.mod" | grep -v -E 'sample-(cli-plugin|controller)' |
			sed "s#.*#\t& => & v$v#"
		printf ')\n'
	} >"$dir/go.mod"
	# The version the release scripts stamp in (else v0.0.0-master).
	local vpkg=k8s.io/component-base/version ld
	ld="-s -w -X $vpkg.gitVersion=v$K8S -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$(echo "$K8S" | cut -d. -f2)"
	ld+=" -X $vpkg.gitTreeState=clean -X $vpkg.buildDate=1970-01-01T00:00:00Z"
	(cd "$dir" && GOFLAGS=-mod=mod nice -n 19 go build -p 1 -trimpath -ldflags "$ld" -o "$kbin/" \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubectl) >&2
}
for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl; do
	[ -x "$kbin/$b" ] || { build_k8s; break; }
done

# --- state and cleanup ----------------------------------------------------
! ip link show "$BRIDGE" >/dev/null 2>&1 || die "$BRIDGE exists: another e2e.sh running? (else ip link delete $BRIDGE)"
S=$(mktemp -d /tmp/amp-kube.XXXXXX)
pids=()
kubectl() { "$kbin/kubectl" --kubeconfig "$S/pki/admin.kubeconfig" "$@"; }
cleanup() {
	set +e
	log "cleaning up $S"
	if [ -S "$S/containerd.sock" ] && [ -e "$S/pki/admin.kubeconfig" ]; then
		# The kubelet stops the pods' containers and sandboxes (CNI DEL).
		kubectl delete jobs --all --wait=false >/dev/null 2>&1
		kubectl delete pods --all --grace-period=1 --timeout=60s >/dev/null 2>&1
	fi
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[$i]}" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	# What containerd left: its shims (named by our socket) and containers.
	for p in $(pgrep -f "containerd-shim-runc-v2 .*-address $S/containerd.sock"); do kill -9 "$p"; done
	# Mounts under the state dir (images, secrets, the pods' tmpfs), deepest first.
	awk -v s="$S" '$2 ~ "^"s {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		grep -qx "$ns" "$S/netns.before" 2>/dev/null || ip netns delete "$ns"
	done
	ip link delete "$BRIDGE" 2>/dev/null
	# Paths the kubelet, containerd's shims and CNI use whatever their
	# root: the kubelet's links to container logs, runc's state, libcni's cache.
	find /var/log/containers -maxdepth 1 -lname "$S/*" -delete 2>/dev/null
	[ -e "$S/var-log-containers.before" ] || rmdir /var/log/containers 2>/dev/null
	[ -e "$S/run-containerd.before" ] || rm -rf /run/containerd
	[ -e "$S/var-lib-cni.before" ] || rm -rf /var/lib/cni # libcni's cache of results
	# The kubelet's cgroups (cgroupfs driver): /kubepods in each hierarchy.
	for h in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
		[ -d "$h" ] && find "$h" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	if [ -n "${KEEP:-}" ]; then log "kept $S"; else rm -rf "$S"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns list 2>/dev/null | awk '{print $1}' >"$S/netns.before"
[ -e /run/containerd ] && touch "$S/run-containerd.before"
[ -e /var/log/containers ] && touch "$S/var-log-containers.before"
[ -e /var/lib/cni ] && touch "$S/var-lib-cni.before"
mkdir -p "$S"/{pki,etcd,containerd,cni,cni-ipam,kubelet,pod-logs,img,results,logs}

# free_port: a TCP port nobody listens on, and none picks as port 0.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000)) # below the ephemeral range
		ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}
# wait_for WHAT SECONDS CMD...: run CMD until it succeeds.
wait_for() {
	local what=$1 n=$2
	shift 2
	for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
	die "$what not ready after ${n}s (logs in $S/logs; KEEP=1 keeps them)"
}
# start NAME CMD...: run CMD in the background, logging to $S/logs/NAME.log.
start() {
	local name=$1
	shift
	"$@" >"$S/logs/$name.log" 2>&1 &
	pids+=($!)
}

# --- certificates -----------------------------------------------------------
pki=$S/pki
cert() { # NAME CN O [SAN]: a key and a certificate signed by the cluster CA
	local name=$1 cn=$2 o=$3 san=${4:-}
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$pki/$name.key" \
		-subj "/CN=$cn${o:+/O=$o}" -out "$pki/$name.csr" 2>/dev/null
	local ext="$pki/$name.ext"
	{
		echo "basicConstraints=CA:FALSE"
		echo "keyUsage=critical,digitalSignature,keyEncipherment"
		if [ -n "$san" ]; then echo "extendedKeyUsage=serverAuth,clientAuth"; echo "subjectAltName=$san"; else echo "extendedKeyUsage=clientAuth"; fi
	} >"$ext"
	openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
		-extfile "$ext" -out "$pki/$name.crt" 2>/dev/null
}
kubeconfig() { # NAME: a kubeconfig for the client certificate NAME
	cat >"$pki/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: "https://$NET.1:$api_port", certificate-authority: "$pki/ca.crt"}
users:
- name: $1
  user: {client-certificate: "$pki/$1.crt", client-key: "$pki/$1.key"}
contexts:
- name: e2e
  context: {cluster: e2e, user: $1, namespace: default}
current-context: e2e
EOF
}
log "certificates"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$pki/ca.key" \
	-subj "/CN=amp-e2e-ca" -days 2 -out "$pki/ca.crt" 2>/dev/null
cert apiserver kube-apiserver "" "IP:$NET.1,IP:127.0.0.1,IP:${SVC_CIDR%.0/24}.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:localhost"
cert admin admin system:masters
cert apiserver-kubelet kube-apiserver-kubelet-client system:masters
cert controller-manager system:kube-controller-manager ""
cert scheduler system:kube-scheduler ""
cert kubelet "system:node:$NODE" system:nodes
openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null

api_port=$(free_port)
etcd_port=$(free_port)
etcd_peer=$(free_port)
kubelet_port=$(free_port)
for n in admin controller-manager scheduler kubelet; do kubeconfig "$n"; done

# --- node network: a bridge the pods hang off, with the node at .1 -------
ip link add "$BRIDGE" type bridge
ip addr add "$NET.1/24" dev "$BRIDGE"
ip link set "$BRIDGE" up
cat >"$S/cni/10-amp-e2e.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "amp-e2e", "plugins": [{
  "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
  "ipam": {"type": "host-local", "dataDir": "$S/cni-ipam",
           "ranges": [[{"subnet": "$NET.0/24", "rangeStart": "$NET.10", "gateway": "$NET.1"}]]}}]}
EOF

# --- images: static binaries in scratch images, OCI layout tarballs -------
# oci_image NAME TAR BINARY PATH USER ENTRYPOINT...: an image NAME holding
# BINARY at PATH, written as an OCI layout tarball TAR for ctr import.
oci_image() {
	local name=$1 tar=$2 bin=$3 dst=$4 user=$5
	shift 5
	local d
	d=$(mktemp -d "$S/img/oci.XXXX")
	mkdir -p "$d/root/$(dirname "$dst")" "$d/layout/blobs/sha256"
	install -m 0755 "$bin" "$d/root/$dst"
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$d/root" -cf "$d/layer.tar" .
	local diff_id layer config manifest
	diff_id=$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
	gzip -n -c "$d/layer.tar" >"$d/layer.tgz"
	blob() { # FILE: store FILE as a blob; print "digest size"
		local h
		h=$(sha256sum "$1" | cut -d' ' -f1)
		cp "$1" "$d/layout/blobs/sha256/$h"
		echo "sha256:$h $(stat -c %s "$1")"
	}
	read -r layer lsize < <(blob "$d/layer.tgz")
	jq -n --arg diff "sha256:$diff_id" --arg user "$user" --args '{architecture: "amd64", os: "linux",
		config: {Entrypoint: $ARGS.positional, Env: ["PATH=/usr/local/bin:/usr/bin:/bin"], User: $user, WorkingDir: "/"},
		rootfs: {type: "layers", diff_ids: [$diff]}}' "$@" >"$d/config.json"
	read -r config csize < <(blob "$d/config.json")
	jq -n --arg c "$config" --argjson cs "$csize" --arg l "$layer" --argjson ls "$lsize" '{schemaVersion: 2,
		mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
		layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $l, size: $ls}]}' >"$d/manifest.json"
	read -r manifest msize < <(blob "$d/manifest.json")
	jq -n --arg m "$manifest" --argjson ms "$msize" --arg name "$name" '{schemaVersion: 2, manifests: [{
		mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
		platform: {architecture: "amd64", os: "linux"},
		annotations: {"io.containerd.image.name": $name, "org.opencontainers.image.ref.name": ($name | sub(".*:"; ""))}}]}' >"$d/layout/index.json"
	echo '{"imageLayoutVersion": "1.0.0"}' >"$d/layout/oci-layout"
	tar -C "$d/layout" -cf "$tar" oci-layout index.json blobs
}
log "building amp and pause (static) and their images"
CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$S/img/amp" ./cmd/amp
CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$S/img/pause" ./bench/kube/pause
oci_image "$IMAGE" "$S/img/amp.tar" "$S/img/amp" /usr/local/bin/amp 65532:65532 amp
oci_image "$PAUSE" "$S/img/pause.tar" "$S/img/pause" /pause 65535:65535 /pause
amp=$S/img/amp

# --- containerd -------------------------------------------------------------
cat >"$S/containerd.toml" <<EOF
version = 2
root = "$S/containerd/root"
state = "$S/containerd/state"
[grpc]
  address = "$S/containerd.sock"
[ttrpc]
  address = "$S/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$S/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE"
  # Sandboxes ask for oom_score_adj -998, which needs CAP_SYS_RESOURCE; a
  # machine without it (a VM sandbox such as this one) fails them with
  # "runc create failed: ... can't get final child's PID from pipe: EOF".
  # Cap the scores at containerd's own instead.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$(command -v "${RUNC:-runc}")"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$S/cni"
EOF
log "starting containerd"
start containerd containerd --config "$S/containerd.toml"
ctr() { command ctr --address "$S/containerd.sock" --namespace k8s.io "$@"; }
wait_for containerd 30 ctr version
ctr images import "$S/img/amp.tar" >&2
ctr images import "$S/img/pause.tar" >&2
images=$(ctr images ls -q)
for i in "$IMAGE" "$PAUSE"; do grep -qx "$i" <<<"$images" || die "ctr import did not make $i: $(echo $images)"; done

# --- control plane ----------------------------------------------------------
log "starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler"
start etcd etcd --name e2e --logger zap --data-dir "$S/etcd" \
	--listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
	--listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
	--initial-cluster "e2e=http://127.0.0.1:$etcd_peer"
wait_for etcd 30 curl -fsS "http://127.0.0.1:$etcd_port/health"
start kube-apiserver "$kbin/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
	--bind-address "$NET.1" --advertise-address "$NET.1" --secure-port "$api_port" \
	--tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" \
	--kubelet-client-certificate "$pki/apiserver-kubelet.crt" --kubelet-client-key "$pki/apiserver-kubelet.key" \
	--service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
	--service-account-issuer https://kubernetes.default.svc --service-cluster-ip-range "$SVC_CIDR" \
	--kubelet-preferred-address-types InternalIP --authorization-mode Node,RBAC --profiling=false
wait_for kube-apiserver 120 kubectl get --raw /readyz
start kube-controller-manager "$kbin/kube-controller-manager" --kubeconfig "$pki/controller-manager.kubeconfig" \
	--authentication-kubeconfig "$pki/controller-manager.kubeconfig" --authorization-kubeconfig "$pki/controller-manager.kubeconfig" \
	--leader-elect=false --secure-port 0 --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
	--use-service-account-credentials --service-cluster-ip-range "$SVC_CIDR"
start kube-scheduler "$kbin/kube-scheduler" --kubeconfig "$pki/scheduler.kubeconfig" \
	--authentication-kubeconfig "$pki/scheduler.kubeconfig" --authorization-kubeconfig "$pki/scheduler.kubeconfig" \
	--leader-elect=false --secure-port 0

# --- kubelet ------------------------------------------------------------------
cat >"$S/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NET.1
port: $kubelet_port
readOnlyPort: 0
healthzPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: "$pki/ca.crt"}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
failCgroupV1: false
containerRuntimeEndpoint: unix://$S/containerd.sock
failSwapOn: false
podLogsDir: $S/pod-logs
resolvConf: /etc/resolv.conf
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
serializeImagePulls: false
EOF
log "starting the kubelet"
start kubelet "$kbin/kubelet" --config "$S/kubelet.yaml" --kubeconfig "$pki/kubelet.kubeconfig" \
	--root-dir "$S/kubelet" --cert-dir "$S/kubelet/pki" --hostname-override "$NODE" --node-ip "$NET.1"
wait_for "node $NODE" 120 kubectl get node "$NODE"
kubectl wait --for=condition=Ready "node/$NODE" --timeout=120s >&2 || die "node $NODE not Ready: see $S/logs/kubelet.log"
wait_for "service account default/default" 60 kubectl get serviceaccount default
log "cluster up: $(kubectl version -o json | jq -r .serverVersion.gitVersion), node $NODE Ready"

# --- the demo site (on the node's bridge address) and its recording --------
# wait_addr FILE: the first http://host:port in FILE.
wait_addr() {
	for _ in $(seq 1 100); do
		a=$(grep -o "http://[0-9.]*:[0-9]*" "$1" 2>/dev/null | head -1 || true)
		[ -n "$a" ] && { echo "$a"; return; }
		sleep 0.1
	done
	die "no address in $1: $(cat "$1")"
}
start demosite "$amp" demosite --addr "$NET.1:0" --latency "$LATENCY" --capacity 0
site=$(wait_addr "$S/logs/demosite.log")
log "demo site at $site; recording the demo user"
"$amp" demo -o "$S/demo.amp" --html "$S/demo.html" --users 1 --rate 1 --duration 1s --quiet >"$S/logs/demo.log" 2>&1 ||
	die "amp demo failed: $(cat "$S/logs/demo.log")"

# --- a volume for --results-pvc: a local PersistentVolume on the node -------
mkdir -p "$S/pv-results"
kubectl create -f - >&2 <<EOF
apiVersion: v1
kind: PersistentVolume
metadata: {name: $JOB-results}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteMany]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  local: {path: "$S/pv-results"}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [$NODE]}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: $JOB-results}
spec:
  accessModes: [ReadWriteMany]
  storageClassName: ""
  volumeName: $JOB-results
  resources: {requests: {storage: 1Gi}}
EOF

# --- the Job ------------------------------------------------------------------
# --cpu 100m: the node has $(nproc) cores, and the default request (1 CPU
# a pod) would leave some of the shards unschedulable on it.
"$amp" kube job "$S/demo.amp" --shards "$SHARDS" --image "$IMAGE" --job-name "$JOB" --host "$site" \
	--users "$USERS" --rate "$RATE" --duration "${DUR}s" --quiet --cpu 100m --start-in "${START_IN}s" \
	--results-pvc "$JOB-results" >"$S/job.yaml"
start_at=$(grep -A1 -- '- --start-at' "$S/job.yaml" | tail -1 | grep -o '[0-9TZ:-]*Z')
log "kubectl create -f job.yaml (shared start $start_at)"
# The pods' peak memory, as the kubelet's cgroups count it (v1 or v2),
# every second while this Job runs.
(set +e; while :; do
	cat /sys/fs/cgroup/memory/kubepods/*/pod*/memory.max_usage_in_bytes /sys/fs/cgroup/kubepods/*/pod*/memory.peak 2>/dev/null |
		sort -n | tail -1 >>"$S/mem.samples"
	sleep 1
done) &
mem_pid=$!
pids+=("$mem_pid")
kubectl create -f "$S/job.yaml" >&2
sel="batch.kubernetes.io/job-name=$JOB"
pods_json() { kubectl get pods -l "$sel" -o json; }
scheduled() { [ "$(pods_json | jq '[.items[] | select(.spec.nodeName != null)] | length')" -ge "$SHARDS" ]; }
wait_for "$SHARDS pods scheduled" 60 scheduled
running() { [ "$(pods_json | jq '[.items[] | select(.status.phase == "Running")] | length')" -ge "$SHARDS" ]; }
wait_for "$SHARDS pods running" "$START_IN" running
pods_json >"$S/pods-running.json"

# While the shards run: each pod's /metrics on the port its prometheus.io
# annotations name, and the headless Service's endpoints.
at=$(date -d "$start_at" +%s)
sleep $((at + DUR / 2 - $(date +%s) > 0 ? at + DUR / 2 - $(date +%s) : 0))
scraped=0
for ip_port in $(jq -r '.items[] | "\(.status.podIP):\(.metadata.annotations["prometheus.io/port"])\(.metadata.annotations["prometheus.io/path"])"' "$S/pods-running.json"); do
	curl -fsS --max-time 5 "http://$ip_port" >"$S/metrics-${ip_port%%:*}.txt" &&
		grep -q '^amp_requests_total' "$S/metrics-${ip_port%%:*}.txt" && scraped=$((scraped + 1))
done
endpoints=$(kubectl get endpointslices -l "kubernetes.io/service-name=$JOB" -o json | jq '[.items[].endpoints[]?.addresses[]] | length')

log "amp kube collect $JOB --wait"
KUBECONFIG=$pki/admin.kubeconfig "$amp" kube collect "$JOB" -o "$S/results" --kubectl "$kbin/kubectl" \
	--wait "$((START_IN + DUR + 180))s" >&2
"$amp" report --merge "$S"/results/shard-*.json --json "$S/merged.json" --quiet >&2
kill "$mem_pid" 2>/dev/null || die "the memory sampler died"
kubectl get job "$JOB" -o json >"$S/job-done.json"
pods_json >"$S/pods-done.json"

# --- the default CPU request (1 a pod) on this node -------------------------
# The same Job with amp kube job's default --cpu and a 10 s run: the pods
# that do not fit wait for the others to end, start after the shared time,
# and amp kube collect says which.
JOB2=$JOB-cpu
"$amp" kube job "$S/demo.amp" --shards "$SHARDS" --image "$IMAGE" --job-name "$JOB2" --host "$site" \
	--users "$USERS" --rate "$RATE" --duration 10s --quiet --start-in 20s >"$S/job2.yaml"
log "the default --cpu: kubectl create -f job2.yaml"
kubectl create -f "$S/job2.yaml" >&2
sleep 5
unschedulable=$(kubectl get pods -l "batch.kubernetes.io/job-name=$JOB2" -o json |
	jq '[.items[].status.conditions[]? | select(.type == "PodScheduled" and .reason == "Unschedulable")] | length')
why=$(kubectl get pods -l "batch.kubernetes.io/job-name=$JOB2" -o json |
	jq -r '[.items[].status.conditions[]? | select(.reason == "Unschedulable") | .message | sub("\\. .*"; ".")][0] // ""')
KUBECONFIG=$pki/admin.kubeconfig "$amp" kube collect "$JOB2" -o "$S/results2" --kubectl "$kbin/kubectl" \
	--wait 300s >"$S/collect2.out" 2>"$S/collect2.err" || true
late=$(grep -c 'began .* after the shared start' "$S/collect2.err" || true)
collected2=$(ls "$S"/results2/shard-*.json 2>/dev/null | wc -l)
late_req=$(jq -s -r 'map("\(.config.shard): \(.requests)") | join(", ")' "$S"/results2/shard-*.json 2>/dev/null || true)

# --- the same replay as local shards (bench/shards/run.sh) -----------------
log "the same replay as $SHARDS local processes: bench/shards/run.sh"
USERS=$USERS RATE=$RATE DUR=$DUR SHARDS=$SHARDS LATENCY=$LATENCY CAPACITY=0 bench/shards/run.sh >"$S/local.txt" 2>"$S/logs/local.log" ||
	die "bench/shards/run.sh failed: $(tail -5 "$S/logs/local.log")"
local_req=$(awk -F'|' '$2 ~ /^ *merged *$/ {gsub(/ /, "", $4); print $4}' "$S/local.txt")
local_p95=$(awk -F'|' '$2 ~ /^ *merged *$/ {gsub(/ /, "", $8); print $8}' "$S/local.txt")

# --- figures ------------------------------------------------------------------
sched=$(jq '[.items[] | select(.spec.nodeName != null)] | length' "$S/pods-done.json")
succeeded=$(jq '.status.succeeded // 0' "$S/job-done.json")
indexes=$(jq -r '.status.completedIndexes // ""' "$S/job-done.json")
merged=$(jq .requests "$S/merged.json")
sum=$(jq -s 'map(.requests) | add' "$S"/results/shard-*.json)
failures=$(jq .failures "$S/merged.json")
p95=$(jq .latency_ms.p95 "$S/merged.json")
# The first second each shard sent requests in (its per-second series).
spread=$(jq -s -r --arg at "$start_at" 'map([.series[] | select(.requests > 0) | .t] | min) as $s |
	"\(($s | min) - ($at | fromdate))..\(($s | max) - ($at | fromdate)) s"' "$S"/results/shard-*.json)
starts=$(jq -r --arg at "$start_at" '[.items[].status.containerStatuses[0].state.terminated.startedAt | fromdate - ($at | fromdate)] |
	"\(min)..\(max) s"' "$S/pods-done.json")
pvc=$(ls "$S"/pv-results/*.json 2>/dev/null | wc -l)
pvc_same=0
for f in "$S"/results/shard-*.json; do
	i=$(jq -r '.config.shard | split("/")[0]' "$f")
	[ -f "$S/pv-results/$JOB-$i.json" ] &&
		[ "$(jq -c '[.requests, .failures, .latency_ms]' "$f")" = "$(jq -c '[.requests, .failures, .latency_ms]' "$S/pv-results/$JOB-$i.json")" ] &&
		pvc_same=$((pvc_same + 1))
done
diff=$(awk -v a="$merged" -v b="$local_req" 'BEGIN{printf "%+.1f", (a-b)*100/b}')

echo
echo "| figure | value |"
echo "|---|---|"
echo "| cluster | $(kubectl version -o json | jq -r .serverVersion.gitVersion), 1 node, containerd $(containerd --version | awk '{print $3}'), runc $(runc --version | awk 'NR==1{print $3}') |"
echo "| pods scheduled | $sched of $SHARDS |"
echo "| shards completed | $succeeded of $SHARDS (indexes $indexes) |"
echo "| pods' containers started, from the shared start | $starts |"
echo "| shards' first requests, from the shared start | $spread |"
echo "| pods scraped on their prometheus.io port mid-run | $scraped of $SHARDS |"
echo "| headless Service endpoints | $endpoints |"
echo "| results on the --results-pvc volume, equal to the logs' | $pvc_same of $pvc |"
echo "| total requests (merged) | $merged (sum of shards $sum: $([ "$merged" = "$sum" ] && echo exact || echo MISMATCH)) |"
echo "| failures | $failures |"
echo "| pods' peak memory (cgroup) | $(($(sort -n "$S/mem.samples" | tail -1) >> 20)) MiB, limit $(grep -A1 'limits:' "$S/job.yaml" | grep -o '[0-9]*Mi' | head -1) |"
echo "| merged p95 | $p95 ms |"
echo "| 4 local shards (bench/shards/run.sh) | $local_req requests, p95 $local_p95 ms |"
echo "| cluster vs local requests | $diff % |"
echo "| default --cpu 1: pods unschedulable at first | $unschedulable of $SHARDS ($why) |"
echo "| default --cpu 1: shards collected, warned as late | $collected2, $late (requests: $late_req) |"
echo
ok=1
[ "$sched" = "$SHARDS" ] && [ "$succeeded" = "$SHARDS" ] || ok=0
[ "$merged" = "$sum" ] || ok=0
awk -v d="$diff" 'BEGIN{exit !(d <= 5 && d >= -5)}' || ok=0
[ "$late" = "$unschedulable" ] || ok=0 # collect names each shard whose pod had to wait
[ "$ok" = 1 ] && log "PASS" || { log "FAIL"; exit 1; }
